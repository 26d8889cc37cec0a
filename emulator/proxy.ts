import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'

import type { Storage } from './storage.js'
import type { FaultRule } from './types.js'

/**
 * What the reverse proxy in front of udata does (nginx on data.gouv.fr), as fault rules ask:
 * refuse a body over `client_max_body_size`, and buffer a request body before forwarding it.
 */

/** nginx's own page for `client_max_body_size` (CRLF line ends, as nginx sends it). */
export const NGINX_413 =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'

/** How long nginx keeps reading a refused body so that the client reads the answer (`lingering_time`). */
const LINGERING_MS = 30_000

/**
 * Answer 413 now, then read and discard the rest of the body before closing, as nginx's
 * lingering close does: a client still sending is not reset before it can read the answer.
 */
async function refuse(res: ServerResponse, body: Readable): Promise<void> {
  const page = Buffer.from(NGINX_413)
  res.writeHead(413, {
    'content-type': 'text/html',
    'content-length': String(page.length),
    connection: 'close',
  })
  res.write(page) // the whole answer; `end()`, which closes the connection, waits for the body
  await new Promise<void>((done) => {
    const timer = setTimeout(done, LINGERING_MS)
    const stop = (): void => {
      clearTimeout(timer)
      done()
    }
    body.once('end', stop)
    body.once('close', stop)
    body.once('error', stop)
    body.resume()
  })
  res.end()
}

type Buffered = { kind: 'body'; path: string } | { kind: 'tooLarge' } | { kind: 'aborted' }

/**
 * Receive the whole body into a temporary file, as nginx's request buffering does before
 * forwarding. Past `limit` bytes it stops (the rest is left for `refuse` to discard); a client
 * that leaves before the end means nothing is forwarded.
 */
function bufferBody(body: Readable, path: string, limit: number | undefined): Promise<Buffered> {
  const file = createWriteStream(path)
  return new Promise((resolve) => {
    let received = 0
    let settled = false
    const settle = (result: Buffered): void => {
      if (settled) return
      settled = true
      body.off('data', onData)
      body.pause()
      file.end(() => {
        if (result.kind === 'body') resolve(result)
        else
          rm(path, { force: true }).then(
            () => resolve(result),
            () => resolve(result),
          )
      })
    }
    const onData = (chunk: Buffer): void => {
      received += chunk.length
      if (limit !== undefined && received > limit) return settle({ kind: 'tooLarge' })
      if (!file.write(chunk)) {
        body.pause()
        file.once('drain', () => settled || body.resume())
      }
    }
    body.on('data', onData)
    body.once('end', () => settle({ kind: 'body', path }))
    body.once('error', () => settle({ kind: 'aborted' }))
    body.once('close', () =>
      settle(body.readableEnded ? { kind: 'body', path } : { kind: 'aborted' }),
    )
  })
}

/** The buffered body, read once by the application, removed when read (or abandoned). */
function bufferedStream(path: string): Readable {
  const stream = createReadStream(path)
  stream.once('close', () => void rm(path, { force: true }))
  return stream
}

function announcedLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length']
  return raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : undefined
}

/**
 * Apply the proxy side of a fault rule. Returns the body the application is to read, or
 * undefined when the proxy dealt with the request itself (413, or a client gone while sending).
 * Buffering happens for `maxBodyBytes` without a Content-Length, and for `delayMs` or `hold` on a
 * request that is to be handled, so that handling does not depend on the client staying connected.
 */
export async function throughProxy(
  rule: FaultRule,
  req: IncomingMessage,
  res: ServerResponse,
  body: Readable,
  storage: Storage,
  finish: (status: number) => void,
): Promise<Readable | undefined> {
  const length = announcedLength(req)
  const limit = rule.maxBodyBytes
  if (limit !== undefined && length !== undefined && length > limit) {
    finish(413)
    await refuse(res, body)
    return undefined
  }
  const handled = rule.status === undefined && rule.dropAfterBytes === undefined
  const chunkedLimit = limit !== undefined && length === undefined ? limit : undefined
  const waits = rule.delayMs !== undefined || rule.hold === true
  if (chunkedLimit === undefined && !(waits && handled)) return body
  const buffered = await bufferBody(body, storage.tmpPath(), chunkedLimit)
  if (buffered.kind === 'body') return bufferedStream(buffered.path)
  if (buffered.kind === 'aborted') finish(0)
  else {
    finish(413)
    await refuse(res, body)
  }
  return undefined
}
