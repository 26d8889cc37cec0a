import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { ADMIN_PREFIX, handleAdmin, type AdminState } from './admin.js'
import { Analyser, type AnalyserOptions, type AnalyserRule } from './analyser.js'
import { DEFAULT_EXTENSIONS } from './constants.js'
import { dispatch } from './dispatch.js'
import type { Env } from './env.js'
import { FaultSet, describeFault, faultInstead, sleep } from './faults.js'
import type { Reply, RequestContext } from './http.js'
import { throughProxy } from './proxy.js'
import { countedBody, finishRecord, startRecord } from './recording.js'
import { drain, errorReply, writeReply } from './respond.js'
import { Storage } from './storage.js'
import { Store, type UserSeed } from './store.js'
import type {
  CommunityResourceSeed,
  CommunityResourceState,
  DatasetSeed,
  DatasetState,
  FaultRule,
  FileResourceSeed,
  HeldRequest,
  OrganizationSeed,
  OrganizationState,
  RecordedRequest,
  RemoteResourceSeed,
  ResourceState,
} from './types.js'

export type {
  AnalyserOptions,
  AnalyserOutcome,
  AnalyserOutcomeSpec,
  AnalyserResult,
  AnalyserRule,
} from './analyser.js'
export type {
  Checksum,
  CommunityResourceSeed,
  CommunityResourceState,
  DatasetSeed,
  DatasetState,
  FaultRule,
  FileResourceSeed,
  FileType,
  HeldRequest,
  HoldRelease,
  OrganizationSeed,
  OrganizationState,
  OrgRole,
  RecordedRequest,
  RemoteResourceSeed,
  ResourceState,
  ResourceType,
  SchemaRef,
  SeedResource,
  UserState,
} from './types.js'
export type { UserSeed } from './store.js'
export { DEFAULT_EXTENSIONS, UDATA_DEFAULT_EXTENSIONS } from './constants.js'
export { parseFaultRule } from './faults.js'
export { parseAnalyserOptions, parseAnalyserRule } from './analyser.js'

export interface EmulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string
  /** Default 0 (ephemeral). */
  port?: number
  /** Stored files and chunk parts; default a fresh temporary folder, removed by `close()`. */
  dataDir?: string
  /** Allowed extensions; default udata's list (docs/udata-protocol.md §9) plus `parquet`. */
  extensions?: string[]
  /**
   * Default true: storing the same normalised name in the same dataset within the same second is
   * flask-storage's `FileExists` → 500 (docs/udata-protocol.md §3.2 step 5). False: a suffixed folder is used.
   */
  sameSecondConflict?: boolean
  /**
   * `current` (default): udata v17.6+. `legacy`: chunks combined without extension check and
   * deleted while copied, only `url` protected on hosted resources, bad key = `Invalid API Key`.
   */
  version?: 'current' | 'legacy'
  /** Called once per API request, when it has been answered (or dropped). */
  onRequest?: (request: RecordedRequest) => void
  /**
   * A reverse proxy body limit on every request (nginx `client_max_body_size`): larger bodies get
   * nginx's 413 page, unhandled. A fault rule's own `maxBodyBytes` takes precedence.
   */
  maxBodyBytes?: number
  /**
   * The simulated resource analyser (hydra), off by default: after a resource is created, its file
   * replaced or it is PUT, `check:*` and `analysis:*` extras are written `delayMs` later.
   */
  analyser?: AnalyserOptions
  /** udata's `TABULAR_EXPLORE_URL`: parsed resources get `preview_url` `<it>/resources/<id>` (default none). */
  tabularExploreUrl?: string
}

/** The analyser as a test drives it (`emu.analyser`). */
export interface AnalyserControl {
  /** Turn it on or change its settings (rules given are appended), or off with null. */
  configure(options: AnalyserOptions | null): void
  readonly enabled: boolean
  /** Per-resource outcomes, first match wins; push to add. */
  readonly rules: AnalyserRule[]
  /** Schedule a check of a resource (the delay, or at once when off), as hydra's periodic crawl would. */
  recheck(rid: string): void
  /** Run every scheduled check and parsing now, and wait until they are written. */
  flush(): Promise<void>
}

export interface Emulator {
  /** Origin, e.g. `http://127.0.0.1:40123` (no `/api/1`). */
  readonly url: string
  readonly dataDir: string
  close(): Promise<void>
  addUser(opts?: UserSeed): { id: string; apiKey: string }
  addOrganization(opts: OrganizationSeed): OrganizationState
  addDataset(opts: DatasetSeed): DatasetState
  addFileResource(datasetId: string, opts: FileResourceSeed): ResourceState
  addRemoteResource(datasetId: string, opts: RemoteResourceSeed): ResourceState
  /** A community resource on `opts.dataset` (id or slug), owned by `owner` or `organization`. */
  addCommunityResource(opts: CommunityResourceSeed): CommunityResourceState
  getCommunityResource(id: string): CommunityResourceState | undefined
  readonly analyser: AnalyserControl
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
  /** The requests a `hold` rule keeps waiting, in arrival order, each with its `release`. */
  readonly held: readonly HeldRequest[]
}

/** What the request handler needs, built once by `startEmulator`. */
interface Deps extends AdminState {
  env: Env
  onRequest: EmulatorOptions['onRequest']
  maxBodyBytes: number | undefined
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/**
 * One API or static request: recorded, matched against the fault rules, handled (unless a rule
 * answers instead), answered once the whole body has been read, as behind a buffering proxy.
 */
async function serveApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  deps: Deps,
): Promise<void> {
  const rawPath = req.url ?? '/'
  const record = startRecord(req, method, rawPath)
  deps.requests.push(record)
  const body = countedBody(req, record)
  const ctx: RequestContext = {
    method,
    pathname: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    record,
    user: undefined,
    dataset: undefined,
    org: undefined,
    rid: undefined,
    community: undefined,
  }
  const finish = (status: number): void => finishRecord(record, status, deps.onRequest)

  const fault = deps.faults.pick(method, url.pathname, rawPath)
  let reply: Reply
  try {
    if (fault !== undefined) record.fault = describeFault(fault)
    const limit = fault?.maxBodyBytes ?? deps.maxBodyBytes
    const proxyRule: FaultRule = {
      ...fault,
      ...(limit !== undefined ? { maxBodyBytes: limit } : {}),
    }
    if (fault !== undefined || deps.maxBodyBytes !== undefined) {
      const forwarded = await throughProxy(proxyRule, req, res, body, deps.env.storage, finish)
      if (forwarded === undefined) return
      ctx.body = forwarded
    }
    const held = { list: deps.held, record }
    if (fault !== undefined && (await faultInstead(fault, held, req, res, ctx.body, finish))) return
    reply = await dispatch(ctx, deps.env, url.search)
  } catch (error) {
    reply = errorReply(error, ctx)
  }
  await drain(ctx.body)
  if (fault?.answerDelayMs !== undefined) await sleep(fault.answerDelayMs)
  if (req.socket.destroyed) {
    finish(0) // the client went away: nobody to answer
    return
  }
  finish(reply.status)
  if (fault?.loseResponse === true) req.socket.destroy()
  else writeReply(req, res, reply)
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: Deps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid')
  const method = (req.method ?? 'GET').toUpperCase()
  if (url.pathname.startsWith(ADMIN_PREFIX)) await handleAdmin(req, res, method, url.pathname, deps)
  else await serveApi(req, res, url, method, deps)
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(port, host, () => {
      server.off('error', rejectListen)
      resolveListen()
    })
  })
  return (server.address() as AddressInfo).port
}

function closer(server: Server, dataDir: string, ownDir: boolean, deps: Deps): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= (async () => {
      for (const request of [...deps.held]) request.release({ drop: true })
      await deps.analyser.stop()
      await new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      })
      if (ownDir) await rm(dataDir, { recursive: true, force: true })
    })()
    return closing
  }
}

/** The state a server answers from: store, disk, analyser; `origin` is read once listening. */
function buildDeps(opts: EmulatorOptions, dataDir: string, origin: () => string): Deps {
  const storage = new Storage(dataDir)
  const extensions = new Set(
    (opts.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, '')),
  )
  const store = new Store(storage, origin, extensions)
  store.tabularExploreUrl = opts.tabularExploreUrl ?? null
  const analyser = new Analyser(store, storage)
  if (opts.analyser !== undefined) analyser.configure(opts.analyser)
  const legacy = opts.version === 'legacy'
  store.legacy = legacy
  const env: Env = {
    store,
    storage,
    origin,
    extensions,
    sameSecondConflict: opts.sameSecondConflict ?? true,
    legacy,
    analyser,
  }
  return {
    env,
    store,
    origin,
    requests: [],
    faults: new FaultSet(),
    held: [],
    analyser,
    onRequest: opts.onRequest,
    maxBodyBytes: opts.maxBodyBytes,
  }
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const ownDir = opts.dataDir === undefined
  const dataDir = resolve(opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'udata-emulator-'))))
  let origin = ''
  const deps = buildDeps(opts, dataDir, () => origin)
  const { store, analyser } = deps
  const { storage } = deps.env

  const server = createServer((req, res) => {
    handle(req, res, deps).catch((error: unknown) => {
      process.stderr.write(`udata emulator: ${String((error as Error)?.stack ?? error)}\n`)
      res.destroy()
    })
  })
  server.requestTimeout = 0 // multi-GB uploads and finalisations may take long
  const host = opts.host ?? '127.0.0.1'
  origin = `http://${hostForUrl(host)}:${await listen(server, opts.port ?? 0, host)}`

  return {
    url: origin,
    dataDir,
    close: closer(server, dataDir, ownDir, deps),
    addUser: (o) => store.addUser(o),
    addOrganization: (o) => store.addOrganization(o),
    addDataset: (o) => store.addDataset(o),
    addFileResource: (datasetId, o) => store.addFileResource(datasetId, o),
    addRemoteResource: (datasetId, o) => store.addRemoteResource(datasetId, o),
    addCommunityResource: (o) => store.addCommunityResource(o),
    getCommunityResource: (id) => store.getCommunityResource(id),
    analyser,
    getDataset: (idOrSlug) => store.getDataset(idOrSlug),
    getResource: (datasetId, rid) => store.getResource(datasetId, rid),
    storedFilePath(datasetId, rid) {
      const fsFilename = store.getResource(datasetId, rid)?.fsFilename
      return fsFilename == null ? undefined : storage.staticPath(fsFilename)
    },
    requests: deps.requests,
    resetRequests() {
      deps.requests.length = 0
    },
    faults: deps.faults.rules,
    held: deps.held,
  }
}
