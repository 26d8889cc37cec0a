/**
 * The data diff's time and memory (issue 21), and what loading octokit costs, measured on the
 * bundled action (a copy of dist/ taken at the start) run as the runner runs it
 * (scripts/run-action.ts; peak RSS by scripts/rss-probe.cjs) against the emulator, on Node 24 and
 * on the Node running this script. Prints figures; asserts nothing.
 *
 *   npx tsx scripts/bench/diff.ts                       # a 100 MB CSV, 1 run of each
 *   npx tsx scripts/bench/diff.ts --size 10M --runs 3   # another size, medians of 3
 *   npx tsx scripts/bench/diff.ts --before DIR          # also the start-up of an earlier dist/ (DIR/index.js)
 *   npx tsx scripts/bench/diff.ts --no-node24           # this Node only
 *   npm install --prefix /tmp/daff daff@1.4.2 && \
 *   npx tsx scripts/bench/diff.ts --daff /tmp/daff/node_modules/daff   # also daff, for comparison
 *
 * Method. Two CSV files of about `--size` bytes (never above it, so the default diff-max-size of
 * 100MB takes a 100 MB pair): the published one seeded in the emulator, the local one with 1 % of
 * its rows changed, 0.5 % removed and 0.4 % added at the end. Each runtime runs a dry run of the
 * local file twice: with `diff-max-size: 0` (the baseline: no download, no diff) and with the
 * default bound (the published file downloaded through the client's dispatcher, then both files
 * read as streams and compared). The diff's time is the difference of the two walls, its memory
 * the difference of the two peaks. Start-up: a dry run of a tiny file (a 2-row CSV replacing a
 * published one) with diff-max-size: 0 and with its diff, on no pull request (octokit is never
 * loaded), and on a pull request against the GitHub stand-in (the comment's chunk loaded),
 * `--startup-runs` times each (default 5), medians of the peaks.
 *
 * The comparison alone: src/diff/table.ts `diffTables` on the same pair in a process of its own
 * (this Node with tsx; its peak beside that of the same process comparing nothing). With `--daff`
 * (the folder of an installed daff: it is not a dependency of the project), daff as its README uses
 * it, on a pair of `--daff-size` (default 10M: daff takes minutes there already) and, on the
 * `--size` pair, only its first step (both tables parsed into memory by csv-parse/sync).
 */
import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { startEmulator } from '../../emulator/server.js'
import { startGitHub } from '../../test/helpers/github.js'
import { ensureNode24, nodeVersion } from '../node24.js'
import { runAction } from '../run-action.js'
import { bareNodeRss, median, MiB, root, type Runtime } from './measure.js'

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '100M' },
    runs: { type: 'string', default: '1' },
    before: { type: 'string' },
    'no-node24': { type: 'boolean' },
    'startup-runs': { type: 'string', default: '5' },
    daff: { type: 'string' },
    'daff-size': { type: 'string', default: '10M' },
  },
})
const size = parseSize(values.size)
const runs = Number(values.runs)
const startupRuns = Number(values['startup-runs'])
const PROBE = path.join(root, 'scripts/rss-probe.cjs')
const execFileAsync = promisify(execFile)

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text)
  if (match === null) throw new Error(`--size: a number of bytes with K, M or G, got '${text}'`)
  const unit = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[(match[2] ?? '').toUpperCase()] ?? 1
  return Math.floor(Number(match[1]) * unit)
}

/** One CSV row; `variant` changes 1 % of the values of the local file. */
function row(i: number, variant: 'published' | 'local'): string {
  const month = String(1 + (i % 12)).padStart(2, '0')
  const day = String(1 + (i % 28)).padStart(2, '0')
  const value = ((i * 7919) % 100_000) + (variant === 'local' && i % 100 === 7 ? 1 : 0)
  const code = String(1000 + (i % 90_000)).padStart(5, '0')
  return `${i},2024-${month}-${day},${code},Libellé de la ligne numéro ${i},${value}.${i % 100},cat-${i % 17}\n`
}

/** A CSV file of at most `bytes`; the local one drops 0.5 % of the rows and adds 0.4 % at the end. */
async function writeCsv(
  file: string,
  bytes: number,
  variant: 'published' | 'local',
): Promise<number> {
  const out = createWriteStream(file)
  const header = 'id,date,code_commune,libelle,valeur,categorie\n'
  let written = Buffer.byteLength(header)
  out.write(header)
  const reserve = variant === 'local' ? Math.floor(bytes * 0.004) : 0
  let rows = 0
  for (let i = 1; ; i++) {
    if (variant === 'local' && i % 200 === 3) continue
    const line = row(i, variant)
    if (written + Buffer.byteLength(line) > bytes - reserve) break
    written += Buffer.byteLength(line)
    rows++
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  for (let i = 100_000_000; variant === 'local'; i++) {
    const line = row(i, variant)
    if (written + Buffer.byteLength(line) > bytes) break
    written += Buffer.byteLength(line)
    rows++
    out.write(line)
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
  return rows
}

interface Measure {
  seconds: number
  rss: number
  stdout: string
}

/** The bundle (or `script`) run once as the runner runs it, with the RSS probe. */
async function measured(
  runtime: Runtime,
  inputs: Record<string, string>,
  cwd: string,
  env: Record<string, string> = {},
  script?: string,
): Promise<Measure> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-diff-probe-'))
  const probe = path.join(scratch, 'probe.json')
  try {
    const started = process.hrtime.bigint()
    const result = await runAction(inputs, {
      cwd,
      node: runtime.node,
      script: script ?? BUNDLE,
      env: { NODE_OPTIONS: `--require ${PROBE}`, RSS_PROBE_FILE: probe, ...env },
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (result.code !== 0) throw new Error(`the action failed:\n${result.stdout}${result.stderr}`)
    const { rss } = JSON.parse(await readFile(probe, 'utf8')) as { rss: number }
    return { seconds, rss, stdout: result.stdout }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
const secs = (s: number): string => `${s.toFixed(2)} s`

/** A process of its own that compares two files and prints its wall and peak (VmHWM) as JSON. */
const ALONE_SCRIPT = `
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
const [mode, a, b, daffDir] = process.argv.slice(2)
const started = process.hrtime.bigint()
let result = {}
if (mode === 'ours') {
  const { diffTables } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'src/diff/table.ts')).href)})
  result = (await diffTables(a, b)).rows
} else if (mode !== 'bare') {
  const require = createRequire(${JSON.stringify(pathToFileURL(path.join(root, 'package.json')).href)})
  const { parse } = require('csv-parse/sync')
  const daff = require(daffDir)
  const table = (file) => new daff.TableView(parse(readFileSync(file, 'utf8'), { relax_column_count: true }))
  const [t1, t2] = [table(a), table(b)]
  result = { rows: [t1.height - 1, t2.height - 1] }
  if (mode === 'daff') {
    const out = []
    const alignment = daff.compareTables(t1, t2).align()
    new daff.TableDiff(alignment, new daff.CompareFlags()).hilite(new daff.TableView(out))
    for (const [mark] of out) result[mark] = (result[mark] ?? 0) + 1
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const peak = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
console.log(JSON.stringify({ seconds, peak, result }))
`

interface Alone {
  seconds: number
  peak: number
  result: Record<string, unknown>
}

async function compareAlone(
  mode: 'bare' | 'ours' | 'daff' | 'daff-parse',
  a = '',
  b = '',
): Promise<Alone> {
  const script = path.join(work, 'alone.mjs')
  await writeFile(script, ALONE_SCRIPT)
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', '--max-old-space-size=16384', script, mode, a, b, values.daff ?? ''],
    { cwd: root, maxBuffer: 1 << 20 },
  )
  return JSON.parse(stdout) as Alone
}

/** The table of the comparisons in processes of their own. */
async function alone(published: string, local: string): Promise<string[]> {
  const bare = await compareAlone('bare')
  const row = (what: string, pair: string, m: Alone): string =>
    `| ${what} | ${pair} | ${secs(m.seconds)} | ${mib(m.peak)} | \`${JSON.stringify(m.result)}\` |`
  const lines = [
    `| What | pair | wall | peak RSS (the same process comparing nothing: ${mib(bare.peak)}) | result |`,
    '| --- | --- | ---: | ---: | --- |',
    row(
      'src/diff diffTables (csv-parse streams, rows as hashes)',
      values.size,
      await compareAlone('ours', published, local),
    ),
  ]
  if (values.daff === undefined) return [...lines, '', 'daff: not measured (--daff DIR)']
  const small = {
    published: path.join(work, 'daff-published.csv'),
    local: path.join(work, 'daff-local.csv'),
  }
  const smallSize = parseSize(values['daff-size'])
  await writeCsv(small.published, smallSize, 'published')
  await writeCsv(small.local, smallSize, 'local')
  const pkg = JSON.parse(await readFile(path.join(values.daff, 'package.json'), 'utf8')) as {
    version: string
  }
  lines.push(
    row(
      'src/diff diffTables',
      values['daff-size'],
      await compareAlone('ours', small.published, small.local),
    ),
    row(
      `daff ${pkg.version} (csv-parse/sync, compareTables().align(), TableDiff.hilite)`,
      values['daff-size'],
      await compareAlone('daff', small.published, small.local),
    ),
    row(
      `daff ${pkg.version}: both tables parsed into memory, nothing compared yet`,
      values.size,
      await compareAlone('daff-parse', published, local),
    ),
  )
  return lines
}

async function runtimesToMeasure(): Promise<Runtime[]> {
  const here: Runtime = {
    label: `Node ${process.versions.node.split('.')[0]}`,
    version: process.version,
    node: process.execPath,
  }
  if (values['no-node24'] === true || process.versions.node.startsWith('24.')) return [here]
  const node24 = await ensureNode24((line) => console.error(line))
  return [{ label: 'Node 24', version: (await nodeVersion(node24)) ?? '?', node: node24 }, here]
}

const work = await mkdtemp(path.join(os.tmpdir(), 'bench-diff-'))
// A copy of dist/ (the bundle and its chunks): a rebuild during the bench does not change what runs.
await cp(path.join(root, 'dist'), path.join(work, 'dist'), { recursive: true })
const BUNDLE = path.join(work, 'dist/index.js')
const emulator = await startEmulator({
  dataDir: path.join(work, 'emulator'),
  sameSecondConflict: false,
})
const github = await startGitHub()
try {
  const user = emulator.addUser()
  const published = path.join(work, 'published.csv')
  const local = path.join(work, 'data.csv')
  const rows = {
    published: await writeCsv(published, size, 'published'),
    local: await writeCsv(local, size, 'local'),
  }
  const dataset = emulator.addDataset({ slug: 'bench-diff', title: 'Bench diff', owner: user.id })
  emulator.addFileResource(dataset.id, {
    filename: 'data.csv',
    content: await readFile(published),
    title: 'Data',
  })
  const tiny = emulator.addDataset({ slug: 'bench-tiny', title: 'Tiny', owner: user.id })
  emulator.addFileResource(tiny.id, { filename: 'tiny.csv', content: 'a,b\n1,2\n', title: 'Tiny' })
  await writeFile(path.join(work, 'tiny.csv'), 'a,b\n1,3\n')
  const common = {
    'api-url': emulator.url,
    'api-key': user.apiKey,
    provenance: 'false',
    'dry-run': 'true',
  }
  const bytes = { published: size, local: (await stat(local)).size }
  console.log(
    `Files: published ${mib(bytes.published)} (${rows.published} rows), local ${mib(bytes.local)} (${rows.local} rows); ` +
      `${runs} run(s) each; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ${os.cpus().length} CPUs`,
  )
  const lines = [
    '| Runtime | without diff: wall / peak RSS | with the diff: wall / peak RSS | the diff: time / memory | diff line |',
    '| --- | ---: | ---: | ---: | --- |',
  ]
  const startup = [
    '| Runtime | bare node | dry run, diff-max-size: 0 | dry run (its diff, no comment) | dry run + PR comment (octokit loaded) | the comment costs | earlier bundle, dry run |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const runtime of await runtimesToMeasure()) {
    const inputs = { ...common, dataset: dataset.id, files: 'data.csv' }
    const off: Measure[] = []
    const on: Measure[] = []
    for (let i = 0; i < runs; i++) {
      off.push(await measured(runtime, { ...inputs, 'diff-max-size': '0' }, work))
      on.push(await measured(runtime, inputs, work))
    }
    const line = /^data\.csv: .*$/m.exec(on[0]?.stdout ?? '')?.[0] ?? '(no diff line)'
    const wall = { off: median(off.map((m) => m.seconds)), on: median(on.map((m) => m.seconds)) }
    const rss = { off: Math.max(...off.map((m) => m.rss)), on: Math.max(...on.map((m) => m.rss)) }
    lines.push(
      `| ${runtime.label} ${runtime.version} | ${secs(wall.off)} / ${mib(rss.off)} | ${secs(wall.on)} / ${mib(rss.on)} | ` +
        `${secs(wall.on - wall.off)} / +${mib(rss.on - rss.off)} | \`${line}\` |`,
    )
    const small = { ...common, dataset: tiny.id, files: 'tiny.csv' }
    const plain: number[] = []
    const noDiff: number[] = []
    const comment: number[] = []
    for (let i = 0; i < startupRuns; i++) {
      noDiff.push((await measured(runtime, { ...small, 'diff-max-size': '0' }, work)).rss)
      plain.push((await measured(runtime, small, work)).rss)
      const pr = await measured(runtime, small, work, await github.pullRequest(1))
      if (!/Comment (created|updated) on pull request #1/.test(pr.stdout))
        throw new Error(`no comment written:\n${pr.stdout}`)
      comment.push(pr.rss)
    }
    const before =
      values.before === undefined
        ? 'not measured (--before DIR)'
        : mib((await measured(runtime, small, work, {}, path.join(values.before, 'index.js'))).rss)
    startup.push(
      `| ${runtime.label} | ${mib(await bareNodeRss(runtime))} | ${mib(median(noDiff))} | ${mib(median(plain))} | ${mib(median(comment))} | ` +
        `+${mib(median(comment) - median(plain))} | ${before} |`,
    )
  }
  console.log(
    `\nThe data diff of one CSV file (dry run; medians of walls, highest peaks):\n\n${lines.join('\n')}`,
  )
  console.log(
    `\nStart-up (peak RSS of a dry run of a tiny file, medians of ${startupRuns}):\n\n${startup.join('\n')}`,
  )
  console.log(
    `\nThe comparison alone (${process.version}):\n\n${(await alone(published, local)).join('\n')}`,
  )
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
} finally {
  await github.close()
  await emulator.close()
  await rm(work, { recursive: true, force: true })
}
