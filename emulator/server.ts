import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { DEFAULT_EXTENSIONS, MESSAGES, WERKZEUG } from './constants.js'
import type { Env } from './env.js'
import {
  HttpError,
  abort,
  applyFieldMask,
  empty,
  header,
  isPlainObject,
  parseFieldMask,
  prefersHtml,
  readBody,
  type Reply,
  type RequestContext,
} from './http.js'
import { renderDataset } from './render.js'
import { matchRoute, replaceDatasetSegment } from './router.js'
import { serveStatic } from './static.js'
import { Storage } from './storage.js'
import { Store } from './store.js'
import type { DatasetSeed, DatasetState, FaultRule, FileResourceSeed, RecordedRequest, RemoteResourceSeed, ResourceState } from './types.js'

export type {
  Checksum,
  DatasetSeed,
  DatasetState,
  FaultRule,
  FileResourceSeed,
  FileType,
  RecordedRequest,
  RemoteResourceSeed,
  ResourceState,
  ResourceType,
  SchemaRef,
  SeedResource,
  UserState,
} from './types.js'
export { DEFAULT_EXTENSIONS, UDATA_DEFAULT_EXTENSIONS } from './constants.js'

export interface EmulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string
  /** Default 0 (ephemeral). */
  port?: number
  /** Stored files and chunk parts; default a fresh temporary folder, removed by `close()`. */
  dataDir?: string
  /** Allowed extensions; default udata's list (reference §9) plus `parquet`. */
  extensions?: string[]
  /**
   * Default true: storing the same normalised name in the same dataset within the same second is
   * flask-storage's `FileExists` → 500 (reference §3.2 step 5). False: a suffixed folder is used.
   */
  sameSecondConflict?: boolean
  /**
   * `current` (default): udata v17.6+. `legacy`: chunks combined without extension check and
   * deleted while copied, only `url` protected on hosted resources, bad key = `Invalid API Key`.
   */
  version?: 'current' | 'legacy'
  /** Called once per API request, when it has been answered (or dropped). */
  onRequest?: (request: RecordedRequest) => void
}

export interface Emulator {
  /** Origin, e.g. `http://127.0.0.1:40123` (no `/api/1`). */
  readonly url: string
  readonly dataDir: string
  close(): Promise<void>
  addUser(opts?: { id?: string; apiKey?: string; active?: boolean }): { id: string; apiKey: string }
  addDataset(opts: DatasetSeed): DatasetState
  addFileResource(datasetId: string, opts: FileResourceSeed): ResourceState
  addRemoteResource(datasetId: string, opts: RemoteResourceSeed): ResourceState
  /** By id or current slug. */
  getDataset(idOrSlug: string): DatasetState | undefined
  getResource(datasetId: string, rid: string): ResourceState | undefined
  /** Path on disk of the resource's current stored file. */
  storedFilePath(datasetId: string, rid: string): string | undefined
  /** Every API / static request received, in arrival order (admin requests excluded). */
  readonly requests: RecordedRequest[]
  resetRequests(): void
  /** Fault rules, applied in order; push to add. */
  readonly faults: FaultRule[]
}

const ADMIN_PREFIX = '/__emulator/'

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

function recordHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value
  return headers
}

/** Read whatever is left of a body so that the answer is sent after the whole request, as behind a proxy. */
function drain(body: Readable): Promise<void> {
  return new Promise((resolveDrain) => {
    if (body.readableEnded || body.destroyed) {
      resolveDrain()
      return
    }
    const done = (): void => resolveDrain()
    body.once('end', done)
    body.once('close', done)
    body.once('error', done)
    body.resume()
  })
}

function describeFault(rule: FaultRule): string {
  const parts: string[] = []
  if (rule.delayMs !== undefined) parts.push(`delayMs:${rule.delayMs}`)
  if (rule.dropAfterBytes !== undefined) parts.push(`dropAfterBytes:${rule.dropAfterBytes}`)
  else if (rule.status !== undefined) parts.push(`status:${rule.status}`)
  else if (rule.loseResponse === true) parts.push('loseResponse')
  if (rule.answerDelayMs !== undefined && rule.dropAfterBytes === undefined && rule.status === undefined) parts.push(`answerDelayMs:${rule.answerDelayMs}`)
  return parts.join(',') || 'none'
}

const FAULT_KEYS: Readonly<Record<keyof FaultRule, 'string' | 'number' | 'boolean' | 'headers' | 'unknown'>> = {
  method: 'string',
  path: 'string',
  nth: 'number',
  times: 'number',
  status: 'number',
  body: 'unknown',
  retryAfter: 'string',
  headers: 'headers',
  dropAfterBytes: 'number',
  delayMs: 'number',
  loseResponse: 'boolean',
  answerDelayMs: 'number',
}

/** Validate a fault rule received by `POST /__emulator/faults`. */
export function parseFaultRule(value: unknown): FaultRule {
  if (!isPlainObject(value)) throw new Error('a fault rule must be an object')
  for (const [key, item] of Object.entries(value)) {
    const expected = FAULT_KEYS[key as keyof FaultRule]
    if (expected === undefined) throw new Error(`unknown fault rule key "${key}"`)
    if (expected === 'headers') {
      if (!isPlainObject(item) || Object.values(item).some((v) => typeof v !== 'string'))
        throw new Error(`fault rule key "${key}" must map header names to strings`)
    } else if (expected !== 'unknown' && typeof item !== expected) throw new Error(`fault rule key "${key}" must be a ${expected}`)
  }
  if (typeof value['path'] === 'string') new RegExp(value['path'])
  return value
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const ownDir = opts.dataDir === undefined
  const dataDir = resolve(opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'udata-emulator-'))))
  const storage = new Storage(dataDir)
  const extensions = new Set((opts.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, '')))
  let origin = ''
  const store = new Store(storage, () => origin, extensions)
  const env: Env = {
    store,
    storage,
    origin: () => origin,
    extensions,
    sameSecondConflict: opts.sameSecondConflict ?? true,
    legacy: opts.version === 'legacy',
  }
  const requests: RecordedRequest[] = []
  const faults: FaultRule[] = []
  const faultCounts = new WeakMap<FaultRule, number>()
  const regexes = new Map<string, RegExp>()

  function pickFault(method: string, pathname: string, pathWithQuery: string): FaultRule | undefined {
    let chosen: FaultRule | undefined
    for (const rule of faults) {
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue
      if (rule.path !== undefined) {
        let regex = regexes.get(rule.path)
        if (regex === undefined) regexes.set(rule.path, (regex = new RegExp(rule.path)))
        if (!regex.test(pathname) && !regex.test(pathWithQuery)) continue
      }
      const count = (faultCounts.get(rule) ?? 0) + 1
      faultCounts.set(rule, count)
      if (chosen !== undefined) continue
      const applies = rule.nth !== undefined ? count === rule.nth : rule.times !== undefined ? count <= rule.times : true
      if (applies) chosen = rule
    }
    return chosen
  }

  function authenticate(ctx: RequestContext): void {
    const key = header(ctx.headers, 'x-api-key')
    if (key === undefined || key === '') return
    const user = store.userByKey(key)
    if (user === undefined) throw abort(401, env.legacy ? MESSAGES.invalidKeyLegacy : MESSAGES.invalidToken)
    if (!user.active) throw abort(401, MESSAGES.inactiveUser)
    ctx.user = user
  }

  async function dispatch(ctx: RequestContext, search: string): Promise<Reply> {
    if (ctx.pathname.startsWith('/static/')) return serveStatic(ctx, env)
    const match = matchRoute(ctx.pathname)
    if (match.kind === 'none') throw new HttpError(404, { error: WERKZEUG.notFound, status: 404 }) // app-level `page_not_found`
    if (match.kind === 'slash') return empty(308, { location: `${origin}${ctx.pathname}/${search}` })
    const allowed = Object.keys(match.methods)
    if (allowed.includes('GET')) allowed.push('HEAD')
    allowed.push('OPTIONS')
    if (ctx.method === 'OPTIONS') return empty(200, { allow: allowed.sort().join(', ') })
    const handler = match.methods[ctx.method === 'HEAD' ? 'GET' : ctx.method]
    if (handler === undefined) throw abort(405, WERKZEUG.methodNotAllowed, { allow: allowed.sort().join(', ') })
    if (match.dataset !== undefined) {
      // `DatasetConverter` + `lazy_raise_or_redirect`: before the view, hence before authentication.
      const resolved = store.resolveDataset(match.dataset)
      if (resolved === undefined) throw abort(404, WERKZEUG.notFound)
      if (resolved.redirect) {
        return empty(308, { location: replaceDatasetSegment(ctx.pathname, match.dataset, resolved.dataset.slug) + search })
      }
      ctx.dataset = resolved.dataset
    }
    ctx.rid = match.rid
    authenticate(ctx)
    const reply = await handler(ctx, env)
    const fieldsHeader = header(ctx.headers, 'x-fields')
    if (reply.kind === 'json' && reply.masked === true && reply.status < 300 && fieldsHeader !== undefined && fieldsHeader.trim() !== '') {
      let mask
      try {
        mask = parseFieldMask(fieldsHeader)
      } catch (error) {
        throw abort(400, `Mask parse error: ${(error as Error).message}`)
      }
      return { ...reply, body: applyFieldMask(reply.body, mask) }
    }
    return reply
  }

  function errorReply(error: unknown, ctx: RequestContext): Reply {
    let reply: Reply
    if (error instanceof HttpError) {
      reply = { kind: 'json', status: error.status, body: error.body, headers: { ...error.headers } }
    } else {
      process.stderr.write(`udata emulator: unhandled error on ${ctx.method} ${ctx.pathname}: ${String((error as Error)?.stack ?? error)}\n`)
      reply = { kind: 'json', status: 500, body: { message: WERKZEUG.internal }, headers: {} }
    }
    if (reply.status === 401) reply.headers = { ...reply.headers, 'www-authenticate': 'Bearer realm="uData"' }
    if (reply.status === 404 && prefersHtml(ctx.headers)) {
      reply = { kind: 'text', status: 404, contentType: 'text/html; charset=utf-8', body: '<!doctype html><title>404 Not Found</title><h1>Not Found</h1>\n' }
    }
    return reply
  }

  function write(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) }
    switch (reply.kind) {
      case 'json': {
        const body = Buffer.from(`${JSON.stringify(reply.body)}\n`)
        res.writeHead(reply.status, { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) })
        res.end(body)
        return
      }
      case 'text': {
        const body = Buffer.from(reply.body)
        res.writeHead(reply.status, { ...headers, 'content-type': reply.contentType, 'content-length': String(body.length) })
        res.end(body)
        return
      }
      case 'empty':
        res.writeHead(reply.status, { ...headers, 'content-length': '0' })
        res.end()
        return
      case 'file': {
        const length = reply.end >= reply.start ? reply.end - reply.start + 1 : 0
        res.writeHead(reply.status, { ...headers, 'content-length': String(length) })
        if (req.method === 'HEAD' || length === 0) {
          res.end()
          return
        }
        pipeline(createReadStream(reply.path, { start: reply.start, end: reply.end }), res).catch(() => res.destroy())
        return
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = req.url ?? '/'
    const parsed = new URL(rawPath, 'http://emulator.invalid')
    const method = (req.method ?? 'GET').toUpperCase()
    if (parsed.pathname.startsWith(ADMIN_PREFIX)) {
      await handleAdmin(req, res, method, parsed.pathname)
      return
    }

    const record: RecordedRequest = {
      method,
      path: rawPath,
      headers: recordHeaders(req),
      status: 0,
      bodyBytes: 0,
      startedAt: Date.now(),
    }
    requests.push(record)
    const body = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        record.bodyBytes += chunk.length
        callback(null, chunk)
      },
    })
    body.on('error', () => undefined) // consumers see errors through their own listeners
    pipeline(req, body).catch(() => undefined)

    const ctx: RequestContext = {
      method,
      pathname: parsed.pathname,
      query: parsed.searchParams,
      headers: req.headers,
      body,
      record,
      user: undefined,
      dataset: undefined,
      rid: undefined,
    }
    const finish = (status: number): void => {
      record.status = status
      record.finishedAt = Date.now()
      try {
        opts.onRequest?.(record)
      } catch {
        // a logging callback must not break the server
      }
    }

    const fault = pickFault(method, parsed.pathname, rawPath)
    let loseResponse = false
    let reply: Reply
    try {
      if (fault !== undefined) {
        record.fault = describeFault(fault)
        if (fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs))
        if (fault.dropAfterBytes !== undefined) {
          await dropAfter(req, body, fault.dropAfterBytes)
          finish(0)
          return
        }
        if (fault.status !== undefined) {
          await drain(body)
          const headers: Record<string, string> = { ...fault.headers, ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) }
          const faultReply: Reply =
            typeof fault.body === 'string'
              ? { kind: 'text', status: fault.status, body: fault.body, contentType: 'text/plain; charset=utf-8', headers }
              : { kind: 'json', status: fault.status, body: fault.body ?? { message: `Injected fault (${fault.status})` }, headers }
          finish(fault.status)
          write(req, res, faultReply)
          return
        }
        loseResponse = fault.loseResponse === true
      }
      reply = await dispatch(ctx, parsed.search)
    } catch (error) {
      reply = errorReply(error, ctx)
    }
    await drain(body)
    if (fault?.answerDelayMs !== undefined) await new Promise((r) => setTimeout(r, fault.answerDelayMs))
    if (req.socket.destroyed) {
      finish(0) // the client went away: nobody to answer
      return
    }
    finish(reply.status)
    if (loseResponse) {
      req.socket.destroy()
      return
    }
    write(req, res, reply)
  }

  async function dropAfter(req: IncomingMessage, body: Readable, limit: number): Promise<void> {
    if (limit <= 0) {
      req.socket.destroy()
      return
    }
    await new Promise<void>((done) => {
      let received = 0
      const cut = (): void => {
        req.socket.destroy()
        done()
      }
      body.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received >= limit) cut()
      })
      body.once('end', cut)
      body.once('close', done)
    })
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, method: string, pathname: string): Promise<void> {
    const send = (status: number, value?: unknown): void => {
      if (value === undefined) {
        res.writeHead(status, { 'content-length': '0' })
        res.end()
        return
      }
      const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length) })
      res.end(body)
    }
    let raw: Buffer
    try {
      raw = await readBody(req, 1024 * 1024)
    } catch {
      send(413, { message: WERKZEUG.tooLarge })
      req.resume()
      return
    }
    const route = `${method} ${pathname.replace(/\/?$/, '/')}`
    switch (route) {
      case 'GET /__emulator/state/':
        send(200, {
          users: [...store.users.values()].map((u) => ({ id: u.id, active: u.active })),
          datasets: store.datasets.map((d) => {
            const owner = store.users.get(d.owner)
            return { ...renderDataset(d, origin, owner, owner), old_slugs: [...d.oldSlugs] }
          }),
        })
        return
      case 'GET /__emulator/requests/':
        send(
          200,
          requests.map((r) => ({
            ...r,
            headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, k === 'x-api-key' || k === 'authorization' ? '***' : v])),
          })),
        )
        return
      case 'POST /__emulator/reset-requests/':
        requests.length = 0
        send(204)
        return
      case 'GET /__emulator/faults/':
        send(200, faults)
        return
      case 'DELETE /__emulator/faults/':
        faults.length = 0
        send(204)
        return
      case 'POST /__emulator/faults/': {
        try {
          const value = JSON.parse(raw.toString('utf8')) as unknown
          const rules = (Array.isArray(value) ? value : [value]).map(parseFaultRule)
          faults.push(...rules)
          send(200, { faults: faults.length })
        } catch (error) {
          send(400, { message: `Invalid fault rules: ${(error as Error).message}` })
        }
        return
      }
      default:
        send(404, { message: 'Unknown emulator admin endpoint' })
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`udata emulator: ${String((error as Error)?.stack ?? error)}\n`)
      res.destroy()
    })
  })
  server.requestTimeout = 0 // multi-GB uploads and finalisations may take long
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen)
      resolveListen()
    })
  })
  const address = server.address() as AddressInfo
  origin = `http://${hostForUrl(host)}:${address.port}`

  let closing: Promise<void> | undefined
  return {
    url: origin,
    dataDir,
    close(): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((done) => {
          server.close(() => done())
          server.closeAllConnections()
        })
        if (ownDir) await rm(dataDir, { recursive: true, force: true })
      })()
      return closing
    },
    addUser: (o) => store.addUser(o),
    addDataset: (o) => store.addDataset(o),
    addFileResource: (datasetId, o) => store.addFileResource(datasetId, o),
    addRemoteResource: (datasetId, o) => store.addRemoteResource(datasetId, o),
    getDataset: (idOrSlug) => store.getDataset(idOrSlug),
    getResource: (datasetId, rid) => store.getResource(datasetId, rid),
    storedFilePath(datasetId, rid) {
      const fsFilename = store.getResource(datasetId, rid)?.fsFilename
      return fsFilename == null ? undefined : storage.staticPath(fsFilename)
    },
    requests,
    resetRequests() {
      requests.length = 0
    },
    faults,
  }
}
