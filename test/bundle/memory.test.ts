/**
 * Flat memory, guarded: the bundled action (dist/index.js, as the runner runs it) publishes a file
 * of 100 MB and one of 300 MB in parts of 10 MB to the emulator, under the peak-RSS probe of the
 * benchmark (scripts/rss-probe.cjs, preloaded: the process's own VmHWM from /proc/self/status as
 * it exits). The peak must not grow with the file. It comes early (the bundle's load, the HTTP
 * parser's compilation), some 20 MiB above what the upload then holds, so what this catches is
 * memory that grows past that: a bundle patched to keep 2.75 MiB per part failed it (+55 MiB), one
 * keeping 0.75 MiB per part passed (+3 to +8 MiB); unpatched runs differ by 0 to 4 MiB (Node 20
 * and 24). It would catch a part or a file held in memory, not a slow leak. Sizes,
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

it('keeps the peak RSS flat in the file size: 300 MB in parts within 10 MiB of 100 MB', async () => {
  f = await fixture()
  const peaks: Record<number, number> = {}
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
        // Parts in flight, the file hashed alongside (the fixture fixes 1); a fixed number, as
        // `auto` may climb higher with more parts, which is not the file's size.
        'part-concurrency': '4',
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
    peaks[size] = (JSON.parse(await readFile(probeFile, 'utf8')) as { rss: number }).rss
    await rm(file)
  }
  const small = peaks[100 * MB] as number
  const big = peaks[300 * MB] as number
  const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
  const figures = `peak RSS ${mib(small)} at 100 MB, ${mib(big)} at 300 MB`
  expect(big - small, figures).toBeLessThanOrEqual(10 * MiB)
})
