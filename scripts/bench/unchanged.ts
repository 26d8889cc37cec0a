/**
 * An unchanged file: the action must decide by hashing it, at least 0.8× the speed of `sha1sum`,
 * and send nothing. The action hashes once the dataset and the extensions have been read, so the
 * time from its last request's answer to its exit is hashing, deciding and reporting; the hashing
 * time is that for the big file less that for a tiny unchanged one (the same deciding and report,
 * next to nothing to hash). Node's start and the bundle's load, before the first request, are out.
 */
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { generateFile } from '../generate-file.js'
import {
  formatBytes,
  inTurn,
  median,
  rate,
  ratio,
  run,
  runMeasured,
  seconds,
  sizeTag,
  sync,
  timed,
  writesAndBytes,
  type Bench,
} from './measure.js'
import { table, type Section } from './report.js'

export async function unchanged(bench: Bench, size: number): Promise<Section> {
  const dataset = bench.emulator.addDataset({ owner: bench.user.id, slug: 'bench-unchanged' })
  const name = `unchanged-${sizeTag(size)}.csv`
  const file = path.join(bench.work, name)
  bench.log(`unchanged ${formatBytes(size)}: writing ${file}`)
  const sha1 = await generateFile(file, size)
  const tinyContent = 'a,b\n1,2\n'
  await writeFile(path.join(bench.work, 'tiny.csv'), tinyContent)
  try {
    const big = bench.emulator.addFileResource(dataset.id, {
      filename: name,
      content: 'placeholder',
      title: 'Unchanged',
    })
    const stored = bench.emulator.getResource(dataset.id, big.id)
    if (stored === undefined) throw new Error('the benchmark resource disappeared')
    // The server holds this very file: same size, same sha1 (its stored bytes are not read by the action).
    stored.filesize = size
    stored.checksum = { type: 'sha1', value: sha1 }
    bench.emulator.addFileResource(dataset.id, {
      filename: 'tiny.csv',
      content: tinyContent,
      title: 'Tiny',
    })
    // Provenance off: with it, an unchanged resource this publication has not recorded yet gets
    // its record (one extras merge) instead of being skipped; from the second run on it is skipped.
    const inputs = (files: string): Record<string, string> => ({
      provenance: 'false',
      ...bench.extraInputs,
      'api-url': bench.emulator.url,
      'api-key': bench.user.apiKey,
      dataset: dataset.id,
      files,
    })

    const sha1sum: number[] = []
    /** Per runtime: wall times, and seconds from the last answer to the exit. */
    const action: Record<
      string,
      {
        big: number[]
        tiny: number[]
        bigAfter: number[]
        tinyAfter: number[]
        bytes: number
        writes: number
        rss: number[]
      }
    > = {}
    for (let i = 0; i < bench.runs; i++) {
      await sync()
      sha1sum.push(
        await timed(async () => {
          const { stdout } = await run('sha1sum', [file])
          if (!stdout.startsWith(sha1)) throw new Error('sha1sum disagrees with the generator')
        }),
      )
      for (const runtime of inTurn(bench.runtimes, i)) {
        const figures = (action[runtime.label] ??= {
          big: [],
          tiny: [],
          bigAfter: [],
          tinyAfter: [],
          bytes: 0,
          writes: 0,
          rss: [],
        })
        for (const [files, into, after] of [
          [name, figures.big, figures.bigAfter],
          ['tiny.csv', figures.tiny, figures.tinyAfter],
        ] as const) {
          await sync()
          bench.emulator.resetRequests()
          const measured = await runMeasured(runtime, inputs(files), { cwd: bench.work })
          const sent = writesAndBytes(bench.emulator.requests)
          figures.bytes += sent.bytes
          figures.writes += sent.writes
          if (!measured.run.outputs.resources?.includes('"skipped"'))
            throw new Error(
              `${files} was not skipped on ${runtime.label}: ${measured.run.outputs.resources}`,
            )
          into.push(measured.seconds)
          after.push(
            (measured.endedAtMs -
              Math.max(...bench.emulator.requests.map((r) => r.finishedAt ?? Number.NaN))) /
              1000,
          )
          if (files === name) figures.rss.push(measured.rss)
        }
        bench.log(
          `  run ${i + 1}/${bench.runs} ${runtime.label}: ${formatBytes(size)} decided in ${seconds(figures.big.at(-1) ?? Number.NaN)}, tiny file ${seconds(figures.tiny.at(-1) ?? Number.NaN)}; sha1sum ${seconds(sha1sum.at(-1) ?? Number.NaN)}`,
        )
      }
    }

    const sha1sumSeconds = median(sha1sum)
    const hashing = (label: string): number =>
      median(action[label]?.bigAfter ?? []) - median(action[label]?.tinyAfter ?? [])
    const rows = bench.runtimes.map((r) => {
      const f = action[r.label]
      return [
        r.label,
        `${seconds(median(f?.big ?? []))} / ${seconds(median(f?.bigAfter ?? []))}`,
        `${seconds(median(f?.tiny ?? []))} / ${seconds(median(f?.tinyAfter ?? []))}`,
        `${seconds(hashing(r.label))} (${rate(size, hashing(r.label))})`,
        `${seconds(sha1sumSeconds)} (${rate(size, sha1sumSeconds)})`,
        ratio(sha1sumSeconds / hashing(r.label)),
        `${f?.writes ?? 'n/a'} / ${f === undefined ? 'n/a' : formatBytes(f.bytes)}`,
        (f?.rss ?? []).map(formatBytes).join(', '),
      ]
    })
    const body = table(
      [
        'Runtime',
        `Action, ${formatBytes(size)} unchanged: wall / after the last answer`,
        'tiny file: wall / after the last answer',
        'hashing (the difference after the last answer)',
        'sha1sum',
        'Speed ÷ sha1sum',
        'Write requests / body bytes sent',
        'Peak RSS, each run',
      ],
      rows,
    )
    return {
      id: 'unchanged',
      title: `Unchanged ${formatBytes(size)}: decided by hashing`,
      body,
      targets: [
        {
          name: `Unchanged ${formatBytes(size)}: hashing speed ÷ sha1sum, bytes sent`,
          limit: '≥ 0.80×, 0 bytes sent',
          results: Object.fromEntries(
            bench.runtimes.map((r) => {
              const speed = sha1sumSeconds / hashing(r.label)
              const f = action[r.label]
              const nothing = f !== undefined && f.writes === 0 && f.bytes === 0
              return [
                r.label,
                {
                  value: `${ratio(speed)}, ${f === undefined ? 'n/a' : formatBytes(f.bytes)} sent`,
                  met: speed >= 0.8 && nothing,
                },
              ]
            }),
          ),
        },
      ],
    }
  } finally {
    await rm(file, { force: true })
  }
}
