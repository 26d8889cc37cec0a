/**
 * A small typed client for the data.gouv.fr (udata) API v1: one method per endpoint, an explicit
 * policy (base URL, key, timeout, retries, dispatcher) given to the constructor, every answer
 * validated by a zod schema. The key travels only in the `X-API-KEY` header, never in a URL, a
 * log line or an error, and never to another origin (redirects are followed for reads only, and
 * only within the instance's origin).
 */
import type { Readable } from 'node:stream'
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici'
import { z } from 'zod'
import { datasetPutBody } from './dataset-form.js'
import { ApiError, NetworkError, ProtocolError, apiMessageOf } from './errors.js'
import {
  DEFAULT_RETRY,
  parseRetryAfter,
  Retrier,
  type Attempts,
  type RetryPolicy,
} from './retry.js'
import {
  DatasetSchema,
  ExtensionsSchema,
  ExtrasSchema,
  IdListSchema,
  MeSchema,
  PageSchema,
  ResourceSchema,
  type Dataset,
  type Me,
  type Resource,
} from './schemas.js'

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
  /**
   * Per request: time to wait for the answer's headers once the body is sent, and between body
   * reads.
   */
  timeoutMs?: number
  retry?: Partial<RetryPolicy>
  /** Defaults to `proxyAgent(env)`. */
  dispatcher?: Dispatcher
  /** The caller's environment, where the default dispatcher reads the proxy variables. */
  env: Readonly<Record<string, string | undefined>>
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

/**
 * An agent that honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl does (the lower-case name
 * first), read from `env` once. Not undici's default, which reads the process's: only the entry
 * points read the process, and a run in a test keeps an environment of its own.
 */
function proxyAgent(env: Readonly<Record<string, string | undefined>>): Dispatcher {
  const variable = (name: string): string => env[name] ?? env[name.toUpperCase()] ?? ''
  return new EnvHttpProxyAgent({
    keepAliveTimeout: 10_000,
    httpProxy: variable('http_proxy'),
    httpsProxy: variable('https_proxy'),
    noProxy: variable('no_proxy'),
  })
}

/** Per request, unless the caller gives another (the `timeout` input's default). */
export const DEFAULT_TIMEOUT_MS = 300_000

export class DatagouvClient {
  readonly origin: string
  readonly apiRoot: string
  /** The one retry policy: JSON calls here, upload requests in upload.ts. */
  readonly retrier: Retrier
  readonly logger: Logger
  private readonly apiKey: string | undefined
  /** Per request, unless a call gives its own. */
  readonly timeoutMs: number
  /**
   * Also used for requests to other hosts (remote URL checks), so they go through the same proxy
   * settings.
   */
  readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean
  /** Sent on every request, URL checks included. */
  readonly userAgent: string

  constructor(options: ClientOptions) {
    const { origin, apiRoot } = parseApiUrl(options.apiUrl)
    this.origin = origin
    this.apiRoot = apiRoot
    this.apiKey = options.apiKey === '' ? undefined : options.apiKey
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.logger = options.logger ?? silentLogger
    this.retrier = new Retrier({ ...DEFAULT_RETRY, ...options.retry }, this.logger)
    this.ownsDispatcher = options.dispatcher === undefined
    this.dispatcher = options.dispatcher ?? proxyAgent(options.env)
    this.userAgent = options.userAgent ?? 'datagouv-publish'
  }

  /** The text with the key replaced: a server may echo it in an error body or a Location. */
  redact(text: string): string {
    return this.apiKey === undefined ? text : text.split(this.apiKey).join('***')
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close()
  }

  /** GET the dataset by id or slug, following a slug redirect (docs/udata-protocol.md §1). */
  async getDataset(idOrSlug: string): Promise<Dataset> {
    return this.getJson(`/datasets/${encodeURIComponent(idOrSlug)}/`, DatasetSchema)
  }

  /** Extensions the instance accepts for uploads (docs/udata-protocol.md §9). */
  async getExtensions(): Promise<string[]> {
    return this.getJson('/datasets/extensions/', ExtensionsSchema)
  }

  /**
   * Partial PUT of a resource's metadata (docs/udata-protocol.md §6.1): only the given fields
   * change.
   */
  async updateResource(
    datasetId: string,
    resourceId: string,
    patch: Record<string, unknown>,
  ): Promise<Resource> {
    return this.call('PUT', `/datasets/${datasetId}/resources/${resourceId}/`, ResourceSchema, {
      json: patch,
    })
  }

  /** Ids accepted for a dataset's `frequency` (docs/udata-protocol.md §6.3). */
  async getFrequencies(): Promise<string[]> {
    return (await this.getJson('/datasets/frequencies/', IdListSchema)).map((f) => f.id)
  }

  /** Ids accepted for a dataset's `license` (docs/udata-protocol.md §6.3). */
  async getLicenses(): Promise<string[]> {
    return (await this.getJson('/datasets/licenses/', IdListSchema)).map((l) => l.id)
  }

  /**
   * Changes the fields of `patch` and no other: read, merge, write (`datasetPutBody`: udata resets
   * some fields a PUT leaves out, docs/udata-protocol.md §6.3). Never carries `resources`.
   */
  async updateDataset(datasetId: string, patch: Record<string, unknown>): Promise<Dataset> {
    const body = datasetPutBody(await this.getDataset(datasetId), patch)
    return this.call('PUT', `/datasets/${datasetId}/`, DatasetSchema, { json: body })
  }

  /**
   * Reorders the dataset's resources (docs/udata-protocol.md §6.4): `ids` must list every one of
   * them; the dataset's modification date does not move.
   */
  async reorderResources(datasetId: string, ids: readonly string[]): Promise<Resource[]> {
    return this.call('PUT', `/datasets/${datasetId}/resources/`, z.array(ResourceSchema), {
      json: ids.map((id) => ({ id })),
    })
  }

  /**
   * Creates a dataset (docs/udata-protocol.md §6.3 for its fields). Not repeated blindly: after a
   * failure that may hide a success, the slug is read and a dataset the key's owner can edit
   * with that slug is taken as the result.
   */
  async createDataset(body: Record<string, unknown>, slug: string): Promise<Dataset> {
    const path = '/datasets/'
    return this.retrier.run({
      label: `POST ${this.display(path)}`,
      send: async (attempt) => {
        if (attempt > 0) {
          const found = await this.getDataset(slug).catch(() => undefined)
          if (found !== undefined && found.permissions?.edit !== false) return found
        }
        const answer = await this.send('POST', path, { json: body, expect: [201, 200] })
        return this.parse(answer, DatasetSchema, 'POST', path)
      },
    })
  }

  /**
   * Merges extras into the dataset's (v2, docs/udata-protocol.md §6.5): `null` deletes a key; the
   * modification date does not move.
   */
  async updateDatasetExtras(
    datasetId: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/extras/`, patch)
  }

  /**
   * Merges extras into a resource's (v2, docs/udata-protocol.md §6.5), keeping the analyser's keys.
   */
  async updateResourceExtras(
    datasetId: string,
    resourceId: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/resources/${resourceId}/extras/`, patch)
  }

  private async putV2Extras(
    path: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.call('PUT', path, ExtrasSchema, { json: patch, absolute: true })
  }

  /**
   * Creates a remote resource (docs/udata-protocol.md §6.2). Never repeated blindly: after a
   * failure that may
   * hide a success, the dataset is read, and a remote resource with this URL that `isNew` accepts
   * (the run knows which resources it did not see before) is taken as the result.
   */
  async createRemoteResource(
    datasetId: string,
    body: Record<string, unknown> & { url: string },
    isNew: (resource: Resource) => boolean,
  ): Promise<Resource> {
    const path = `/datasets/${datasetId}/resources/`
    return this.retrier.run({
      label: `POST ${this.display(path)}`,
      send: async (attempt) => {
        if (attempt > 0) {
          const dataset = await this.getDataset(datasetId)
          const found = dataset.resources.find(
            (r) => isNew(r) && r.filetype === 'remote' && r.url === body.url,
          )
          if (found !== undefined) {
            this.logger.warning(
              `the server created the remote resource ${found.id} all the same; not creating it ` +
                `again`,
            )
            return found
          }
        }
        const answer = await this.send('POST', path, {
          json: { filetype: 'remote', ...body },
          expect: [201, 200],
        })
        return this.parse(answer, ResourceSchema, 'POST', path)
      },
    })
  }

  /**
   * The key's owner (`GET /me/`): whose community resources are published, and, on servers that
   * do not answer a dataset's `permissions`, what the key may edit.
   */
  async getMe(): Promise<Me> {
    return this.getJson('/me/', MeSchema)
  }

  /**
   * Community resources of `ownerId` on the dataset, every page (udata's `{data, next_page}`
   * pages).
   */
  async listCommunityResources(datasetId: string, ownerId: string): Promise<Resource[]> {
    const all: Resource[] = []
    const query = new URLSearchParams({ dataset: datasetId, owner: ownerId, page_size: '100' })
    for (let page = 1; ; page++) {
      query.set('page', String(page))
      const answer = await this.getJson(
        `/datasets/community_resources/?${query.toString()}`,
        PageSchema,
      )
      all.push(...answer.data)
      if (answer.next_page === null || answer.next_page === undefined || answer.data.length === 0)
        return all
    }
  }

  async getCommunityResource(id: string): Promise<Resource> {
    return this.getJson(`/datasets/community_resources/${id}/`, ResourceSchema)
  }

  /** Partial PUT of a community resource (as a resource's, docs/udata-protocol.md §6.1). */
  async updateCommunityResource(id: string, patch: Record<string, unknown>): Promise<Resource> {
    return this.call('PUT', `/datasets/community_resources/${id}/`, ResourceSchema, { json: patch })
  }

  /**
   * A remote community resource; after a failure that may hide a success, looked for before any
   * re-send.
   */
  async createRemoteCommunityResource(
    datasetId: string,
    body: Record<string, unknown> & { url: string },
    isNew: (resource: Resource) => boolean,
  ): Promise<Resource> {
    const path = '/datasets/community_resources/'
    return this.retrier.run({
      label: `POST ${this.display(path)}`,
      send: async (attempt) => {
        if (attempt > 0) {
          const me = await this.getMe()
          const found = (await this.listCommunityResources(datasetId, me.id)).find(
            (r) => isNew(r) && r.url === body.url,
          )
          if (found !== undefined) return found
        }
        const json = { filetype: 'remote', ...body, dataset: { id: datasetId } }
        return this.parse(
          await this.send('POST', path, { json, expect: [201, 200] }),
          ResourceSchema,
          'POST',
          path,
        )
      },
    })
  }

  async deleteCommunityResource(id: string): Promise<void> {
    const path = `/datasets/community_resources/${id}/`
    await this.retrier.run({
      label: `DELETE ${this.display(path)}`,
      send: async (attempt) => {
        await this.send('DELETE', path, { expect: attempt > 0 ? [204, 200, 404] : [204, 200] })
      },
    })
  }

  /**
   * Deletes a resource and its stored file (irreversible). A retry that finds it gone counts as
   * done.
   */
  async deleteResource(datasetId: string, resourceId: string): Promise<void> {
    const path = `/datasets/${datasetId}/resources/${resourceId}/`
    await this.retrier.run({
      label: `DELETE ${this.display(path)}`,
      send: async (attempt) => {
        await this.send('DELETE', path, { expect: attempt > 0 ? [204, 200, 404] : [204, 200] })
      },
    })
  }

  async getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.call('GET', path, schema, {})
  }

  /** One JSON call through the retry policy: sent again only on what the policy retries. */
  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: { json?: unknown; absolute?: boolean },
  ): Promise<z.infer<S>> {
    const attempts: Attempts<z.infer<S>> = {
      label: `${method} ${this.display(path, options.absolute)}`,
      send: async () => {
        const answer = await this.send(method, path, { ...options, expect: [200] })
        return this.parse(answer, schema, method, path, options.absolute)
      },
    }
    return this.retrier.run(attempts)
  }

  /** The path as messages show it: from the origin (`/api/1/…`), like every other message. */
  display(path: string, absolute = false): string {
    return absolute ? path : displayPath(new URL(this.apiRoot + path))
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
        const next = new URL(location, url)
        if (next.origin !== this.origin) {
          throw new ApiError(
            method,
            displayPath(url),
            answer.status,
            `redirect to another origin (${next.origin}) refused: the API key is not sent there`,
          )
        }
        this.logger.debug(
          `${method} ${displayPath(url)} redirected to ${this.redact(displayPath(next))}`,
        )
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
    let body: string | AsyncIterable<Uint8Array> | undefined
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] = 'application/json'
    } else if (options.body !== undefined) {
      // The generator itself, not a stream around it: nothing may read ahead of the socket
      // (upload.ts reuses its buffers).
      const built = options.body()
      body = built.stream
      headers['content-type'] = built.contentType
      headers['content-length'] = String(built.length)
    }
    const timeout = options.timeoutMs ?? this.timeoutMs
    const started = Date.now()
    try {
      const response = await request(url, {
        method,
        headers,
        // undici writes an async iterable chunk by chunk (client-h1 `writeIterable`); its request()
        // typings list only streams and buffers.
        body: (body ?? null) as string | Readable | null,
        dispatcher: this.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
      const text = await response.body.text()
      this.logger.debug(
        `${method} ${displayPath(url)} -> ${response.statusCode} (${Date.now() - started} ms)`,
      )
      return { status: response.statusCode, headers: response.headers, text }
    } catch (error) {
      throw new NetworkError(method, displayPath(url), error)
    }
  }
}

/**
 * Path and query of a URL: what errors and logs show (the origin is known, the key is never in it).
 */
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
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`only https:// URLs are accepted, not ${url.protocol}`)
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `plain http:// is only accepted for a loopback host (localhost, 127.0.0.1, [::1]); use https:// ` +
        `for ${url.hostname}, the API key would travel in clear`,
    )
  }
  if (url.username !== '' || url.password !== '')
    throw new Error('credentials in the URL are not accepted; give the key in `api-key`')
  if (url.search !== '' || url.hash !== '')
    throw new Error('the URL must not have a query or a fragment')
  const path = url.pathname.replace(/\/+$/, '')
  if (path !== '' && path !== '/api/1')
    throw new Error(
      `the URL must be the instance origin (e.g. https://www.data.gouv.fr), optionally followed ` +
        `by /api/1, not ${url.pathname}`,
    )
  return { origin: url.origin, apiRoot: `${url.origin}/api/1` }
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  )
}
