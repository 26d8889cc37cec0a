/**
 * Benchmark of the bundled action (`dist/index.js`, run as the runner runs it) against the local
 * udata emulator, on Node 24 (the runner's runtime, fetched from the npm registry: scripts/node24.ts)
 * and on the Node running this script (20 here), side by side; beside it `curl` and `sha1sum` doing
 * the same work. Every target of issue 10 is printed with its limit and whether it is met.
 *
 *   npm run bench                                   # everything; writes BENCHMARKS.md
 *   npm run bench -- --quick                        # small sizes, one run: to try things (prints only)
 *   npm run bench -- --only far-link,unchanged      # some scenarios (prints only, unless --out)
 *   npm run bench -- --sizes 1G --runs 5 --input part-concurrency=4
 *
 * Scenarios (--only): loopback (changed files of --sizes: peak RSS, parts phase vs curl -F),
 * unchanged, far-link (open), far-window (the same link, --far-window bytes in flight per
 * connection), real-udata (--real-size to real udata --udata v17 or v7: parts phase vs curl -F, CPU
 * of client and server), small-files, big-dataset. Their method is in each scripts/bench/*.ts.
 * Every timed run of a big file starts after `sync`; runtimes alternate in order from run to run;
 * tables give medians, peak RSS every run.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { format, resolveConfig } from 'prettier'
import { startEmulator } from '../emulator/server.js'
import { bigDataset } from './bench/big-dataset.js'
import { farLink } from './bench/far-link.js'
import { loopback } from './bench/loopback.js'
import {
  formatBytes,
  GiB,
  KiB,
  MiB,
  parseSize,
  root,
  type Bench,
  type Runtime,
} from './bench/measure.js'
import { targetsTable, targetsText, type Section } from './bench/report.js'
import { realUdata } from './bench/real-udata.js'
import { smallFiles } from './bench/small-files.js'
import { unchanged } from './bench/unchanged.js'
import { parseRate } from './link-proxy.js'
import { ensureNode24, nodeVersion } from './node24.js'

const SCENARIOS = [
  'loopback',
  'unchanged',
  'far-link',
  'far-window',
  'real-udata',
  'small-files',
  'big-dataset',
] as const
type Scenario = (typeof SCENARIOS)[number]

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    sizes: { type: 'string' },
    'unchanged-size': { type: 'string' },
    'far-size': { type: 'string' },
    'far-delay': { type: 'string', default: '40' },
    'far-rate': { type: 'string', default: '400M' },
    'far-window': { type: 'string', default: '1M' },
    'real-size': { type: 'string' },
    udata: { type: 'string', default: 'v17' },
    'small-files': { type: 'string' },
    resources: { type: 'string' },
    node24: { type: 'string' },
    node20: { type: 'string' },
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    input: { type: 'string', multiple: true, default: [] },
  },
})
const quick = values.quick === true
const only =
  values.only === undefined ? [...SCENARIOS] : values.only.split(',').map((s) => s.trim())
for (const name of only)
  if (!(SCENARIOS as readonly string[]).includes(name))
    throw new Error(`--only: unknown scenario '${name}' (${SCENARIOS.join(', ')})`)
const chosen = (name: Scenario): boolean => only.includes(name)
const runs = Number(values.runs ?? (quick ? 1 : 3))
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive whole number, not ${values.runs}`)
const extraInputs: Record<string, string> = {}
for (const pair of values.input ?? []) {
  const at = pair.indexOf('=')
  if (at < 1) throw new Error(`--input ${pair}: expected name=value`)
  extraInputs[pair.slice(0, at)] = pair.slice(at + 1)
}

// Folders of this run only: two benches at once (another checkout's) must not delete each other's files.
const work = await mkdtemp(path.join(os.tmpdir(), 'datagouv-publish-bench-'))
const sizes =
  values.sizes !== undefined
    ? values.sizes.split(',').map(parseSize)
    : quick
      ? [100 * MiB]
      : await defaultSizes()
const unchangedSize = parseSize(values['unchanged-size'] ?? (quick ? '100M' : '1G'))
const farSize = parseSize(values['far-size'] ?? (quick ? '32M' : '256M'))
const realSize = parseSize(values['real-size'] ?? (quick ? '32M' : '256M'))
const udataVersion = values.udata
if (udataVersion !== 'v17' && udataVersion !== 'v7')
  throw new Error(`--udata: '${udataVersion}' is not a version of the kit (v17, v7)`)
const smallCount = Number(values['small-files'] ?? (quick ? 50 : 500))
const resourceCounts = (values.resources ?? (quick ? '500,1000,2000' : '5000,10000,20000'))
  .split(',')
  .map(Number)
const biggest = Math.max(
  chosen('loopback') ? Math.max(...sizes) : 0,
  chosen('unchanged') ? unchangedSize : 0,
  chosen('far-link') || chosen('far-window') ? farSize : 0,
  chosen('real-udata') ? realSize : 0,
  64 * MiB,
)
const dataDir = await mkdtemp(
  path.join(
    values['data-dir'] ?? (await memoryDisk(biggest)) ?? work,
    'datagouv-publish-bench-emulator-',
  ),
)

const log = (line: string): void => console.error(line)
const runtimes = await chooseRuntimes()
log(`runtimes: ${runtimes.map((r) => `${r.label} ${r.version} (${r.node})`).join(', ')}`)
const loadBefore = os.loadavg()
const started = new Date()

// `sameSecondConflict: false`: the action and curl store the same name into one dataset in quick
// succession; udata's same-second 500 (which the action would retry) is not what is measured here.
const emulator = await startEmulator({ dataDir, sameSecondConflict: false })
const sections: Section[] = []
const farProfile = {
  delayMs: Number(values['far-delay']),
  bitsPerSecond: parseRate(values['far-rate'] ?? '400M'),
}
try {
  const bench: Bench = {
    emulator,
    user: emulator.addUser(),
    runtimes,
    runs,
    quick,
    work,
    extraInputs,
    log,
  }
  const plan: Array<[Scenario, () => Promise<Section>]> = [
    ['loopback', () => loopback(bench, sizes)],
    ['unchanged', () => unchanged(bench, unchangedSize)],
    ['far-link', () => farLink(bench, farSize, farProfile)],
    [
      'far-window',
      () =>
        farLink(bench, farSize, {
          ...farProfile,
          windowBytes: parseSize(values['far-window'] ?? '1M'),
        }),
    ],
    ['real-udata', () => realUdata(bench, realSize, udataVersion, path.dirname(dataDir))],
    ['small-files', () => smallFiles(bench, smallCount, 10 * KiB, 3)],
    ['big-dataset', () => bigDataset(bench, resourceCounts)],
  ]
  for (const [name, scenario] of plan) {
    if (!chosen(name)) continue
    const load = os.loadavg()[0] ?? 0
    try {
      const section = await scenario()
      section.title += ` (load average before: ${load.toFixed(2)})`
      sections.push(section)
    } catch (error) {
      log(
        `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      const message = error instanceof Error ? error.message : String(error)
      const failed = { value: `failed: ${message.split('\n')[0] ?? ''}`, met: false }
      sections.push({
        id: name,
        title: `${name}: failed`,
        body: `\`\`\`\n${message}\n\`\`\``,
        targets: [
          {
            name: `${name}: the scenario ran to its end`,
            limit: 'no failure',
            results: Object.fromEntries(runtimes.map((r) => [r.label, failed])),
          },
        ],
      })
      process.exitCode = 1
    }
  }
} finally {
  await emulator.close()
  await rm(work, { recursive: true, force: true })
  await rm(dataDir, { recursive: true, force: true })
}

const header = machine()
const summary = targetsTable(sections, runtimes)
console.log(`\n${header}\n\n${targetsText(sections, runtimes)}\n`)
for (const s of sections) console.log(`## ${s.title}\n\n${s.body}\n`)

const complete = values.only === undefined && !quick && values.sizes === undefined
const outFile = values.out ?? (complete ? 'BENCHMARKS.md' : undefined)
if (outFile === undefined) {
  log('(a partial or quick run: BENCHMARKS.md left as it is; --out FILE writes it somewhere)')
} else {
  await writeResults(path.resolve(root, outFile))
  log(`written to ${outFile}`)
}

async function writeResults(file: string): Promise<void> {
  const generated = [
    '<!-- bench:start (written by `npm run bench`; edit outside the markers) -->',
    header,
    '### Targets',
    summary,
    ...sections.flatMap((s) => [`### ${s.title}`, s.body]),
    '<!-- bench:end -->',
  ].join('\n\n')
  let document: string
  try {
    const previous = await readFile(file, 'utf8')
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
  await writeFile(
    file,
    await format(document, { ...(await resolveConfig(file)), parser: 'markdown' }),
  )
}

/** Node 24 (fetched unless --node24), then the Node running this script (or --node20) when it is another. */
async function chooseRuntimes(): Promise<Runtime[]> {
  const node24 = values.node24 ?? (await ensureNode24(log))
  const list: Runtime[] = [await runtime(node24)]
  const other = await runtime(values.node20 ?? process.execPath)
  if (other.version !== list[0]?.version) list.push(other)
  if (!list[0]?.version.startsWith('v24.'))
    throw new Error(`${node24} is ${list[0]?.version}, not Node 24`)
  return list
}

async function runtime(node: string): Promise<Runtime> {
  const version = await nodeVersion(node)
  if (version === undefined) throw new Error(`${node} does not run`)
  return { label: `Node ${version.replace(/^v/, '').split('.')[0]}`, version, node }
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ')
  const extra =
    Object.keys(extraInputs).length > 0 ? `, extra inputs ${JSON.stringify(extraInputs)}` : ''
  return [
    `- Measured ${started.toISOString()} to ${new Date().toISOString()}${quick ? ' (--quick)' : ''}; ${runs} run${runs > 1 ? 's' : ''} of each measure.`,
    `- Machine: \`nproc\` ${os.availableParallelism()} (${cpu}), ${os.type()} ${os.release()}; \`free -h\` at the end: ${freeMemory()}.`,
    `- Load average (1, 5, 15 min): ${load(loadBefore)} at the start, ${load(os.loadavg())} at the end.`,
    `- Runtimes: ${runtimes.map((r) => `${r.label} = ${r.version}`).join(', ')}; the bench itself, the emulator and curl's side run on ${process.version}.`,
    `- Bundle: \`dist/index.js\` ${bundleVersion()}${extra}.`,
    `- Local files in ${work}; the emulator's storage in ${path.dirname(dataDir)}.`,
  ].join('\n')
}

/** `free -h`'s memory line, each figure named by its column. */
function freeMemory(): string {
  try {
    const [head, mem] = execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n')
    const names = head?.trim().split(/\s+/) ?? []
    const values = mem?.trim().split(/\s+/).slice(1) ?? []
    return names.map((name, i) => `${name} ${values[i] ?? '?'}`).join(', ')
  } catch {
    return `total ${formatBytes(os.totalmem())}`
  }
}

/** Which bundle was measured: its last commit, and whether the working tree changed it since. */
function bundleVersion(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
    const commit = git('log', '-1', '--format=%h %cs', '--', 'dist/index.js')
    const dirty = git('status', '--porcelain', '--', 'dist/index.js') !== ''
    return `of commit ${commit}${dirty ? ', modified in the working tree' : ''}`
  } catch {
    return '(not in a git checkout)'
  }
}

/**
 * /dev/shm when it can hold the emulator's copies of the biggest file (its parts, then the stored
 * file, then curl's): the server's storage then costs what a fast disk costs, the same for the
 * action and for curl, instead of this machine's writeback.
 */
async function memoryDisk(size: number): Promise<string | undefined> {
  try {
    const fs = await statfs('/dev/shm')
    return fs.bavail * fs.bsize > 3 * size + 2 * GiB ? '/dev/shm' : undefined
  } catch {
    return undefined
  }
}

/** 1 GiB always; 4 GiB when the disk holds the file with room to spare. */
async function defaultSizes(): Promise<number[]> {
  const fs = await statfs(work)
  return fs.bavail * fs.bsize > 16 * GiB ? [GiB, 4 * GiB] : [GiB]
}
