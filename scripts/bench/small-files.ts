/**
 * Many small files: each replaces the file of its own resource, whose title the upload overwrites
 * and the action puts back (a PUT). The action runs at concurrency 3; beside it, a sequential shell
 * loop of curl does the same requests (an upload, then the title PUT, per file). The issue asks for
 * both figures; it sets no limit.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  formatBytes,
  inTurn,
  median,
  ratio,
  run,
  runMeasured,
  seconds,
  timed,
  type Bench,
} from './measure.js'
import { table, type Section } from './report.js'

export async function smallFiles(
  bench: Bench,
  count: number,
  size: number,
  concurrency: number,
): Promise<Section> {
  const dataset = bench.emulator.addDataset({ owner: bench.user.id, slug: 'bench-small-files' })
  const folder = path.join(bench.work, 'small')
  await mkdir(folder, { recursive: true })
  bench.log(`small files: ${count} × ${formatBytes(size)}, concurrency ${concurrency}`)
  const files: Array<{ name: string; title: string; id: string }> = []
  for (let i = 1; i <= count; i++) {
    const name = `small-${String(i).padStart(4, '0')}.csv`
    await writeFile(path.join(folder, name), randomBytes(size))
    const title = `Small file ${i}`
    files.push({
      name,
      title,
      id: bench.emulator.addFileResource(dataset.id, { filename: name, content: 'old', title }).id,
    })
  }
  const markChanged = (): void => {
    for (const f of files) {
      const state = bench.emulator.getResource(dataset.id, f.id)
      if (state === undefined) throw new Error('a benchmark resource disappeared')
      state.filesize = 3
      state.checksum = { type: 'sha1', value: '0'.repeat(40) }
    }
  }
  const verify = (what: string): void => {
    for (const f of files) {
      const state = bench.emulator.getResource(dataset.id, f.id)
      if (state?.filesize !== size || state.title !== f.title)
        throw new Error(`${what}: ${f.name} was not stored with its title`)
    }
  }
  const loop = path.join(bench.work, 'curl-loop.sh')
  await writeFile(loop, curlLoop(bench, dataset.id, files))

  const inputs = {
    ...bench.extraInputs,
    'api-url': bench.emulator.url,
    'api-key': bench.user.apiKey,
    dataset: dataset.id,
    files: 'small/*.csv',
    concurrency: String(concurrency),
  }
  const action: Record<
    string,
    Array<{ wall: number; requests: number; rss: number; cpu: number }>
  > = {}
  const curl: number[] = []
  try {
    for (let i = 0; i < bench.runs; i++) {
      for (const runtime of inTurn(bench.runtimes, i)) {
        markChanged()
        bench.emulator.resetRequests()
        const measured = await runMeasured(runtime, inputs, { cwd: bench.work })
        verify(`the action on ${runtime.label}`)
        if (measured.run.outputs['uploaded-count'] !== String(count))
          throw new Error(`uploaded-count ${measured.run.outputs['uploaded-count']}, not ${count}`)
        ;(action[runtime.label] ??= []).push({
          wall: measured.seconds,
          requests: bench.emulator.requests.length,
          rss: measured.rss,
          cpu: measured.cpu,
        })
        bench.log(
          `  run ${i + 1}/${bench.runs} ${runtime.label}: ${seconds(measured.seconds)}, ${bench.emulator.requests.length} requests`,
        )
      }
      markChanged()
      bench.emulator.resetRequests()
      curl.push(
        await timed(() => run('bash', [loop], { cwd: bench.work, maxBuffer: 64 * 1024 * 1024 })),
      )
      verify('the curl loop')
      bench.log(
        `  run ${i + 1}/${bench.runs} curl loop: ${seconds(curl.at(-1) ?? Number.NaN)}, ${bench.emulator.requests.length} requests`,
      )
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }

  const curlSeconds = median(curl)
  const wall = (label: string): number => median((action[label] ?? []).map((r) => r.wall))
  const rows = bench.runtimes.map((r) => [
    r.label,
    seconds(wall(r.label)),
    String(median((action[r.label] ?? []).map((x) => x.requests))),
    seconds(median((action[r.label] ?? []).map((x) => x.cpu))),
    seconds(curlSeconds),
    String(2 * count),
    ratio(wall(r.label) / curlSeconds),
    (action[r.label] ?? []).map((x) => formatBytes(x.rss)).join(', '),
  ])
  const body = [
    `${count} files of ${formatBytes(size)}, each replacing the file of its own resource and getting its title back. curl: \`bash curl-loop.sh\`, one \`curl -F\` upload and one \`curl -X PUT\` of the title per file, one after the other (a process per request, as such a loop does).`,
    table(
      [
        'Runtime',
        `Action (concurrency ${concurrency}): wall`,
        'requests',
        'CPU',
        'curl loop: wall',
        'requests',
        'Action ÷ curl loop',
        'Peak RSS, each run',
      ],
      rows,
    ),
  ].join('\n\n')
  return {
    id: 'small-files',
    title: `${count} small files`,
    body,
    targets: [
      {
        name: `${count} files of ${formatBytes(size)} at concurrency ${concurrency} beside a sequential curl loop (uploads and title PUTs)`,
        limit: 'none: both reported',
        results: Object.fromEntries(
          bench.runtimes.map((r) => [
            r.label,
            {
              value: `${seconds(wall(r.label))} vs ${seconds(curlSeconds)} (${ratio(wall(r.label) / curlSeconds)})`,
            },
          ]),
        ),
      },
    ],
  }
}

/** The shell loop: per file, the upload then the title, as a person would script it with curl. */
function curlLoop(
  bench: Bench,
  datasetId: string,
  files: ReadonlyArray<{ name: string; title: string; id: string }>,
): string {
  const api = `${bench.emulator.url}/api/1/datasets/${datasetId}/resources`
  const lines = [
    '#!/usr/bin/env bash',
    'set -euo pipefail',
    `key='${bench.user.apiKey}'`,
    `api='${api}'`,
    "while IFS=$'\\t' read -r name id title; do",
    '  curl -sS -f -o /dev/null -H "X-API-KEY: $key" -H "Expect:" -F "file=@small/$name" "$api/$id/upload/"',
    '  curl -sS -f -o /dev/null -X PUT -H "X-API-KEY: $key" -H "Content-Type: application/json" -d "{\\"title\\": \\"$title\\"}" "$api/$id/"',
    "done <<'LIST'",
    ...files.map((f) => `${f.name}\t${f.id}\t${f.title}`),
    'LIST',
    '',
  ]
  return lines.join('\n')
}
