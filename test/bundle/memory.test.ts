/**
 * Flat memory, guarded: the bundled action (dist/index.js, as the runner runs it) publishes a file
 * of 100 MB and one of 300 MB in parts of 10 MB to the emulator, under the peak-RSS probe of the
 * benchmark (scripts/rss-probe.cjs, preloaded: the process's own VmHWM and VmRSS from
 * /proc/self/status as it exits). Neither may grow with the file: a part or a file held in memory,
 * read buffers that pile up, would add tens of MiB between the two. The peak alone would miss a
 * slow leak: it comes early (the bundle's load, the parser's compilation), some 20 MiB above what
 * the upload then holds; a bundle patched to keep 1 MiB per part passed the peak's check (+7.8
 * MiB) and failed the one at exit (+13.9 MiB), where unpatched runs differ by 2 to 5 MiB. Sizes,
 * not times: nothing here depends on the machine's speed. The bench (npm run bench,
 * BENCHMARKS.md) gives the figures at 1 GiB and beyond.
 */
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { generateFile } from '../../scripts/generate-file.js'
import { fixture, type Fixture } from '../helpers/fixture.js'

const PROBE = path.resolve(import.meta.dirname, '../../scripts/rss-probe.cjs')
const MB = 1_000_000
const MiB = 1024 * 1024

let f: Fixture
afterEach(async () => {
  await f?.close()
})

it('keeps the peak RSS and the RSS at exit flat in the file size: 300 MB in parts within 10 MiB of 100 MB', async () => {
  f = await fixture()
  const probes: Record<number, { rss: number; rssAtExit: number }> = {}
  for (const size of [100 * MB, 300 * MB]) {
    const name = `data-${size / MB}MB.csv`
    const file = await f.write(name, '')
    const sha1 = await generateFile(file, size)
    const resource = f.emulator.addFileResource(f.dataset.id, { filename: name, content: 'old' })
    const probeFile = path.join(f.workspace, `probe-${size}.json`)
    f.emulator.resetRequests()
    // The file checks and the data diff read local files before the upload; the upload alone here.
    const run = await f.runBundle(
      {
        files: name,
        'chunk-size': '10MB',
        // The action's default (the fixture fixes 1): parts in flight, the file hashed alongside.
        'part-concurrency': 'auto',
        'file-checks': 'off',
        'diff-max-size': '0',
      },
      { NODE_OPTIONS: `--require ${PROBE}`, RSS_PROBE_FILE: probeFile },
    )
    expect(run.code, run.stdout + run.stderr).toBe(0)
    // It went in parts, and the server holds the file.
    const parts = f.emulator.requests.filter((r) => r.fields?.partindex !== undefined)
    expect(parts.length).toBe(Math.ceil(size / (10 * MB)))
    expect(f.emulator.getResource(f.dataset.id, resource.id)).toMatchObject({
      filesize: size,
      checksum: { type: 'sha1', value: sha1 },
    })
    probes[size] = JSON.parse(await readFile(probeFile, 'utf8')) as (typeof probes)[number]
    await rm(file)
  }
  const small = probes[100 * MB] as (typeof probes)[number]
  const big = probes[300 * MB] as (typeof probes)[number]
  const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
  const figures =
    `peak RSS ${mib(small.rss)} at 100 MB, ${mib(big.rss)} at 300 MB; ` +
    `at exit ${mib(small.rssAtExit)} and ${mib(big.rssAtExit)}`
  expect.soft(big.rss - small.rss, figures).toBeLessThanOrEqual(10 * MiB)
  // Memory kept part after part shows first in the resident set at the end (the header says why).
  expect(big.rssAtExit - small.rssAtExit, figures).toBeLessThanOrEqual(10 * MiB)
})
