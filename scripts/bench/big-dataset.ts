/**
 * Planning against a big dataset: datasets of N file resources (seeded in the emulator's process),
 * and a run that publishes 10 unchanged files matching resources spread through the list: all the
 * work is reading the dataset, matching, hashing 10 tiny files and deciding (no write is sent).
 * Planning time is the action's time from its first read of the dataset (arrival at the server) to
 * its exit, less the server's time answering those reads: receiving, parsing and checking the
 * dataset, matching, deciding, reporting. Node's start and the bundle's load come before and are
 * out. Target: not worse than linear in N (from half the resources to all, at most 2.5×: linear is
 * 2×, quadratic 4×); time and peak RSS at the biggest are reported.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  formatBytes,
  inTurn,
  median,
  ratio,
  runMeasured,
  seconds,
  timed,
  writesAndBytes,
  type Bench,
  type MemorySample,
} from './measure.js'
import { table, type Section, type Target } from './report.js'

const MATCHED = 10

interface Figures {
  resources: number
  seedSeconds: number
  jsonBytes: number
  /** The dataset's reads at the server, per run (rendering included). */
  serverSeconds: number[]
  byRuntime: Record<
    string,
    {
      wall: number[]
      planning: number[]
      rss: number[]
      atPeak?: MemorySample
      /** V8's zone memory peak (parser, compilers, WebAssembly tier-up), last run. */
      peakMalloced?: number
    }
  >
}

export async function bigDataset(bench: Bench, counts: readonly number[]): Promise<Section> {
  const all: Figures[] = []
  for (const n of [MATCHED, ...counts]) all.push(await measure(bench, n))
  const figures = all.slice(1)
  const net = (f: Figures, label: string): number => median(f.byRuntime[label]?.planning ?? [])
  const rows = all.map((f) => [
    f.resources.toLocaleString('en'),
    `${seconds(f.seedSeconds)}`,
    formatBytes(f.jsonBytes),
    seconds(median(f.serverSeconds)),
    ...bench.runtimes.flatMap((r) => [
      seconds(median(f.byRuntime[r.label]?.wall ?? [])),
      seconds(net(f, r.label)),
      (f.byRuntime[r.label]?.rss ?? []).map(formatBytes).join(', '),
      `${formatBytes(f.byRuntime[r.label]?.atPeak?.heapUsed ?? Number.NaN)} / ${formatBytes(f.byRuntime[r.label]?.peakMalloced ?? Number.NaN)}`,
    ]),
  ])
  const body = [
    `Each run publishes ${MATCHED} unchanged files matching resources spread through the dataset; "planning" is the time from the first read of the dataset (its arrival at the emulator) to the action's exit, less the emulator's time answering the dataset's reads (every GET naming it, rendering included, reported beside). Node's start and the bundle's load come before and are out; the JSON size is that of \`GET /api/1/datasets/{id}/\`. Heap used is \`process.memoryUsage().heapUsed\` at the highest sampled rss of the last run; V8 zones is V8's \`peak_malloced_memory\` in that run (parser, compilers, the WebAssembly tier-up).`,
    table(
      [
        'Resources',
        'Seeding (emulator)',
        'Dataset JSON',
        'Dataset reads at the server',
        ...bench.runtimes.flatMap((r) => [
          `${r.label}: wall`,
          'planning',
          'peak RSS, each run',
          'heap used at peak / V8 zones',
        ]),
      ],
      rows,
    ),
  ].join('\n\n')
  return {
    id: 'big-dataset',
    title: 'A dataset with many resources',
    body,
    targets: targets(bench, figures, net),
  }
}

async function measure(bench: Bench, n: number): Promise<Figures> {
  bench.log(`big dataset: ${n.toLocaleString('en')} resources`)
  const dataset = bench.emulator.addDataset({ owner: bench.user.id, slug: `bench-dataset-${n}` })
  const folder = path.join(bench.work, `big-${n}`)
  await mkdir(folder, { recursive: true })
  const step = Math.max(1, Math.floor(n / MATCHED))
  const seedSeconds = await timed(async () => {
    for (let i = n - 1; i >= 0; i--) {
      const name = `res-${String(i).padStart(6, '0')}.csv`
      const content = `id,value\n${i},${i * 7}\n`
      bench.emulator.addFileResource(dataset.id, {
        filename: name,
        content,
        title: `Resource ${i}`,
      })
      if (i % step === 0 && i / step < MATCHED) await writeFile(path.join(folder, name), content)
    }
  })
  const answer = await fetch(`${bench.emulator.url}/api/1/datasets/${dataset.id}/`)
  const jsonBytes = (await answer.arrayBuffer()).byteLength
  // Provenance off: the run must send nothing, and an unchanged resource not yet recorded would
  // get its record (one extras merge each).
  const inputs = {
    provenance: 'false',
    ...bench.extraInputs,
    'api-url': bench.emulator.url,
    'api-key': bench.user.apiKey,
    dataset: dataset.id,
    files: `big-${n}/*.csv`,
  }
  const figures: Figures = {
    resources: n,
    seedSeconds,
    jsonBytes,
    serverSeconds: [],
    byRuntime: {},
  }
  try {
    for (let i = 0; i < bench.runs; i++) {
      for (const runtime of inTurn(bench.runtimes, i)) {
        bench.emulator.resetRequests()
        const last = i === bench.runs - 1
        const measured = await runMeasured(runtime, inputs, {
          cwd: bench.work,
          ...(last ? { sampleMs: 5 } : {}),
        })
        const sent = writesAndBytes(bench.emulator.requests)
        if (sent.writes > 0)
          throw new Error(`the planning run on ${runtime.label} sent ${sent.writes} write requests`)
        if (measured.run.outputs['skipped-count'] !== String(MATCHED))
          throw new Error(`skipped-count ${measured.run.outputs['skipped-count']}, not ${MATCHED}`)
        const reads = bench.emulator.requests.filter(
          (r) => r.method === 'GET' && r.path.includes(`/datasets/${dataset.id}/`),
        )
        const serving = reads.reduce(
          (sum, r) => sum + ((r.finishedAt ?? Number.NaN) - r.startedAt),
          0,
        )
        const firstRead = Math.min(...reads.map((r) => r.startedAt))
        figures.serverSeconds.push(serving / 1000)
        const slot = (figures.byRuntime[runtime.label] ??= { wall: [], planning: [], rss: [] })
        slot.wall.push(measured.seconds)
        slot.planning.push((measured.endedAtMs - firstRead - serving) / 1000)
        slot.rss.push(measured.rss)
        if (measured.atPeak) slot.atPeak = measured.atPeak
        if (measured.peakMalloced !== undefined) slot.peakMalloced = measured.peakMalloced
        bench.log(
          `  run ${i + 1}/${bench.runs} ${runtime.label}: wall ${seconds(measured.seconds)}, planning ${seconds(slot.planning.at(-1) ?? Number.NaN)}, peak RSS ${formatBytes(measured.rss)}`,
        )
      }
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
  return figures
}

function targets(
  bench: Bench,
  figures: readonly Figures[],
  net: (f: Figures, label: string) => number,
): Target[] {
  const biggest = figures[figures.length - 1]
  const half =
    biggest === undefined ? undefined : figures.find((f) => f.resources * 2 === biggest.resources)
  if (biggest === undefined) return []
  const list: Target[] = [
    {
      name: `Planning against ${biggest.resources.toLocaleString('en')} resources: time and peak RSS`,
      limit: 'none: reported',
      results: Object.fromEntries(
        bench.runtimes.map((r) => [
          r.label,
          {
            value: `${seconds(net(biggest, r.label))} (wall ${seconds(median(biggest.byRuntime[r.label]?.wall ?? []))}), ${formatBytes(Math.max(...(biggest.byRuntime[r.label]?.rss ?? [])))}`,
          },
        ]),
      ),
    },
  ]
  if (half !== undefined) {
    list.push({
      name: `Planning growth, ${half.resources.toLocaleString('en')} → ${biggest.resources.toLocaleString('en')} resources (linear: 2×, quadratic: 4×)`,
      limit: '≤ 2.5×',
      results: Object.fromEntries(
        bench.runtimes.map((r) => {
          const growth = net(biggest, r.label) / net(half, r.label)
          return [
            r.label,
            {
              value: `${ratio(growth)} (${seconds(net(half, r.label))} → ${seconds(net(biggest, r.label))})`,
              met: growth <= 2.5,
            },
          ]
        }),
      ),
    })
  }
  return list
}
