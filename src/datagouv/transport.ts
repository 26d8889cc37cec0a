/**
 * The client's transport: one request to the data.gouv.fr API (`send`), its answer read whole and
 * checked against the statuses the caller accepts (`ApiError` otherwise), answers validated by a
 * zod schema (`parse`), and JSON calls through the one retry policy (`call`). The policy (base
 * URL, key, timeout, retries, http) is given to the constructor. The key travels only in
 * the `X-API-KEY` header, never in a URL, a log line or an error, and never to another origin:
 * redirects are followed for reads only, and only within the instance's origin.
 */
import type { z } from 'zod'
import { parseApiUrl } from './api-url.js'
import { ApiError, ProtocolError, apiMessageOf } from './errors.js'
import { NodeHttp, readText, type Http } from './http.js'
import { noAnswer } from './network.js'
import { Pause } from './pause.js'
import { proxyFor, type ProxyRoute } from './proxy.js'
import { DEFAULT_RETRY, parseRetryAfter, Retrier, type RetryPolicy } from './retry.js'

export interface Logger {
  info(message: string): void
  debug(message: string): void
  warning(message: string): void
}

const silentLogger: Logger = { info() {}, debug() {}, warning() {} }

export interface ClientOptions {
  /** Instance origin, with or without `/api/1` (e.g. `https://www.data.gouv.fr`). */
  apiUrl: string
  apiKey?: string | undefined
  /**
   * Per request: time to wait for the answer's headers once the body is sent, and between body
   * reads.
   */
  timeoutMs?: number
  retry?: Partial<RetryPolicy>
  /** Defaults to `new NodeHttp(env)` (http.ts). */
  http?: Http
  /** The caller's environment, where the default `http` reads the proxy variables. */
  env: Readonly<Record<string, string | undefined>>
  userAgent?: string
  logger?: Logger
}

/** A body streamed to the server, built anew for every attempt, with its exact length. */
export interface StreamedBody {
  stream: AsyncIterable<Uint8Array>
  length: number
  contentType: string
  /**
   * Called once the request was answered, when every byte of the body has left: its buffers may
   * serve another body (multipart.ts). Not called when the request failed.
   */
  release?: () => void
}

export interface SendOptions {
  /** JSON body, sent with `Content-Type: application/json`. */
  json?: unknown
  body?: () => StreamedBody
  /** Statuses that count as success; others raise ApiError. */
  expect: readonly number[]
  /** `path` is from the origin (`/api/2/…`); otherwise it is relative to `/api/1`. */
  absolute?: boolean
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

const MAX_REDIRECTS = 3

/** Per request, unless the caller gives another (the `timeout` input's default). */
export const DEFAULT_TIMEOUT_MS = 300_000

export class Transport {
  readonly origin: string
  readonly apiRoot: string
  /** The one retry policy: JSON calls here, creations in recovery.ts, upload requests. */
  readonly retrier: Retrier
  readonly logger: Logger
  private readonly apiKey: string | undefined
  /** Per request. */
  readonly timeoutMs: number
  /**
   * Also used for requests to other hosts (remote URL checks), so they go through the same proxy
   * settings.
   */
  readonly http: Http
  private readonly ownsHttp: boolean
  /** Sent on every request, URL checks included. */
  readonly userAgent: string
  /** The proxy the instance is reached through, for messages (unknown with a given `http`). */
  private readonly proxy: ProxyRoute | undefined
  /** A server's `Retry-After`: every new request to it waits until then. */
  private readonly pause: Pause

  constructor(options: ClientOptions) {
    const { origin, apiRoot } = parseApiUrl(options.apiUrl)
    this.origin = origin
    this.apiRoot = apiRoot
    this.apiKey = options.apiKey === '' ? undefined : options.apiKey
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.logger = options.logger ?? silentLogger
    this.retrier = new Retrier({ ...DEFAULT_RETRY, ...options.retry }, this.logger)
    this.ownsHttp = options.http === undefined
    this.http = options.http ?? new NodeHttp(options.env)
    this.proxy = this.ownsHttp ? proxyFor(options.env, new URL(origin)) : undefined
    this.userAgent = options.userAgent ?? 'datagouv-publish'
    this.pause = new Pause(this.retrier.ceilingMs, this.logger, new URL(origin).host)
  }

  /** The text with the key replaced: a server may echo it in an error body or a Location. */
  redact(text: string): string {
    return this.apiKey === undefined ? text : text.split(this.apiKey).join('***')
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close()
  }

  /** One JSON call through the retry policy: sent again only on what the policy retries. */
  async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: { json?: unknown; absolute?: boolean } = {},
  ): Promise<z.infer<S>> {
    return this.retrier.run({
      label: `${method} ${this.display(path, options.absolute)}`,
      send: async () => {
        const answer = await this.send(method, path, { ...options, expect: [200] })
        return this.parse(answer, schema, method, path, options.absolute)
      },
    })
  }

  /**
   * The request as messages show it: the instance's origin and the path from it
   * (`https://demo.data.gouv.fr/api/1/…`), so that www, demo and dev read apart.
   */
  display(path: string, absolute = false): string {
    return shown(absolute ? new URL(path, this.origin) : new URL(this.apiRoot + path))
  }

  parse<S extends z.ZodType>(
    answer: Answer,
    schema: S,
    method: string,
    path: string,
    absolute = false,
  ): z.infer<S> {
    const where = `${method} ${this.display(path, absolute)}`
    let body: unknown
    try {
      body = JSON.parse(answer.text)
    } catch {
      throw new ProtocolError(
        `${where} answered ${answer.status} with a body that is not JSON: ${apiMessageOf(this.redact(answer.text)).slice(0, 120)}`,
      )
    }
    const result = schema.safeParse(body)
    if (!result.success) {
      const issue = result.error.issues[0]
      const at = issue?.path.join('.') || 'body'
      throw new ProtocolError(
        `${where} answered ${answer.status} with an unexpected shape at ${at}: ${issue?.message ?? 'invalid'}`,
      )
    }
    return result.data
  }

  /** One request, no retry. Reads follow same-origin redirects; nothing else is followed. */
  async send(method: string, path: string, options: SendOptions): Promise<Answer> {
    let url = options.absolute === true ? new URL(path, this.origin) : new URL(this.apiRoot + path)
    for (let hop = 0; ; hop++) {
      const answer = await this.sendOnce(method, url, options)
      const location = answer.headers.location
      if (
        method === 'GET' &&
        [301, 302, 303, 307, 308].includes(answer.status) &&
        typeof location === 'string' &&
        hop < MAX_REDIRECTS
      ) {
        url = this.redirect(method, url, answer.status, location)
        continue
      }
      if (!options.expect.includes(answer.status)) {
        const header = answer.headers['retry-after']
        const retryAfter = parseRetryAfter(typeof header === 'string' ? header : undefined)
        // A server that asks to wait is waited for by every request, not only this one.
        if (retryAfter !== undefined && (answer.status === 429 || answer.status === 503))
          this.pause.until(retryAfter, `${method} ${shown(url)} answered ${answer.status}`)
        throw new ApiError(
          method,
          shown(url),
          answer.status,
          apiMessageOf(this.redact(answer.text)),
          retryAfter,
        )
      }
      return answer
    }
  }

  /** Where a redirect leads, if it stays within the instance's origin. */
  private redirect(method: string, url: URL, status: number, location: string): URL {
    const next = new URL(location, url)
    if (next.origin !== this.origin) {
      throw new ApiError(
        method,
        shown(url),
        status,
        `redirect to another origin (${next.origin}) refused: the API key is not sent there`,
      )
    }
    this.logger.debug(
      `${method} ${displayPath(url)} redirected to ${this.redact(displayPath(next))}`,
    )
    return next
  }

  private async sendOnce(method: string, url: URL, options: SendOptions): Promise<Answer> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
    }
    if (this.apiKey !== undefined) headers['x-api-key'] = this.apiKey
    let body: string | AsyncIterable<Uint8Array> | undefined
    let release: (() => void) | undefined
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] = 'application/json'
    } else if (options.body !== undefined) {
      // The generator itself, pulled at the socket's pace (http.ts): multipart.ts reuses its
      // buffers.
      const built = options.body()
      body = built.stream
      release = built.release
      headers['content-type'] = built.contentType
      headers['content-length'] = String(built.length)
    }
    await this.pause.wait()
    const started = Date.now()
    try {
      const response = await this.http.request({
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: this.timeoutMs,
      })
      const text = await readText(response.body)
      release?.()
      this.logger.debug(
        `${method} ${displayPath(url)} -> ${response.statusCode} (${Date.now() - started} ms)`,
      )
      return { status: response.statusCode, headers: response.headers, text }
    } catch (error) {
      throw noAnswer(method, url, error, this.proxy)
    }
  }
}

/** Path and query of a URL: what the debug log shows of each request. */
function displayPath(url: URL): string {
  return url.pathname + url.search
}

/** Origin, path and query: what errors show (the key is never in a URL). */
function shown(url: URL): string {
  return url.origin + displayPath(url)
}
