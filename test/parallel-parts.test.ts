/**
 * Parts of one file in flight at once (`part-concurrency`: `auto` by default, or a number that
 * fixes it), through the action against the emulator: udata stores each part under its index, so
 * they may arrive in any order; the checksum is computed alongside and verified; a failed part is
 * retried alone. How `auto` climbs and comes back is simulated in test/part-pacing.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readSettings } from '../src/engine/inputs.js'
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

/** The most parts the server had in hand at once. */
function mostInFlight(): number {
  const sent = parts()
  return Math.max(
    ...sent.map(
      (a) =>
        sent.filter((b) => b.startedAt <= a.startedAt && a.startedAt < (b.finishedAt ?? Infinity))
          .length,
    ),
  )
}

/** 21 parts of 4 KiB, each held 200 ms by the server (a time per part, whatever the parts in flight). */
async function slowParts(): Promise<{ id: string; content: Buffer }> {
  const r = f.emulator.addFileResource(f.dataset.id, {
    filename: 'big.csv',
    content: 'old',
    title: 'Big',
  })
  const content = bytes(20 * 4096 + 100)
  await f.write('big.csv', content)
  f.emulator.faults.push({ method: 'POST', path: '/upload/$', times: 21, answerDelayMs: 200 })
  return { id: r.id, content }
}

describe('parts in flight at once', () => {
  it('auto (the default): three parts at first, then more while that makes it faster; every part stored once, the file verifies', async () => {
    f = await fixture()
    const { id, content } = await slowParts()

    const run = await f.run({ files: 'big.csv', 'chunk-size': '4096', 'part-concurrency': '' })

    expect(run.code, run.stdout).toBe(0)
    expect(
      parts()
        .map((q) => Number(q.fields?.partindex))
        .sort((a, b) => a - b),
    ).toEqual([...Array(21).keys()])
    // After the first three, a fourth is always tried; how far it climbs depends on the times.
    expect(run.stdout).toMatch(/::debug::big\.csv: parts in flight: 4 \([\d.]+ MB\/s with 3\)/)
    expect(mostInFlight()).toBeGreaterThanOrEqual(4)
    expect(mostInFlight()).toBeLessThanOrEqual(8)
    expect(f.emulator.getResource(f.dataset.id, id)?.checksum?.value).toBe(sha1(content))
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'uploaded',
      checksum: { value: sha1(content) },
    })
  })

  it('a number fixes the parts in flight', async () => {
    f = await fixture()
    const { id, content } = await slowParts()

    const run = await f.run({ files: 'big.csv', 'chunk-size': '4096', 'part-concurrency': '2' })

    expect(run.code, run.stdout).toBe(0)
    expect(mostInFlight()).toBe(2)
    expect(run.stdout).not.toContain('parts in flight')
    expect(f.emulator.getResource(f.dataset.id, id)?.checksum?.value).toBe(sha1(content))
  })

  it('takes auto or 1 to 8, and names what it accepts otherwise', () => {
    const read = (value: string) => {
      const inputs: Record<string, string> = {
        dataset: 'd',
        files: 'a',
        'api-key': 'k',
        'part-concurrency': value,
      }
      return readSettings((name) => inputs[name] ?? '')
    }
    expect(read('').partConcurrency).toBe('auto')
    expect(read('auto').partConcurrency).toBe('auto')
    expect(read('8').partConcurrency).toBe(8)
    for (const bad of ['9', '0', 'many', 'Auto'])
      expect(() => read(bad)).toThrow(
        `input 'part-concurrency' must be 'auto' or a whole number of parts in flight from 1 to 8, got '${bad}'`,
      )
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
