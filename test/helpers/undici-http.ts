/**
 * An undici dispatcher (a MockAgent standing for remote sites, an Agent that records or breaks
 * requests) as the `Http` a run sends every request through: the tests keep undici's tools for
 * intercepting requests, while the action itself sends with Node's http (src/datagouv/http.ts).
 * undici's timeouts keep their meaning: no answer after the body, an answer that stopped.
 */
import type { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { HttpTimeoutError, type Http } from '../../src/datagouv/http.js'

export function httpThrough(dispatcher: Dispatcher): Http {
  return {
    async request(options) {
      try {
        const response = await request(options.url, {
          method: options.method,
          headers: options.headers,
          // undici writes an async iterable chunk by chunk; its typings list streams and buffers.
          body: (options.body ?? null) as string | Readable | null,
          dispatcher,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        })
        return { statusCode: response.statusCode, headers: response.headers, body: response.body }
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (code === 'UND_ERR_HEADERS_TIMEOUT')
          throw new HttpTimeoutError('headers', options.timeoutMs)
        if (code === 'UND_ERR_BODY_TIMEOUT') throw new HttpTimeoutError('body', options.timeoutMs)
        throw error
      }
    },
    async close() {
      // the dispatcher's owner (the test) closes it
    },
  }
}
