/**
 * Loopback: a changed file of each size published by the action on every runtime, and uploaded by
 * `curl -F` as one request, to the same emulator. Gives the peak RSS (target: at most 100 MiB at
 * 1 GiB on Node 24, flat in size within 10 MiB) and the parts phase against curl (target: at most
 * 1.1×, issue 20). One more run per runtime, sampled, says what the memory at the peak is made of.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { generateFile } from '../generate-file.js'
import {
  bareNodeRss,
  curlUpload,
  formatBytes,
  GiB,
  inTurn,
  median,
  MiB,
  rate,
  ratio,
  runMeasured,
  seconds,
  singleUploadSeconds,
  sizeTag,
  sync,
  uploadPhases,
  type Bench,
  type Measured,
  type MemorySample,
  type Runtime,
} from './measure.js'
import { table, type Section, type Target, type Verdict } from './report.js'

interface SizeFigures {
  size: number
  parts: number
  /** By runtime label: every run. */
  action: Record<
    string,
    Array<{ wall: number; parts: number; final: number; gap: number; rss: number; cpu: number }>
  >
  curl: Array<{ wall: number; server: number; cpu: number }>
  progress: string[]
}

interface Diagnosis {
  bare: number
  bundleOnly: number
  sampled: Measured
  /** The same run with `file-checks: off` (the CSV check reads the file's start before the upload). */
  unchecked: Measured
}

export async function loopback(bench: Bench, sizes: readonly number[]): Promise<Section> {
  const dataset = bench.emulator.addDataset({ owner: bench.user.id, slug: 'bench-loopback' })
  const figures: SizeFigures[] = []
  const diagnoses: Record<string, Diagnosis> = {}
  const diagnosisSize = sizes.find((s) => s >= GiB) ?? sizes[0]
  for (const size of sizes) {
    const name = `bench-${sizeTag(size)}.csv`
    const file = path.join(bench.work, name)
    bench.log(`loopback ${formatBytes(size)}: writing ${file}`)
    const sha1 = await generateFile(file, size)
    try {
      const resource = bench.emulator.addFileResource(dataset.id, {
        filename: name,
        content: 'old',
        title: `Bench ${formatBytes(size)}`,
      })
      const inputs = {
        ...bench.extraInputs,
        'api-url': bench.emulator.url,
        'api-key': bench.user.apiKey,
        dataset: dataset.id,
        files: name,
      }
      const markChanged = (): void => {
        const state = bench.emulator.getResource(dataset.id, resource.id)
        if (state === undefined) throw new Error('the benchmark resource disappeared')
        state.filesize = 3
        state.checksum = { type: 'sha1', value: '0'.repeat(40) }
      }
      const verify = (what: string): void => {
        const stored = bench.emulator.getResource(dataset.id, resource.id)
        if (stored?.checksum?.value !== sha1 || stored.filesize !== size)
          throw new Error(`${what} did not store ${name}`)
      }
      const row: SizeFigures = { size, parts: 0, action: {}, curl: [], progress: [] }
      for (let i = 0; i < bench.runs; i++) {
        for (const runtime of inTurn(bench.runtimes, i)) {
          markChanged()
          await sync()
          bench.emulator.resetRequests()
          const measured = await runMeasured(runtime, inputs, { cwd: bench.work })
          verify(`the action on ${runtime.label}`)
          const phases = uploadPhases(bench.emulator.requests)
          row.parts = phases.parts
          ;(row.action[runtime.label] ??= []).push({
            wall: measured.seconds,
            parts: phases.partsSeconds,
            final: phases.finalSeconds,
            gap: phases.gapSeconds,
            rss: measured.rss,
            cpu: measured.cpu,
          })
          row.progress = measured.run.stdout
            .split('\n')
            .filter((line) => / of .* \(\d+ %\)/.test(line))
          bench.log(
            `  run ${i + 1}/${bench.runs} ${runtime.label}: wall ${seconds(measured.seconds)}, parts ${seconds(phases.partsSeconds)} (${phases.parts}), finalisation ${seconds(phases.finalSeconds)}, peak RSS ${formatBytes(measured.rss)}`,
          )
        }
        markChanged()
        await sync()
        bench.emulator.resetRequests()
        const c = await curlUpload(
          `${bench.emulator.url}/api/1/datasets/${dataset.id}/resources/${resource.id}/upload/`,
          bench.user.apiKey,
          file,
        )
        verify('curl')
        row.curl.push({
          wall: c.seconds,
          server: singleUploadSeconds(bench.emulator.requests),
          cpu: c.cpu,
        })
        bench.log(
          `  run ${i + 1}/${bench.runs} curl -F: wall ${seconds(c.seconds)}, at the server ${seconds(singleUploadSeconds(bench.emulator.requests))}`,
        )
      }
      figures.push(row)
      if (size === diagnosisSize) {
        for (const runtime of bench.runtimes)
          diagnoses[runtime.label] = await diagnose(bench, runtime, inputs, markChanged)
      }
    } finally {
      await rm(file, { force: true })
    }
  }
  return report(bench, figures, diagnoses, diagnosisSize)
}

/** What the peak is made of: a sampled run, the same with `file-checks: off`, the bare runtime and the bundle alone. */
async function diagnose(
  bench: Bench,
  runtime: Runtime,
  inputs: Record<string, string>,
  markChanged: () => void,
): Promise<Diagnosis> {
  bench.log(
    `  memory probe on ${runtime.label}: sampled run, run with file-checks off, bare node, bundle alone`,
  )
  markChanged()
  const sampled = await runMeasured(runtime, inputs, { cwd: bench.work, sampleMs: 5 })
  markChanged()
  const unchecked = await runMeasured(
    runtime,
    { ...inputs, 'file-checks': 'off' },
    { cwd: bench.work, sampleMs: 5 },
  )
  const bundleOnly = await runMeasured(runtime, {}, { cwd: bench.work, mayFail: true })
  return { bare: await bareNodeRss(runtime), bundleOnly: bundleOnly.rss, sampled, unchecked }
}

function report(
  bench: Bench,
  figures: readonly SizeFigures[],
  diagnoses: Record<string, Diagnosis>,
  diagnosisSize: number | undefined,
): Section {
  const rows: string[][] = []
  for (const f of figures) {
    const curlServer = median(f.curl.map((c) => c.server))
    for (const runtime of bench.runtimes) {
      const runs = f.action[runtime.label] ?? []
      const partsSeconds = median(runs.map((r) => r.parts))
      rows.push([
        formatBytes(f.size),
        runtime.label,
        String(f.parts),
        seconds(median(runs.map((r) => r.wall))),
        seconds(partsSeconds),
        seconds(median(runs.map((r) => r.final))),
        `${(median(runs.map((r) => r.gap)) * 1000).toFixed(0)} ms`,
        `${seconds(median(f.curl.map((c) => c.wall)))} / ${seconds(curlServer)}`,
        ratio(partsSeconds / curlServer),
        `${seconds(median(runs.map((r) => r.cpu)))} / ${seconds(median(f.curl.map((c) => c.cpu)))}`,
        rate(f.size, partsSeconds),
        runs.map((r) => formatBytes(r.rss)).join(', '),
      ])
    }
  }
  const biggest = figures[figures.length - 1]
  const body = [
    table(
      [
        'File',
        'Runtime',
        'Parts',
        'Action: wall',
        'parts phase',
        'finalisation',
        'wait between parts',
        'curl -F: wall / at the server',
        'Parts phase ÷ curl',
        'CPU: action / curl',
        'Parts rate',
        'Peak RSS, each run',
      ],
      rows,
    ),
    diagnosisSize === undefined ? '' : memoryTable(bench, diagnoses, diagnosisSize),
    biggest === undefined || biggest.progress.length === 0
      ? ''
      : `Progress lines of the last ${formatBytes(biggest.size)} upload:\n\n\`\`\`\n${biggest.progress.join('\n')}\n\`\`\``,
  ]
    .filter((part) => part !== '')
    .join('\n\n')
  return {
    id: 'loopback',
    title: 'Loopback: changed files, action vs curl -F',
    body,
    targets: targets(bench, figures),
  }
}

function memoryTable(bench: Bench, diagnoses: Record<string, Diagnosis>, size: number): string {
  const cell = (label: string, pick: (d: Diagnosis) => string): string => {
    const d = diagnoses[label]
    return d === undefined ? 'n/a' : pick(d)
  }
  const parts = (s: MemorySample | undefined): string[] => {
    if (s === undefined) return ['n/a', 'n/a', 'n/a', 'n/a']
    return [
      `${formatBytes(s.heapUsed)} / ${formatBytes(s.heapTotal)}`,
      `${formatBytes(s.external)} (${formatBytes(s.arrayBuffers)})`,
      formatBytes(s.rss - s.heapTotal - s.external),
      `${s.atMs ?? 'n/a'} ms`,
    ]
  }
  const labels = bench.runtimes.map((r) => r.label)
  const rows: string[][] = [
    ['`node -e 0` (the runtime alone)', ...labels.map((l) => cell(l, (d) => formatBytes(d.bare)))],
    [
      '`dist/index.js` with no inputs (the bundle loaded; fails at once)',
      ...labels.map((l) => cell(l, (d) => formatBytes(d.bundleOnly))),
    ],
    [
      `changed ${formatBytes(size)}: peak RSS (VmHWM)`,
      ...labels.map((l) => cell(l, (d) => formatBytes(d.sampled.rss))),
    ],
    [
      'at the highest sampled rss: rss',
      ...labels.map((l) => cell(l, (d) => formatBytes(d.sampled.atPeak?.rss ?? Number.NaN))),
    ],
  ]
  const names = [
    '… V8 heap used / heap total',
    '… external (of which array buffers)',
    '… rest: rss − heap total − external (code, native, freed memory not returned)',
    '… when (ms after start)',
  ]
  names.forEach((name, i) =>
    rows.push([name, ...labels.map((l) => cell(l, (d) => parts(d.sampled.atPeak)[i] as string))]),
  )
  rows.push(
    [
      'highest over the run: heap used / external / array buffers',
      ...labels.map((l) =>
        cell(l, (d) =>
          d.sampled.max
            ? `${formatBytes(d.sampled.max.heapUsed)} / ${formatBytes(d.sampled.max.external)} / ${formatBytes(d.sampled.max.arrayBuffers)}`
            : 'n/a',
        ),
      ),
    ],
    [
      'V8 zone memory at its peak (`peak_malloced_memory`: parser, compilers)',
      ...labels.map((l) => cell(l, (d) => formatBytes(d.sampled.peakMalloced ?? Number.NaN))),
    ],
    [
      `changed ${formatBytes(size)} with \`file-checks: off\`: peak RSS`,
      ...labels.map((l) => cell(l, (d) => formatBytes(d.unchecked.rss))),
    ],
    [
      '… V8 zone memory at its peak',
      ...labels.map((l) => cell(l, (d) => formatBytes(d.unchecked.peakMalloced ?? Number.NaN))),
    ],
  )
  return `Where the memory goes (one run each, \`process.memoryUsage()\` sampled every 5 ms by \`scripts/rss-probe.cjs\`):\n\n${table(['', ...bench.runtimes.map((r) => `${r.label} (${r.version})`)], rows)}`
}

function targets(bench: Bench, figures: readonly SizeFigures[]): Target[] {
  const at = (size: number): SizeFigures | undefined => figures.find((f) => f.size === size)
  const peak = (f: SizeFigures, label: string): number =>
    Math.max(...(f.action[label] ?? []).map((r) => r.rss))
  const reference = at(GiB) ?? figures[0]
  const biggest = figures[figures.length - 1]
  const list: Target[] = []
  if (reference === undefined || biggest === undefined) return list
  const perRuntime = (fn: (runtime: Runtime) => Verdict): Record<string, Verdict> =>
    Object.fromEntries(bench.runtimes.map((r) => [r.label, fn(r)]))
  list.push({
    name: `Peak RSS, changed ${formatBytes(reference.size)} (highest of the runs)`,
    limit: '≤ 100 MiB on Node 24',
    results: perRuntime((r) => ({
      value: formatBytes(peak(reference, r.label)),
      met: peak(reference, r.label) <= 100 * MiB,
    })),
  })
  if (biggest !== reference) {
    list.push({
      name: `Peak RSS flat in size: ${formatBytes(biggest.size)} vs ${formatBytes(reference.size)}`,
      limit: 'within 10 MiB',
      results: perRuntime((r) => {
        const spread = peak(biggest, r.label) - peak(reference, r.label)
        return {
          value: `${formatBytes(peak(biggest, r.label))}, ${spread >= 0 ? '+' : ''}${formatBytes(spread)}`,
          met: Math.abs(spread) <= 10 * MiB,
        }
      }),
    })
  }
  for (const f of figures) {
    const curlServer = median(f.curl.map((c) => c.server))
    list.push({
      name: `Loopback, ${formatBytes(f.size)}: parts phase ÷ curl -F (both as the server sees them)`,
      limit: f === reference ? '≤ 1.1×' : '≤ 1.1× (the issue names 1 GiB)',
      results: perRuntime((r) => {
        const parts = median((f.action[r.label] ?? []).map((x) => x.parts))
        return {
          value: `${ratio(parts / curlServer)} (${seconds(parts)} vs ${seconds(curlServer)})`,
          met: parts / curlServer <= 1.1,
        }
      }),
    })
  }
  return list
}
