/**
 * What every scenario of the benchmark measures with: the bundled action run as the runner runs it
 * (scripts/run-action.ts) on a chosen Node binary with the peak-RSS probe preloaded, `curl`, the
 * emulator's request records, and small helpers (median, sizes, formatting).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Emulator, RecordedRequest } from '../../emulator/server.js'
import { runAction, type ActionRun } from '../run-action.js'

export const run = promisify(execFile)
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const PROBE = path.join(root, 'scripts/rss-probe.cjs')
export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

/** A Node binary the action is measured on. */
export interface Runtime {
  /** `Node 24` */
  label: string
  /** `v24.22.3` */
  version: string
  node: string
}

/** Shared by every scenario. */
export interface Bench {
  emulator: Emulator
  user: { id: string; apiKey: string }
  runtimes: readonly Runtime[]
  runs: number
  quick: boolean
  /** Local files (on disk). */
  work: string
  /** Inputs added to every action run (`--input name=value`). */
  extraInputs: Record<string, string>
  log(line: string): void
}

/** process.memoryUsage() as the probe sampled it. */
export interface MemorySample {
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  atMs?: number
}

export interface Measured {
  seconds: number
  /** Date.now() when the process was started and when it had exited (the emulator's clock). */
  startedAtMs: number
  endedAtMs: number
  /** Peak resident set (VmHWM) of the action's process. */
  rss: number
  /** User + system CPU seconds of the action's process. */
  cpu: number
  /** With `sampleMs`: the sample with the highest rss, and the highest of each figure. */
  atPeak?: MemorySample
  max?: MemorySample
  /** With `sampleMs`: V8's peak_malloced_memory (its zones: parser, compilers, WebAssembly tier-up). */
  peakMalloced?: number
  run: ActionRun
}

export interface MeasureOptions {
  cwd: string
  /** Sample process.memoryUsage() every so many ms (diagnostic runs only: timed runs are left alone). */
  sampleMs?: number
  /** The run is expected to fail (a bundle-only baseline). */
  mayFail?: boolean
}

/** Runs the bundled action once on `runtime`, as the runner does, and measures it. */
export async function runMeasured(
  runtime: Runtime,
  inputs: Record<string, string>,
  options: MeasureOptions,
): Promise<Measured> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-probe-'))
  const probeFile = path.join(scratch, 'probe.json')
  try {
    const env: Record<string, string> = {
      NODE_OPTIONS: `--require ${PROBE}`,
      RSS_PROBE_FILE: probeFile,
    }
    if (options.sampleMs !== undefined) env.RSS_PROBE_SAMPLE_MS = String(options.sampleMs)
    const startedAtMs = Date.now()
    const started = process.hrtime.bigint()
    const result = await runAction(inputs, { cwd: options.cwd, node: runtime.node, env })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const endedAtMs = Date.now()
    if (result.code !== 0 && options.mayFail !== true) {
      throw new Error(
        `the action failed on ${runtime.label} (exit ${result.code}):\n${tail(result.stdout + result.stderr, 3000)}`,
      )
    }
    const probe = JSON.parse(await readFile(probeFile, 'utf8')) as {
      rss: number
      userMs: number
      systemMs: number
      atPeak?: MemorySample
      max?: MemorySample
      v8?: { peak_malloced_memory: number }
    }
    return {
      seconds,
      startedAtMs,
      endedAtMs,
      rss: probe.rss,
      cpu: (probe.userMs + probe.systemMs) / 1000,
      ...(probe.atPeak ? { atPeak: probe.atPeak } : {}),
      ...(probe.max ? { max: probe.max } : {}),
      ...(probe.v8 ? { peakMalloced: probe.v8.peak_malloced_memory } : {}),
      run: result,
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Peak RSS of a bare `node -e 0` on `runtime`: the floor under every figure. */
export async function bareNodeRss(runtime: Runtime): Promise<number> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-probe-'))
  try {
    const file = path.join(scratch, 'probe.json')
    await run(runtime.node, ['--require', PROBE, '-e', '0'], {
      env: { ...process.env, RSS_PROBE_FILE: file },
    })
    return (JSON.parse(await readFile(file, 'utf8')) as { rss: number }).rss
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

export interface CurlResult {
  /** Wall time of the curl process. */
  seconds: number
  /** curl's own CPU seconds (user + system, from GNU time). */
  cpu: number
  status: string
}

/**
 * One curl request, timed. `Expect: 100-continue` is turned off: curl would otherwise wait for the
 * server's interim answer (a round trip on a far link) before sending a big body, and the
 * baseline is the file's bytes in one request, as fast as curl sends them.
 */
async function curl(args: string[]): Promise<CurlResult> {
  const started = process.hrtime.bigint()
  const { stdout, stderr } = await run(
    '/usr/bin/time',
    [
      '-f',
      '%U %S',
      'curl',
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Expect:',
      ...args,
    ],
    {
      maxBuffer: 16 * MiB,
    },
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const [user, system] = stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? []
  return { seconds, cpu: (user ?? Number.NaN) + (system ?? Number.NaN), status: stdout }
}

/** `curl -F file=@path` to an upload endpoint, as one request. */
export async function curlUpload(url: string, apiKey: string, file: string): Promise<CurlResult> {
  const result = await curl(['-H', `X-API-KEY: ${apiKey}`, '-F', `file=@${file}`, url])
  if (result.status !== '200' && result.status !== '201')
    throw new Error(`curl -F ${file} got ${result.status}`)
  return result
}

export interface UploadPhases {
  /** Part requests (retries included). */
  parts: number
  /** From the first part's arrival at the server to the last part's answer (parts may overlap). */
  partsSeconds: number
  /** The finalisation request, arrival to answer (the server combines, hashes and stores). */
  finalSeconds: number
  /** Median time the server waited between a part's answer and the next part's arrival (0 when they overlap). */
  gapSeconds: number
}

/** The chunked upload in the emulator's records (what the server saw). */
export function uploadPhases(requests: readonly RecordedRequest[]): UploadPhases {
  const posts = requests.filter((r) => r.method === 'POST' && r.path.endsWith('/upload/'))
  const parts = posts.filter((r) => r.fields?.partindex !== undefined)
  const final = posts
    .filter((r) => r.fields !== undefined && r.fields.partindex === undefined)
    .pop()
  if (parts.length === 0 || final === undefined)
    return {
      parts: parts.length,
      partsSeconds: Number.NaN,
      finalSeconds: Number.NaN,
      gapSeconds: Number.NaN,
    }
  const first = Math.min(...parts.map((r) => r.startedAt))
  const last = Math.max(...parts.map((r) => r.finishedAt ?? Number.NaN))
  const sorted = [...parts].sort((a, b) => a.startedAt - b.startedAt)
  const gaps: number[] = []
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] as RecordedRequest
    gaps.push(
      Math.max(0, (sorted[i] as RecordedRequest).startedAt - (previous.finishedAt ?? Number.NaN)) /
        1000,
    )
  }
  return {
    parts: parts.length,
    partsSeconds: (last - first) / 1000,
    finalSeconds: ((final.finishedAt ?? Number.NaN) - final.startedAt) / 1000,
    gapSeconds: gaps.length > 0 ? median(gaps) : 0,
  }
}

/** The one upload request (curl's) in the emulator's records, arrival to answer. */
export function singleUploadSeconds(requests: readonly RecordedRequest[]): number {
  const post = requests.filter((r) => r.method === 'POST' && r.path.endsWith('/upload/')).pop()
  return post === undefined ? Number.NaN : ((post.finishedAt ?? Number.NaN) - post.startedAt) / 1000
}

/** Requests that could change something, and the body bytes the server received. */
export function writesAndBytes(requests: readonly RecordedRequest[]): {
  writes: number
  bytes: number
} {
  return {
    writes: requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD').length,
    bytes: requests.reduce((sum, r) => sum + r.bodyBytes, 0),
  }
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - started) / 1e9
}

/** Flushes dirty pages, so that a run does not pay for the writeback of the previous one's files. */
export async function sync(): Promise<void> {
  await run('sync')
}

export function median(numbers: readonly number[]): number {
  const sorted = numbers.filter((n) => !Number.isNaN(n)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG])$/i.exec(text.trim())
  if (match === null) throw new Error(`'${text}' is not a size such as 100M or 1G`)
  const unit = { K: KiB, M: MiB, G: GiB }[(match[2] as string).toUpperCase() as 'K' | 'M' | 'G']
  return Math.round(Number(match[1]) * unit)
}

/** `1G`, `256M`, `10K`: a file name part. */
export function sizeTag(size: number): string {
  if (size >= GiB && size % GiB === 0) return `${size / GiB}G`
  if (size >= MiB && size % MiB === 0) return `${size / MiB}M`
  return `${Math.round(size / KiB)}K`
}

export function formatBytes(bytes: number): string {
  if (Number.isNaN(bytes)) return 'n/a'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Math.abs(bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${bytes < 0 ? '-' : ''}${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}

export const seconds = (s: number): string => (Number.isNaN(s) ? 'n/a' : `${s.toFixed(2)} s`)
export const ratio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a')
export const rate = (bytes: number, s: number): string => `${formatBytes(bytes / s)}/s`

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(-max)}`
}

/** Alternates the runtimes' order from one run to the next, so that neither always goes first. */
export function inTurn<T>(items: readonly T[], runIndex: number): T[] {
  return runIndex % 2 === 0 ? [...items] : [...items].reverse()
}
