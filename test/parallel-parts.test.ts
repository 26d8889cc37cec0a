/**
 * Parts of one file in flight at once (`part-concurrency`, 3 by default), through the
 * action against the emulator: udata stores each part under its index, so they may arrive in any
 * order; the checksum is computed alongside and verified; a failed part is retried alone.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

function bytes(size: number): Buffer {
  const buffer = Buffer.alloc(size)
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + 7) % 251
  return buffer
}

const parts = () =>
  f.emulator.requests.filter((q) => q.method === 'POST' && q.fields?.partindex !== undefined)

describe('parts in flight at once', () => {
  it('by default, three parts overlap; every part is stored once and the file verifies', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'big.csv',
      content: 'old',
      title: 'Big',
    })
    const content = bytes(20 * 4096 + 100)
    await f.write('big.csv', content)
    // Slow each part a little, so that overlapping is visible in the emulator's records.
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', times: 21, answerDelayMs: 50 })

    const run = await f.run({ files: 'big.csv', 'chunk-size': '4096', 'part-concurrency': '' })

    expect(run.code, run.stdout).toBe(0)
    const sent = parts()
    expect(sent.map((q) => Number(q.fields?.partindex)).sort((a, b) => a - b)).toEqual([
      ...Array(21).keys(),
    ])
    const overlapping = sent.some((a) =>
      sent.some(
        (b) => a !== b && a.startedAt < (b.finishedAt ?? 0) && b.startedAt < (a.finishedAt ?? 0),
      ),
    )
    expect(overlapping).toBe(true)
    const inFlight = Math.max(
      ...sent.map(
        (a) =>
          sent.filter((b) => b.startedAt <= a.startedAt && a.startedAt < (b.finishedAt ?? Infinity))
            .length,
      ),
    )
    expect(inFlight).toBeLessThanOrEqual(3)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'uploaded',
      checksum: { value: sha1(content) },
    })
  })

  it('a failed part is retried alone while the others go on', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'p.csv',
      content: 'old',
      title: 'P',
    })
    const content = bytes(8 * 1024 + 10)
    await f.write('p.csv', content)
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 2,
      status: 503,
      body: { message: 'busy' },
    })

    const run = await f.run({ files: 'p.csv', 'chunk-size': '1024', 'part-concurrency': '4' })

    expect(run.code, run.stdout).toBe(0)
    const indexes = parts()
      .filter((q) => q.status === 200)
      .map((q) => Number(q.fields?.partindex))
    expect(indexes.sort((a, b) => a - b)).toEqual([...Array(9).keys()])
    const posts = f.emulator.requests.filter(
      (q) => q.method === 'POST' && q.path.endsWith('/upload/'),
    )
    expect(posts.filter((q) => q.fault !== undefined).map((q) => q.fault)).toEqual(['status:503'])
    expect(posts).toHaveLength(9 + 1 + 1) // every part once, the refused one again, the final request
    expect(new Set(parts().map((q) => q.fields?.uuid)).size).toBe(1)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
  })
})
