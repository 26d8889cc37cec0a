/**
 * Benchmark: publishes generated files (100 MiB, 1 GiB, and 4 GiB when the disk allows) with the
 * bundled action to the local emulator, and beside it uploads the same file with `curl -F` to the
 * same emulator and hashes it with `sha1sum`. Prints a table and writes it into BENCHMARKS.md,
 * between the `bench:start` / `bench:end` markers (the analysis around them is kept).
 *
 *   npm run bench                              # 100M,1G and 4G if there is room, 3 runs each
 *   npm run bench -- --sizes 100M,1G --runs 5  # chosen sizes and number of runs
 *
 * Every timed run starts after `sync` (so that writeback of the previous run's files does not slow
 * it down), action and curl alternate, and the median of the runs is reported.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { format, resolveConfig } from 'prettier'
import { generateFile } from './generate-file.js'
import { startEmulator, type RecordedRequest } from '../emulator/server.js'
import { hashFile } from '../src/files/hash.js'
import { formatBytes } from '../src/engine/report.js'
import { DIST } from './run-action.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const run = promisify(execFile)
const MiB = 1024 * 1024
const GiB = 1024 * MiB

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'data-dir': { type: 'string' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
  },
})
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, not ${values.runs}`)
const work = path.join(os.tmpdir(), 'datagouv-publish-bench')
await rm(work, { recursive: true, force: true })
await mkdir(work, { recursive: true })

const sizes = values.sizes !== undefined ? values.sizes.split(',').map(parseSize) : await defaultSizes()
const dataDir = path.join(values['data-dir'] ?? (await memoryDisk(Math.max(...sizes))) ?? work, 'datagouv-publish-bench-emulator')
await rm(dataDir, { recursive: true, force: true })

interface Row {
  size: number
  parts: number
  /** Medians over the runs. */
  actionSeconds: number
  partsSeconds: number
  finalSeconds: number
  curlSeconds: number
  /** `cp` of the file onto the emulator's storage: what reading and writing it once costs there. */
  copySeconds: number
  actionRss: number
  /** CPU seconds (user + system) of the action's process, and of curl's. */
  actionCpu: number
  curlCpu: number
  liftoffRss: number
  sha1sumSeconds: number
  hashSeconds: number
  unchangedSeconds: number
  unchangedRss: number
  unchangedLiftoffRss: number
  progress: string[]
}

const rows: Row[] = []
// `sameSecondConflict: false`: the action and curl store the same name into one dataset in quick
// succession; udata's same-second 500 (which the action would retry) is not what is measured here.
const emulator = await startEmulator({ dataDir, sameSecondConflict: false })
try {
  const user = emulator.addUser()
  const dataset = emulator.addDataset({ owner: user.id, slug: 'bench' })
  for (const size of sizes) {
    const name = `bench-${size >= GiB ? `${size / GiB}G` : `${size / MiB}M`}.csv`
    const file = path.join(work, name)
    console.error(`\n== ${formatBytes(size)}: writing ${file}`)
    const sha1 = await generateFile(file, size)
    const resource = emulator.addFileResource(dataset.id, { filename: name, content: 'old', title: `Bench ${formatBytes(size)}` })
    const inputs = { 'api-url': emulator.url, 'api-key': user.apiKey, dataset: dataset.id, files: name }
    /** Makes the stored file differ from the local one (another size), as before a release. */
    const markChanged = (): void => {
      const state = emulator.getResource(dataset.id, resource.id)
      if (state === undefined) throw new Error('the benchmark resource disappeared')
      state.filesize = 3
      state.checksum = { type: 'sha1', value: '0'.repeat(40) }
    }

    const hashing = { sha1sum: [] as number[], ours: [] as number[] }
    const action = { wall: [] as number[], parts: [] as number[], final: [] as number[], rss: [] as number[], cpu: [] as number[] }
    const curl: number[] = []
    const curlCpu: number[] = []
    const copy: number[] = []
    let progress: string[] = []
    let partCount = 0
    for (let i = 1; i <= runs; i++) {
      console.error(`   run ${i}/${runs}: sha1sum, hashFile, action (changed file), curl -F`)
      hashing.sha1sum.push(
        await timed(async () => {
          const { stdout } = await run('sha1sum', [file])
          if (!stdout.startsWith(sha1)) throw new Error('sha1sum disagrees with the generator')
        }),
      )
      hashing.ours.push(
        await timed(async () => {
          if ((await hashFile(file)) !== sha1) throw new Error('hashFile disagrees with the generator')
        }),
      )

      markChanged()
      await sync()
      emulator.resetRequests()
      const changed = await runMeasured(inputs)
      const stored = emulator.getResource(dataset.id, resource.id)
      if (stored?.checksum?.value !== sha1 || stored.filesize !== size) throw new Error(`the action did not publish ${name}: ${changed.log}`)
      const phases = uploadPhases(emulator.requests)
      partCount = phases.parts
      action.wall.push(changed.seconds)
      action.parts.push(phases.partsSeconds)
      action.final.push(phases.finalSeconds)
      action.rss.push(changed.rss)
      action.cpu.push(changed.cpu)
      progress = changed.log.split('\n').filter((line) => / of .* \(\d+ %\), .*\/s$/.test(line))

      await sync()
      const url = `${emulator.url}/api/1/datasets/${dataset.id}/resources/${resource.id}/upload/`
      curl.push(
        await timed(async () => {
          // GNU time prints curl's CPU seconds (user, system) on stderr.
          const { stdout, stderr } = await run('/usr/bin/time', [
            '-f',
            '%U %S',
            'curl',
            '-sS',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            '-H',
            `X-API-KEY: ${user.apiKey}`,
            '-F',
            `file=@${file}`,
            url,
          ])
          if (stdout !== '200') throw new Error(`curl got ${stdout}`)
          const [userSeconds, systemSeconds] = stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? []
          curlCpu.push((userSeconds ?? Number.NaN) + (systemSeconds ?? Number.NaN))
        }),
      )
      await sync()
      const copyTarget = path.join(dataDir, 'copy')
      copy.push(await timed(() => run('cp', [file, copyTarget]).then(() => undefined)))
      await rm(copyTarget, { force: true })
      console.error(
        `     action ${changed.seconds.toFixed(2)} s (parts ${phases.partsSeconds.toFixed(2)} s, finalisation ${phases.finalSeconds.toFixed(2)} s, peak RSS ${formatBytes(changed.rss)}), curl ${curl[curl.length - 1]?.toFixed(2)} s, cp ${copy[copy.length - 1]?.toFixed(2)} s`,
      )
    }

    // V8's --liftoff-only keeps undici's llhttp WebAssembly parser on the baseline compiler (see
    // BENCHMARKS.md): measured once, for the peak resident set only.
    console.error('   action (changed file), node --liftoff-only')
    markChanged()
    await sync()
    const liftoff = await runMeasured(inputs, ['--liftoff-only'])

    console.error('   action (unchanged file)')
    await sync()
    emulator.resetRequests()
    const unchanged = await runMeasured(inputs)
    if (emulator.requests.some((r) => r.method !== 'GET')) throw new Error('the unchanged run wrote something')
    const unchangedLiftoff = await runMeasured(inputs, ['--liftoff-only'])

    rows.push({
      size,
      parts: partCount,
      actionSeconds: median(action.wall),
      partsSeconds: median(action.parts),
      finalSeconds: median(action.final),
      curlSeconds: median(curl),
      copySeconds: median(copy),
      actionRss: Math.max(...action.rss),
      actionCpu: median(action.cpu),
      curlCpu: median(curlCpu),
      liftoffRss: liftoff.rss,
      sha1sumSeconds: median(hashing.sha1sum),
      hashSeconds: median(hashing.ours),
      unchangedSeconds: unchanged.seconds,
      unchangedRss: unchanged.rss,
      unchangedLiftoffRss: unchangedLiftoff.rss,
      progress,
    })
    await rm(file, { force: true })
  }
} finally {
  await emulator.close()
  await rm(work, { recursive: true, force: true })
  await rm(dataDir, { recursive: true, force: true })
}

const rate = (bytes: number, seconds: number): string => `${formatBytes(Math.round(bytes / seconds))}/s`
const table = [
  '| File | Parts | Action: wall | parts phase | finalisation | curl -F: wall | cp on the server | Ratio: wall | Ratio: parts phase | CPU: action / curl | Action: rate | Peak RSS: changed / unchanged | with --liftoff-only | Hash: ours / sha1sum | Unchanged: decide |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) =>
    [
      '',
      formatBytes(r.size),
      r.parts,
      `${r.actionSeconds.toFixed(2)} s`,
      `${r.partsSeconds.toFixed(2)} s`,
      `${r.finalSeconds.toFixed(2)} s`,
      `${r.curlSeconds.toFixed(2)} s`,
      `${r.copySeconds.toFixed(2)} s`,
      (r.actionSeconds / r.curlSeconds).toFixed(2),
      (r.partsSeconds / r.curlSeconds).toFixed(2),
      `${r.actionCpu.toFixed(2)} s / ${r.curlCpu.toFixed(2)} s`,
      rate(r.size, r.actionSeconds),
      `${formatBytes(r.actionRss)} / ${formatBytes(r.unchangedRss)}`,
      `${formatBytes(r.liftoffRss)} / ${formatBytes(r.unchangedLiftoffRss)}`,
      `${(r.sha1sumSeconds / r.hashSeconds).toFixed(2)} (${rate(r.size, r.hashSeconds)} vs ${rate(r.size, r.sha1sumSeconds)})`,
      `${r.unchangedSeconds.toFixed(2)} s`,
      '',
    ]
      .join(' | ')
      .trim(),
  ),
].join('\n')

const targets = checkTargets(rows)
const biggest = rows[rows.length - 1]
const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const header = `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${cpu}, ${formatBytes(os.totalmem())} RAM, Node ${process.version}, ${os.type()} ${os.release()}; median of ${runs} run${runs > 1 ? 's' : ''}; local files in ${work}, the emulator's storage in ${path.dirname(dataDir)}.`
const generated = `<!-- bench:start (written by \`npm run bench\`; edit outside the markers) -->

${header}

${table}

Targets (checked by the script on the figures above):

${targets.map((t) => `- ${t}`).join('\n')}

Progress lines of the ${biggest ? formatBytes(biggest.size) : ''} upload (the action logs one every 10 s, and at the end):

\`\`\`
${biggest?.progress.join('\n') ?? ''}
\`\`\`

<!-- bench:end -->`

const outFile = path.resolve(root, values.out ?? 'BENCHMARKS.md')
let document: string
try {
  const previous = await readFile(outFile, 'utf8')
  const start = previous.indexOf('<!-- bench:start')
  const end = previous.indexOf('<!-- bench:end -->')
  document =
    start >= 0 && end > start
      ? previous.slice(0, start) + generated + previous.slice(end + '<!-- bench:end -->'.length)
      : `${previous.trimEnd()}\n\n${generated}\n`
} catch {
  document = `# Benchmarks\n\n${generated}\n`
}
// Formatted as the repository formats Markdown (prettier aligns the tables), so that a run leaves it clean.
await writeFile(outFile, await format(document, { ...(await resolveConfig(outFile)), parser: 'markdown' }))
console.log(`\n${header}\n\n${table}\n\n${targets.join('\n')}`)

function checkTargets(measured: readonly Row[]): string[] {
  const lines: string[] = []
  const at = (size: number): Row | undefined => measured.find((r) => r.size === size)
  const small = at(100 * MiB)
  const one = at(GiB)
  const verdict = (ok: boolean): string => (ok ? '**met**' : '**missed**')
  if (one !== undefined) {
    lines.push(
      `peak RSS ≤ 100 MiB at 1 GiB: ${verdict(one.actionRss <= 100 * MiB)} (${formatBytes(one.actionRss)}; ${formatBytes(one.liftoffRss)} with --liftoff-only)`,
    )
    if (small !== undefined) {
      const spread = Math.abs(one.actionRss - small.actionRss)
      const liftoffSpread = Math.abs(one.liftoffRss - small.liftoffRss)
      lines.push(
        `peak RSS flat in size (1 GiB within 10 MiB of 100 MiB): ${verdict(spread <= 10 * MiB)} (${formatBytes(spread)} apart; ${formatBytes(liftoffSpread)} with --liftoff-only)`,
      )
    }
  }
  for (const r of measured) {
    const ratio = r.actionSeconds / r.curlSeconds
    lines.push(
      `wall ≤ 1.2 × curl, ${formatBytes(r.size)}: ${verdict(ratio <= 1.2)} (${ratio.toFixed(2)}; the parts phase alone ${(r.partsSeconds / r.curlSeconds).toFixed(2)})`,
    )
  }
  for (const r of measured) {
    const speed = r.sha1sumSeconds / r.hashSeconds
    lines.push(`hashing ≥ 0.8 × sha1sum, ${formatBytes(r.size)}: ${verdict(speed >= 0.8)} (${speed.toFixed(2)})`)
  }
  return lines
}

/** The parts of the last chunked upload, from first part sent to last part answered, and its finalisation. */
function uploadPhases(requests: readonly RecordedRequest[]): { parts: number; partsSeconds: number; finalSeconds: number } {
  const posts = requests.filter((r) => r.method === 'POST' && r.path.endsWith('/upload/'))
  const parts = posts.filter((r) => r.fields?.partindex !== undefined)
  const final = posts.find((r) => r.fields !== undefined && r.fields.partindex === undefined)
  const first = parts[0]
  const last = parts[parts.length - 1]
  if (first === undefined || last === undefined || final === undefined) return { parts: parts.length, partsSeconds: Number.NaN, finalSeconds: Number.NaN }
  return {
    parts: parts.length,
    partsSeconds: ((last.finishedAt ?? Number.NaN) - first.startedAt) / 1000,
    finalSeconds: ((final.finishedAt ?? Number.NaN) - final.startedAt) / 1000,
  }
}

async function runMeasured(inputs: Record<string, string>, nodeFlags: string[] = []): Promise<{ seconds: number; rss: number; cpu: number; log: string }> {
  const probe = path.join(work, 'rss')
  await rm(probe, { force: true })
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    RSS_PROBE_FILE: probe,
    GITHUB_OUTPUT: path.join(work, 'out'),
    GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  await writeFile(env.GITHUB_OUTPUT as string, '')
  await writeFile(env.GITHUB_STEP_SUMMARY as string, '')
  let log = ''
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [...nodeFlags, '--require', path.join(root, 'scripts/rss-probe.cjs'), DIST], {
    cwd: work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (code !== 0) throw new Error(`the action failed (${code}):\n${log}`)
  const measured = JSON.parse(await readFile(probe, 'utf8')) as { rss: number; userMs: number; systemMs: number }
  return { seconds, rss: measured.rss, cpu: (measured.userMs + measured.systemMs) / 1000, log }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - started) / 1e9
}

/** Flushes dirty pages, so that a run does not pay for the writeback of the previous one's files. */
async function sync(): Promise<void> {
  await run('sync')
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

function parseSize(text: string): number {
  const match = /^(\d+)([MG])$/i.exec(text.trim())
  if (match === null) throw new Error(`--sizes: '${text}' is not a size such as 100M or 1G`)
  return Number(match[1]) * (match[2]?.toUpperCase() === 'G' ? GiB : MiB)
}

/**
 * /dev/shm when it can hold the emulator's copies of the biggest file (its parts, then the stored
 * file, then curl's): the server's storage then costs what a fast disk costs, the same for the
 * action and for curl, instead of this machine's writeback.
 */
async function memoryDisk(biggest: number): Promise<string | undefined> {
  try {
    const fs = await statfs('/dev/shm')
    return fs.bavail * fs.bsize > 3 * biggest + 2 * GiB ? '/dev/shm' : undefined
  } catch {
    return undefined
  }
}

/** 100 MiB and 1 GiB always; 4 GiB when the disk holds the file, its stored copy and its parts with room to spare. */
async function defaultSizes(): Promise<number[]> {
  const fs = await statfs(work)
  const free = fs.bavail * fs.bsize
  return free > 16 * GiB ? [100 * MiB, GiB, 4 * GiB] : [100 * MiB, GiB]
}
