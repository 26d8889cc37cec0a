/**
 * Benchmark: publishes generated files (100 MiB, 1 GiB, and 4 GiB when the disk allows) with the
 * bundled action to the local emulator, and beside it uploads the same file with `curl -F` to the
 * same emulator and hashes it with `sha1sum`. Prints a table and writes it to BENCHMARKS.md.
 *
 *   npm run bench                      # 100M,1G and 4G if there is room
 *   npm run bench -- --sizes 100M,1G   # chosen sizes
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { hashFile } from '../src/hash.js'
import { formatBytes } from '../src/report.js'
import { DIST } from './run-action.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const run = promisify(execFile)
const MiB = 1024 * 1024
const GiB = 1024 * MiB

const { values } = parseArgs({ options: { sizes: { type: 'string' }, out: { type: 'string', default: 'BENCHMARKS.md' } } })
const work = path.join(os.tmpdir(), 'datagouv-publish-bench')
await rm(work, { recursive: true, force: true })
await mkdir(work, { recursive: true })

const sizes = values.sizes !== undefined ? values.sizes.split(',').map(parseSize) : await defaultSizes()

interface Row {
  size: number
  parts: number
  actionSeconds: number
  actionRss: number
  curlSeconds: number
  sha1sumSeconds: number
  hashSeconds: number
  unchangedSeconds: number
  unchangedRss: number
}

const rows: Row[] = []
const emulator = await startEmulator({ dataDir: path.join(work, 'emulator') })
try {
  const user = emulator.addUser()
  const dataset = emulator.addDataset({ owner: user.id, slug: 'bench' })
  for (const size of sizes) {
    const name = `bench-${formatBytes(size).replace(/[ .]/g, '')}.csv`
    const file = path.join(work, name)
    console.error(`\n== ${formatBytes(size)}: writing ${file}`)
    const sha1 = await writeFile_(file, size)
    const resource = emulator.addFileResource(dataset.id, { filename: name, content: 'old', title: `Bench ${formatBytes(size)}` })
    const inputs = { 'api-url': emulator.url, 'api-key': user.apiKey, dataset: dataset.id, files: name }

    await dropCaches(file)
    const sha1sumSeconds = await timed(async () => {
      const { stdout } = await run('sha1sum', [file])
      if (!stdout.startsWith(sha1)) throw new Error('sha1sum disagrees with the generator')
    })
    const hashSeconds = await timed(async () => {
      if ((await hashFile(file)) !== sha1) throw new Error('hashFile disagrees with the generator')
    })

    console.error('   action (changed file)')
    emulator.resetRequests()
    const changed = await runMeasured(inputs)
    const stored = emulator.getResource(dataset.id, resource.id)
    if (stored?.checksum?.value !== sha1 || stored.filesize !== size) throw new Error(`the action did not publish ${name}: ${changed.log}`)
    const parts = emulator.requests.filter((r) => r.method === 'POST' && r.fields?.partindex !== undefined).length

    console.error('   action (unchanged file)')
    emulator.resetRequests()
    const unchanged = await runMeasured(inputs)
    if (emulator.requests.some((r) => r.method !== 'GET')) throw new Error('the unchanged run wrote something')

    console.error('   curl -F')
    const url = `${emulator.url}/api/1/datasets/${dataset.id}/resources/${resource.id}/upload/`
    const curlSeconds = await timed(async () => {
      const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `X-API-KEY: ${user.apiKey}`, '-F', `file=@${file}`, url])
      if (stdout !== '200') throw new Error(`curl got ${stdout}`)
    })

    rows.push({
      size,
      parts,
      actionSeconds: changed.seconds,
      actionRss: changed.rss,
      curlSeconds,
      sha1sumSeconds,
      hashSeconds,
      unchangedSeconds: unchanged.seconds,
      unchangedRss: unchanged.rss,
    })
    await rm(file, { force: true })
  }
} finally {
  await emulator.close()
  await rm(work, { recursive: true, force: true })
}

const table = [
  '| File | Parts | Action: wall | curl -F: wall | Ratio | Action: rate | Action: peak RSS | Hash: ours vs sha1sum | Unchanged: decide | Unchanged: peak RSS |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${formatBytes(r.size)} | ${r.parts} | ${r.actionSeconds.toFixed(2)} s | ${r.curlSeconds.toFixed(2)} s | ${(r.actionSeconds / r.curlSeconds).toFixed(2)} | ${formatBytes(Math.round(r.size / r.actionSeconds))}/s | ${formatBytes(r.actionRss)} | ${(r.sha1sumSeconds / r.hashSeconds).toFixed(2)} (${formatBytes(Math.round(r.size / r.hashSeconds))}/s vs ${formatBytes(Math.round(r.size / r.sha1sumSeconds))}/s) | ${r.unchangedSeconds.toFixed(2)} s | ${formatBytes(r.unchangedRss)} |`,
  ),
].join('\n')
const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const header = `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${cpu}, ${formatBytes(os.totalmem())} RAM, Node ${process.version}, ${os.type()} ${os.release()}.`
const text = `# Benchmarks

${header}

\`npm run bench\`: each file is published by the bundled action (\`node dist/index.js\`, inputs as the runner
gives them) to the local udata emulator running in the benchmark's process, with the default chunk
size (20 MB parts); "curl -F" uploads the same file in one request to the same emulator endpoint. "Ratio" is the
action's wall time over curl's, process start to exit. Peak RSS is the action process's own maximum
resident set (getrusage). "Hash" compares the action's streaming sha1 with \`sha1sum\` on the same file
(higher is better for us). "Unchanged" is a second run on the same file: the time to find that nothing
needs sending (one dataset read, one streaming sha1), with no write request.

${table}
`
await writeFile(path.join(root, values.out ?? 'BENCHMARKS.md'), text)
console.log(`\n${header}\n\n${table}`)

async function runMeasured(inputs: Record<string, string>): Promise<{ seconds: number; rss: number; log: string }> {
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
  const child = spawn(process.execPath, ['--require', path.join(root, 'scripts/rss-probe.cjs'), DIST], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (code !== 0) throw new Error(`the action failed (${code}):\n${log}`)
  return { seconds, rss: Number(await readFile(probe, 'utf8')), log }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - started) / 1e9
}

/** Best effort: evicting the file from the page cache is not possible unprivileged everywhere; all tools then read it warm alike. */
async function dropCaches(_file: string): Promise<void> {}

/** Pseudo-random content, each MiB different, streamed to disk; returns its sha1. */
async function writeFile_(file: string, size: number): Promise<string> {
  const hash = createHash('sha1')
  const out = createWriteStream(file)
  const block = Buffer.alloc(MiB)
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24
  for (let written = 0, n = 0; written < size; n++) {
    block.writeUInt32LE(n, 0)
    const piece = block.subarray(0, Math.min(block.length, size - written))
    hash.update(piece)
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    written += piece.length
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
  return hash.digest('hex')
}

function parseSize(text: string): number {
  const match = /^(\d+)([MG])$/i.exec(text.trim())
  if (match === null) throw new Error(`--sizes: '${text}' is not a size such as 100M or 1G`)
  return Number(match[1]) * (match[2]?.toUpperCase() === 'G' ? GiB : MiB)
}

/** 100 MiB and 1 GiB always; 4 GiB when the disk holds the file, its stored copy and its parts with room to spare. */
async function defaultSizes(): Promise<number[]> {
  const fs = await statfs(work)
  const free = fs.bavail * fs.bsize
  return free > 16 * GiB ? [100 * MiB, GiB, 4 * GiB] : [100 * MiB, GiB]
}
