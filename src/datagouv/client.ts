/**
 * A small typed client for the data.gouv.fr (udata) API v1: one method per endpoint, an explicit
 * policy (base URL, key, timeout, retries, dispatcher) given to the constructor, every answer
 * validated by a zod schema. The key travels only in the `X-API-KEY` header, never in a URL, a
 * log line or an error, and never to another origin (redirects are followed for reads only, and
 * only within the instance's origin).
 */
import { Readable } from 'node:stream'
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici'
import type { z } from 'zod'
import { ApiError, NetworkError, ProtocolError, apiMessageOf, isRetryable } from './errors.js'
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, sleep, type RetryPolicy } from './retry.js'
import { DatasetSchema, ExtensionsSchema, ExtrasSchema, IdListSchema, ResourceSchema, type Dataset, type Resource } from './schemas.js'

export interface Logger {
  info(message: string): void
  debug(message: string): void
  warning(message: string): void
}

export const silentLogger: Logger = { info() {}, debug() {}, warning() {} }

export interface ClientOptions {
  /** Instance origin, with or without `/api/1` (e.g. `https://www.data.gouv.fr`). */
  apiUrl: string
  apiKey?: string | undefined
  /** Per request: time to wait for the answer's headers once the body is sent, and between body reads. */
  timeoutMs?: number
  retry?: Partial<RetryPolicy>
  /** Defaults to an agent that honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  dispatcher?: Dispatcher
  userAgent?: string
  logger?: Logger
}

export interface SendOptions {
  /** JSON body, sent with `Content-Type: application/json`. */
  json?: unknown
  /** A streamed body, built anew for every attempt, with its exact length. */
  body?: () => { stream: AsyncIterable<Uint8Array>; length: number; contentType: string }
  /** Statuses that count as success; others raise ApiError. */
  expect: readonly number[]
  headers?: Record<string, string>
  /** Full URL override (for the v2 API); otherwise `path` is relative to `/api/1`. */
  absolute?: boolean
  timeoutMs?: number
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

const MAX_REDIRECTS = 3

export class DatagouvClient {
  readonly origin: string
  readonly apiRoot: string
  readonly retry: RetryPolicy
  readonly logger: Logger
  private readonly apiKey: string | undefined
  private readonly timeoutMs: number
  /** Also used for requests to other hosts (remote URL checks), so they go through the same proxy settings. */
  readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean
  private readonly userAgent: string

  constructor(options: ClientOptions) {
    const { origin, apiRoot } = parseApiUrl(options.apiUrl)
    this.origin = origin
    this.apiRoot = apiRoot
    this.apiKey = options.apiKey === '' ? undefined : options.apiKey
    this.timeoutMs = options.timeoutMs ?? 300_000
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.ownsDispatcher = options.dispatcher === undefined
    this.dispatcher = options.dispatcher ?? new EnvHttpProxyAgent({ keepAliveTimeout: 10_000 })
    this.userAgent = options.userAgent ?? 'datagouv-publish'
    this.logger = options.logger ?? silentLogger
  }

  /** The text with the key replaced: a server may echo it in an error body or a Location. */
  redact(text: string): string {
    return this.apiKey === undefined ? text : text.split(this.apiKey).join('***')
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close()
  }

  /** GET the dataset by id or slug, following a slug redirect (reference §1). */
  async getDataset(idOrSlug: string): Promise<Dataset> {
    return this.getJson(`/datasets/${encodeURIComponent(idOrSlug)}/`, DatasetSchema)
  }

  /** Extensions the instance accepts for uploads (reference §9). */
  async getExtensions(): Promise<string[]> {
    return this.getJson('/datasets/extensions/', ExtensionsSchema)
  }

  /** Partial PUT of a resource's metadata (reference §6.1): only the given fields change. */
  async updateResource(datasetId: string, resourceId: string, patch: Record<string, unknown>): Promise<Resource> {
    const path = `/datasets/${datasetId}/resources/${resourceId}/`
    return this.withRetries(`PUT ${path}`, async () => {
      const answer = await this.send('PUT', path, { json: patch, expect: [200] })
      return this.parse(answer, ResourceSchema, 'PUT', path)
    })
  }

  /** Ids accepted for a dataset's `frequency` (reference §6.3). */
  async getFrequencies(): Promise<string[]> {
    return (await this.getJson('/datasets/frequencies/', IdListSchema)).map((f) => f.id)
  }

  /** Ids accepted for a dataset's `license` (reference §6.3). */
  async getLicenses(): Promise<string[]> {
    return (await this.getJson('/datasets/licenses/', IdListSchema)).map((l) => l.id)
  }

  /** Partial PUT of the dataset (reference §6.3); never carries `resources`. */
  async updateDataset(datasetId: string, patch: Record<string, unknown>): Promise<Dataset> {
    if ('resources' in patch) throw new Error('a dataset patch must never carry resources: it would replace the whole list')
    const path = `/datasets/${datasetId}/`
    return this.withRetries(`PUT ${path}`, async () => this.parse(await this.send('PUT', path, { json: patch, expect: [200] }), DatasetSchema, 'PUT', path))
  }

  /** Merges extras into the dataset's (v2, reference §6.5): `null` deletes a key; the modification date does not move. */
  async updateDatasetExtras(datasetId: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/extras/`, patch)
  }

  /** Merges extras into a resource's (v2, reference §6.5), keeping the analyser's keys. */
  async updateResourceExtras(datasetId: string, resourceId: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/resources/${resourceId}/extras/`, patch)
  }

  private async putV2Extras(path: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.withRetries(`PUT ${path}`, async () =>
      this.parse(await this.send('PUT', path, { json: patch, expect: [200], absolute: true }), ExtrasSchema, 'PUT', path),
    )
  }

  /**
   * Creates a remote resource (reference §6.2). Never repeated blindly: after a failure that may
   * hide a success, the dataset is read and a new remote resource with this URL is taken as the result.
   */
  async createRemoteResource(datasetId: string, body: Record<string, unknown> & { url: string }, knownIds: ReadonlySet<string>): Promise<Resource> {
    const path = `/datasets/${datasetId}/resources/`
    return this.withRetries(`POST ${path}`, async (attempt) => {
      if (attempt > 0) {
        const dataset = await this.getDataset(datasetId)
        const found = dataset.resources.find((r) => !knownIds.has(r.id) && r.filetype === 'remote' && r.url === body.url)
        if (found !== undefined) {
          this.logger.warning(`the server created the remote resource ${found.id} all the same; not creating it again`)
          return found
        }
      }
      return this.parse(await this.send('POST', path, { json: { filetype: 'remote', ...body }, expect: [201, 200] }), ResourceSchema, 'POST', path)
    })
  }

  /** Deletes a resource and its stored file (irreversible). A retry that finds it gone counts as done. */
  async deleteResource(datasetId: string, resourceId: string): Promise<void> {
    const path = `/datasets/${datasetId}/resources/${resourceId}/`
    await this.withRetries(`DELETE ${path}`, async (attempt) => {
      await this.send('DELETE', path, { expect: attempt > 0 ? [204, 200, 404] : [204, 200] })
    })
  }

  async getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.withRetries(`GET ${path}`, async () => {
      const answer = await this.send('GET', path, { expect: [200] })
      return this.parse(answer, schema, 'GET', path)
    })
  }

  parse<S extends z.ZodType>(answer: Answer, schema: S, method: string, path: string): z.infer<S> {
    let body: unknown
    try {
      body = JSON.parse(answer.text)
    } catch {
      throw new ProtocolError(`${method} ${path} answered ${answer.status} with a body that is not JSON: ${this.redact(answer.text).slice(0, 120)}`)
    }
    const result = schema.safeParse(body)
    if (!result.success) {
      const issue = result.error.issues[0]
      const where = issue?.path.join('.') || 'body'
      throw new ProtocolError(`${method} ${path} answered ${answer.status} with an unexpected shape at ${where}: ${issue?.message ?? 'invalid'}`)
    }
    return result.data
  }

  /**
   * Runs `fn` again on network errors, 408, 429 and 5xx, with backoff and jitter, honouring
   * `Retry-After`; any other error is thrown at once. Only for requests that are safe to repeat.
   */
  async withRetries<T>(label: string, fn: (attempt: number) => Promise<T>, retryable: (error: unknown) => boolean = isRetryable): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt)
      } catch (error) {
        if (attempt >= this.retry.maxRetries || !retryable(error)) throw error
        const delay = retryDelay(this.retry, attempt + 1, error instanceof ApiError ? error.retryAfterMs : undefined)
        this.logger.warning(
          `${error instanceof Error ? error.message : String(error)}; retry ${attempt + 1}/${this.retry.maxRetries} in ${(delay / 1000).toFixed(1)} s`,
        )
        await sleep(delay)
      }
    }
  }

  /** One request, no retry. Reads follow same-origin redirects; nothing else is followed. */
  async send(method: string, path: string, options: SendOptions): Promise<Answer> {
    let url = options.absolute === true ? new URL(path, this.origin) : new URL(this.apiRoot + path)
    for (let hop = 0; ; hop++) {
      const answer = await this.sendOnce(method, url, options)
      const location = answer.headers.location
      if (method === 'GET' && [301, 302, 303, 307, 308].includes(answer.status) && typeof location === 'string' && hop < MAX_REDIRECTS) {
        const next = new URL(location, url)
        if (next.origin !== this.origin) {
          throw new ApiError(method, displayPath(url), answer.status, `redirect to another origin (${next.origin}) refused: the API key is not sent there`)
        }
        this.logger.debug(`${method} ${displayPath(url)} redirected to ${this.redact(displayPath(next))}`)
        url = next
        continue
      }
      if (!options.expect.includes(answer.status)) {
        const retryAfter = answer.headers['retry-after']
        throw new ApiError(
          method,
          displayPath(url),
          answer.status,
          apiMessageOf(this.redact(answer.text)),
          parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined),
        )
      }
      return answer
    }
  }

  private async sendOnce(method: string, url: URL, options: SendOptions): Promise<Answer> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
      ...options.headers,
    }
    if (this.apiKey !== undefined) headers['x-api-key'] = this.apiKey
    let body: string | Readable | undefined
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] = 'application/json'
    } else if (options.body !== undefined) {
      const built = options.body()
      body = Readable.from(built.stream, { objectMode: false, highWaterMark: 1 << 20 })
      headers['content-type'] = built.contentType
      headers['content-length'] = String(built.length)
    }
    const timeout = options.timeoutMs ?? this.timeoutMs
    const started = Date.now()
    try {
      const response = await request(url, {
        method: method,
        headers,
        body: body ?? null,
        dispatcher: this.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
      const text = await response.body.text()
      this.logger.debug(`${method} ${displayPath(url)} -> ${response.statusCode} (${Date.now() - started} ms)`)
      return { status: response.statusCode, headers: response.headers, text }
    } catch (error) {
      throw new NetworkError(method, displayPath(url), error)
    }
  }
}

/** Path and query of a URL: what errors and logs show (the origin is known, the key is never in it). */
export function displayPath(url: URL): string {
  return url.pathname + url.search
}

/**
 * Accepts `https://host`, `https://host/`, `https://host/api/1` and `https://host/api/1/`; returns
 * the origin and the v1 root. Only http(s); plain http only to a loopback host (the key would
 * otherwise travel in clear).
 */
export function parseApiUrl(value: string): { origin: string; apiRoot: string } {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new Error(`not a URL: '${value}'`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`only https:// URLs are accepted, not ${url.protocol}`)
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `plain http:// is only accepted for a loopback host (localhost, 127.0.0.1, [::1]); use https:// for ${url.hostname}, the API key would travel in clear`,
    )
  }
  if (url.username !== '' || url.password !== '') throw new Error('credentials in the URL are not accepted; give the key in `api-key`')
  if (url.search !== '' || url.hash !== '') throw new Error('the URL must not have a query or a fragment')
  const path = url.pathname.replace(/\/+$/, '')
  if (path !== '' && path !== '/api/1')
    throw new Error(`the URL must be the instance origin (e.g. https://www.data.gouv.fr), optionally followed by /api/1, not ${url.pathname}`)
  return { origin: url.origin, apiRoot: `${url.origin}/api/1` }
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}
