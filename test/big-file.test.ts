/**
 * A file of several hundred MB published by the action in parts of the default size
 * (20 MB), then checked byte for byte by checksum against what the emulator stored.
 */
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { generateFile } from '../scripts/generate-file.js'
import { hashFile } from '../src/files/hash.js'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

const SIZE = 300 * 1024 * 1024 + 12_345

let f: Fixture
afterEach(async () => {
  await f?.close()
})

it(
  'publishes a 300 MB file in 20 MB parts and verifies its checksum',
  { timeout: 240_000 },
  async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'big.csv',
      content: 'old',
      title: 'Big file',
    })
    const local = await generateFile(path.join(f.workspace, 'big.csv'), SIZE)

    const run = await f.run({ files: 'big.csv' })

    expect(run.code, run.stdout).toBe(0)
    const parts = f.emulator.requests.filter(
      (q) => q.method === 'POST' && q.fields?.partindex !== undefined,
    )
    expect(parts).toHaveLength(Math.ceil(SIZE / 20_000_000))
    expect(parts.every((q) => q.status === 200)).toBe(true)
    expect(parts.map((q) => Number(q.fields?.chunksize)).reduce((a, b) => a + b, 0)).toBe(SIZE)
    const stored = f.emulator.getResource(f.dataset.id, r.id)
    expect(stored).toMatchObject({
      title: 'Big file',
      filesize: SIZE,
      checksum: { type: 'sha1', value: local },
    })
    expect(await hashFile(f.emulator.storedFilePath(f.dataset.id, r.id) as string)).toBe(local)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'uploaded',
      filesize: SIZE,
      checksum: { type: 'sha1', value: local },
    })
    expect(run.stdout).toMatch(/big\.csv: .* of 300\.0 MiB \(100 %\)/)
  },
)
