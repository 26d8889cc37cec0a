/**
 * Real udata for tests: the kit of real udata beside the project (udata's own Flask application at pinned
 * tags, mongomock as its database) started on a free loopback port, seeded, and a thin client of
 * its API that shares no code with src/ (so a mistake in the action's client cannot hide in both).
 *
 * The kit's README says how it is built; `REALUDATA_KIT` points elsewhere. Each server keeps its
 * state in memory for as long as it runs: a test file starts one per version and gives each
 * scenario a dataset of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Where the kit is: `REALUDATA_KIT`, else the workplace's `realudata` folder beside the project. */
const KIT = path.resolve(process.env.REALUDATA_KIT ?? path.join(ROOT, '../shared/realudata'))

export interface UdataVersion {
  /** `v7` (udata v7.0.0, an older server still deployed) or `v17` (the line data.gouv.fr runs). */
  name: 'v7' | 'v17'
  /** The folder holding its `serve.sh`. */
  dir: string
}

/** The versions the kit carries, oldest first; empty when the kit is absent. */
export function kitVersions(): UdataVersion[] {
  const all: UdataVersion[] = [
    { name: 'v7', dir: KIT },
    { name: 'v17', dir: path.join(KIT, 'v17') },
  ]
  return all.filter((v) => existsSync(path.join(v.dir, 'serve.sh')))
}

/** What the kit's seed created (its README lists them). */
interface Seed {
  api_key: string
  /** v17 only: a key of the second user. */
  other_api_key?: string
  user_id: string
  other_user_id?: string
  org_id: string
  dataset_id: string
  dataset_slug: string
  resource_csv: string
  resource_json: string
  resource_remote: string
  /** A dataset of the second user: the seeded key cannot edit it. */
  foreign_dataset_id: string
}

interface Answer {
  status: number
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown
  text: string
}

export interface RealUdata {
  version: UdataVersion['name']
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** The server's process (serve.sh execs Python): its CPU time is in /proc/<pid>/stat. */
  pid: number | undefined
  seed: Seed
  /** The API with the seeded key (`key: null` for an anonymous call, or another key). */
  api: UdataApi
  /** What the server printed so far (its request log and tracebacks). */
  log(): string
  /** A point in the log: `requestsSince(mark)` lists the requests served after it. */
  mark(): number
  /**
   * The requests the server logged after `mark` (werkzeug's access log: method, path, status),
   * once the log has been quiet for a moment, so that the last answer's line is in.
   */
  requestsSince(mark: number): Promise<LoggedRequest[]>
  close(): Promise<void>
}

export interface LoggedRequest {
  method: string
  path: string
  status: number
}

/** Requests that may change something: anything but GET, HEAD and OPTIONS. */
export function writesOf(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
}

/**
 * Starts one real udata; resolves once it printed READY (its seed done). Its state (stored files
 * and parts) goes to a new folder under `stateIn` (default: the temp folder).
 */
export async function startUdata(
  version: UdataVersion,
  timeoutMs = 90_000,
  stateIn = tmpdir(),
): Promise<RealUdata> {
  const port = await freePort()
  const state = await mkdtemp(path.join(stateIn, `realudata-${version.name}-`))
  const child = spawn(path.join(version.dir, 'serve.sh'), [], {
    env: { ...process.env, PORT: String(port), REALUDATA_STATE: state, REALUDATA_THREADED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const close = async (): Promise<void> => {
    await stop(child)
    await rm(state, { recursive: true, force: true })
  }
  try {
    const seed = await waitForReady(child, () => output, timeoutMs)
    // serve.py prints READY before Flask binds the port: the first request could be refused.
    await waitForListening(port, timeoutMs)
    const url = `http://127.0.0.1:${port}`
    return {
      version: version.name,
      url,
      pid: child.pid,
      seed,
      api: new UdataApi(url, seed.api_key),
      log: () => output,
      mark: () => output.length,
      requestsSince: async (mark) => {
        // werkzeug logs a request once its answer is sent: wait until nothing more comes.
        let length = -1
        while (length !== output.length) {
          length = output.length
          await new Promise((resolve) => setTimeout(resolve, 150))
        }
        return parseRequests(output.slice(mark))
      },
      close,
    }
  } catch (error) {
    await close()
    throw new Error(
      `real udata ${version.name} did not start: ${(error as Error).message}\n${output.slice(-3000)}`,
      { cause: error },
    )
  }
}

function waitForReady(child: ChildProcess, output: () => string, timeoutMs: number): Promise<Seed> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no READY after ${timeoutMs} ms`)), timeoutMs)
    const check = (): void => {
      const text = output()
      if (!/^READY /m.test(text)) return
      const line = /^SEED (.*)$/m.exec(text)?.[1]
      if (line === undefined) return finish(new Error('READY without a SEED line'))
      finish(undefined, JSON.parse(line) as Seed)
    }
    const exited = (code: number | null): void => finish(new Error(`exited with ${code}`))
    const finish = (error: Error | undefined, seed?: Seed): void => {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.stderr?.off('data', check)
      child.off('exit', exited)
      if (error !== undefined) reject(error)
      else resolve(seed as Seed)
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.on('exit', exited)
  })
}

/** Resolves once a TCP connection to the port succeeds. */
async function waitForListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (connected) return
    if (Date.now() > deadline) throw new Error(`port ${port} still refused after READY`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** `127.0.0.1 - - [02/Dec/2026 00:18:57] "PUT /api/1/datasets/x/ HTTP/1.1" 200 -` lines. */
function parseRequests(log: string): LoggedRequest[] {
  const requests: LoggedRequest[] = []
  for (const match of log.matchAll(/\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /g)) {
    const [, method, requestPath, status] = match as unknown as [string, string, string, string]
    requests.push({ method, path: requestPath, status: Number(status) })
  }
  return requests
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** A port nobody listens on now (the kit needs it before it starts: it is in its config). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * udata's API as a test reads and prepares it: plain fetch, JSON in and out, the key in
 * `X-API-KEY`. Writes that the kit's mongomock loses to a concurrent request of the same user
 * (its documents are not thread-safe; MongoDB's are) answer 500 before the view ran: they are
 * sent again, so that a test's own set-up never flakes on the kit.
 */
class UdataApi {
  constructor(
    readonly origin: string,
    readonly key: string | null,
  ) {}

  /** The same API with another key, or none. */
  as(key: string | null): UdataApi {
    return new UdataApi(this.origin, key)
  }

  async call(method: string, apiPath: string, json?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.key !== null) headers['x-api-key'] = this.key
    if (json !== undefined) headers['content-type'] = 'application/json'
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(this.url(apiPath), {
        method,
        headers,
        redirect: 'follow',
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      })
      const answer = await answerOf(response)
      if (answer.status !== 500 || attempt >= 4) return answer
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** A successful call's JSON; any other status throws with the body. */
  async ok<T = Record<string, unknown>>(
    method: string,
    apiPath: string,
    json?: unknown,
  ): Promise<T> {
    const answer = await this.call(method, apiPath, json)
    if (answer.status < 200 || answer.status > 299)
      throw new Error(
        `${method} ${apiPath} answered ${answer.status}: ${answer.text.slice(0, 500)}`,
      )
    return answer.body as T
  }

  get<T = Record<string, unknown>>(apiPath: string): Promise<T> {
    return this.ok<T>('GET', apiPath)
  }

  /** The dataset as udata's API answers it (its resources included). */
  dataset(id: string): Promise<UdataDataset> {
    return this.get<UdataDataset>(`/api/1/datasets/${id}/`)
  }

  /** A new dataset of the seeded organization (udata derives its slug from the title). */
  async createDataset(
    organization: string,
    fields: Record<string, unknown> = {},
  ): Promise<UdataDataset> {
    const title = `Conformance ${Math.random().toString(36).slice(2, 10)}`
    return this.ok<UdataDataset>('POST', '/api/1/datasets/', {
      title,
      description: 'A dataset of the conformance suite',
      organization,
      ...fields,
    })
  }

  /**
   * A new file resource, through the upload endpoint as a user would; then its title, when given
   * (an upload titles it with its stored file name).
   */
  async addFile(
    datasetId: string,
    filename: string,
    content: string | Buffer,
    title?: string,
  ): Promise<UdataResource> {
    const form = new FormData()
    form.append('file', new Blob([content]), filename)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.key !== null) headers['x-api-key'] = this.key
    let answer: Answer | undefined
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(this.url(`/api/1/datasets/${datasetId}/upload/`), {
        method: 'POST',
        headers,
        body: form,
      })
      answer = await answerOf(response)
      if (answer.status !== 500) break
    }
    if (answer?.status !== 201)
      throw new Error(`upload of ${filename} answered ${answer?.status}: ${answer?.text}`)
    const resource = answer.body as UdataResource
    if (title === undefined) return resource
    return this.ok<UdataResource>('PUT', `/api/1/datasets/${datasetId}/resources/${resource.id}/`, {
      title,
    })
  }

  /** The community resources of a dataset (every owner's), as udata lists them. */
  async communityResources(datasetId: string): Promise<UdataResource[]> {
    const page = await this.get<{ data: UdataResource[] }>(
      `/api/1/datasets/community_resources/?dataset=${datasetId}&page_size=100`,
    )
    return page.data
  }

  /** A partial update of a dataset (v1 PUT). */
  updateDataset(datasetId: string, fields: Record<string, unknown>): Promise<UdataDataset> {
    return this.ok<UdataDataset>('PUT', `/api/1/datasets/${datasetId}/`, fields)
  }

  /** A partial update of a resource (v1 PUT). */
  updateResource(
    datasetId: string,
    resourceId: string,
    fields: Record<string, unknown>,
  ): Promise<UdataResource> {
    return this.ok<UdataResource>(
      'PUT',
      `/api/1/datasets/${datasetId}/resources/${resourceId}/`,
      fields,
    )
  }

  /** A new remote resource. */
  addRemote(datasetId: string, fields: Record<string, unknown>): Promise<UdataResource> {
    return this.ok<UdataResource>('POST', `/api/1/datasets/${datasetId}/resources/`, {
      filetype: 'remote',
      type: 'main',
      ...fields,
    })
  }

  private url(apiPath: string): string {
    return new URL(apiPath, this.origin).toString()
  }
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: the text stands
  }
  return { status: response.status, body, text }
}

export interface UdataResource {
  id: string
  title: string
  description: string | null
  filetype: string
  type: string
  format: string | null
  url: string
  latest: string
  checksum: { type: string; value: string } | null
  filesize: number | null
  mime: string | null
  extras: Record<string, unknown>
  schema: Record<string, unknown> | null
  last_modified: string
  internal?: { created_at_internal?: string; last_modified_internal?: string }
  /** Community resources: their owner. */
  owner?: { id: string } | null
  [field: string]: unknown
}

export interface UdataDataset {
  id: string
  slug: string
  title: string
  description: string
  tags: string[]
  private: boolean
  extras: Record<string, unknown>
  resources: UdataResource[]
  last_modified: string
  internal?: { created_at_internal?: string; last_modified_internal?: string }
  organization: { id: string } | null
  owner: { id: string } | null
  [field: string]: unknown
}

/** The stored file name of a hosted resource: the last segment of its URL. */
export function storedName(resource: UdataResource): string {
  return decodeURIComponent(new URL(resource.url).pathname.split('/').pop() ?? '')
}
