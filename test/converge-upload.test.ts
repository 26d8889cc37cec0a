/**
 * Runs disturbed while they write, and the next run that repairs what they left: a file that
 * changes while its parts are sent (the report says what the server then holds), and two runs
 * creating one new file name at once (a duplicate, or udata's FileExists refusal). Each ends with
 * a run that converges and a third that writes nothing; the emulator's state is the evidence.
 */
import { writeFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResourceState } from '../emulator/server.js'
import { bytes, RUNNER, storedUnder, writesSince } from './helpers/converge.js'
import {
  fixture,
  resourcesOutput,
  sha1,
  until,
  type ActionRun,
  type Fixture,
} from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

/** A third run writes nothing and skips every entry. */
async function writesNothing(inputs: Record<string, string>): Promise<void> {
  const mark = f.emulator.requests.length
  const third = await f.run(inputs, RUNNER)
  expect(third.code, third.stdout).toBe(0)
  expect(writesSince(f, mark)).toEqual([])
  expect(resourcesOutput(third).every((r) => r.action === 'skipped')).toBe(true)
}

describe('a file that changes while its parts are sent in parallel', () => {
  const PART = 4096
  const SIZE = 3 * PART + 100
  const publish = { files: 'sales.csv', 'chunk-size': String(PART), 'part-concurrency': '3' }

  it('the entry reports what the server holds and says the file changed; the next run repairs the title; a third writes nothing', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'sales.csv',
      content: bytes(SIZE, 1),
      title: 'Sales by year',
    })
    // Same size as the server's file: the plan computes the local sha1 of what is there now.
    const planned = bytes(SIZE, 2)
    const later = bytes(SIZE, 3)
    const file = await f.write('sales.csv', planned)
    // The first three parts are held once received; the fourth leaves only when one is answered.
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${r.id}/upload/$`,
      times: 3,
      hold: true,
    })

    const running = f.run(publish)
    await until(() => f.emulator.held.length === 3)
    await writeFile(file, later)
    for (const held of [...f.emulator.held]) held.release()
    const run = await running

    // The server assembled three parts of the planned bytes and the last one of the later bytes.
    const mixed = Buffer.concat([planned.subarray(0, 3 * PART), later.subarray(3 * PART)])
    const held = f.emulator.getResource(f.dataset.id, r.id)
    expect(held).toMatchObject({ title: 'sales.csv', checksum: { value: sha1(mixed) } })
    expect(run.code).toBe(1)
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      action: 'uploaded',
      id: r.id,
      url: held?.url,
      title: 'sales.csv',
      checksum: { type: 'sha1', value: sha1(mixed) },
    })
    expect(result?.error).toContain('the file changed while it was being sent (modified at')
    expect(result?.error).toContain(`sha1 ${sha1(mixed)}, titled 'sales.csv'`)
    // No checksum of bytes the server does not hold, in the entry, the log or the summary.
    for (const stale of [sha1(planned), sha1(bytes(SIZE, 1))])
      for (const said of [run.outputs.resources, run.stdout, run.summary])
        expect(said).not.toContain(stale.slice(0, 12))
    expect(run.outputs).toMatchObject({ changed: 'true', 'uploaded-count': '1' })

    const rerun = await f.run(publish)
    expect(rerun.code, rerun.stdout).toBe(0)
    expect(resourcesOutput(rerun)[0]).toMatchObject({ id: r.id, action: 'uploaded' })
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'Sales by year',
      checksum: { value: sha1(later) },
    })
    expect(storedUnder(f, 'sales.csv')).toHaveLength(1)
    await writesNothing(publish)
  })

  it('a new resource: reported created as the server holds it; the next run uploads into it, titles it and records its provenance, creating no second', async () => {
    f = await fixture()
    const planned = bytes(SIZE, 4)
    const later = bytes(SIZE, 5)
    const file = await f.write('Sales 2024.csv', planned)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      times: 3,
      hold: true,
    })
    const creating = {
      ...publish,
      files: '*.csv',
      'create-missing': 'true',
      provenance: 'true',
    }

    const running = f.run(creating, RUNNER)
    await until(() => f.emulator.held.length === 3)
    await writeFile(file, later)
    for (const held of [...f.emulator.held]) held.release()
    const run = await running

    const mixed = Buffer.concat([planned.subarray(0, 3 * PART), later.subarray(3 * PART)])
    const [created] = storedUnder(f, 'sales-2024.csv')
    expect(storedUnder(f, 'sales-2024.csv')).toHaveLength(1)
    expect(created).toMatchObject({ title: 'sales-2024.csv', checksum: { value: sha1(mixed) } })
    expect(run.code).toBe(1)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'created',
      id: created?.id,
      url: created?.url,
      title: 'sales-2024.csv',
      checksum: { type: 'sha1', value: sha1(mixed) },
    })
    expect(resourcesOutput(run)[0]?.error).toContain('the file changed while it was being sent')

    const rerun = await f.run(creating, RUNNER)
    expect(rerun.code, rerun.stdout).toBe(0)
    expect(resourcesOutput(rerun)[0]).toMatchObject({ id: created?.id, action: 'uploaded' })
    expect(storedUnder(f, 'sales-2024.csv')).toEqual([
      expect.objectContaining({
        id: created?.id,
        title: 'Sales 2024.csv',
        checksum: { type: 'sha1', value: sha1(later) },
        extras: expect.objectContaining({ 'publish:workflow': 'Publish data' }),
      }),
    ])
    await writesNothing(creating)
  })
})

describe('two runs creating one new file name at once', () => {
  const publish = { files: 'out/*.csv', 'create-missing': 'true', provenance: 'true' }
  const CONTENT = 'région,total\nBretagne,12\n'
  const creation = () => ({ method: 'POST', path: `/datasets/${f.dataset.id}/upload/$` })

  /**
   * Two runs started together, both planning a creation; both creations held until the server
   * has them, then released in turn, `second` deciding how the later one is answered.
   */
  async function race(second: { status?: number; body?: unknown } = {}): Promise<ActionRun[]> {
    f.emulator.faults.push({ ...creation(), times: 2, hold: true })
    const runs = [f.run(publish, RUNNER), f.run(publish, RUNNER)]
    await until(() => f.emulator.held.length === 2)
    const [first, later] = f.emulator.held
    first?.release()
    await until(() => first?.record.finishedAt !== undefined)
    // A creation date of its own, later than the first one's.
    await new Promise((resolve) => setTimeout(resolve, 20))
    later?.release(second)
    return Promise.all(runs)
  }

  it('both created (a duplicate): the rerun keeps the oldest this publication wrote and names the other; prune removes it; then nothing is written', async () => {
    f = await fixture()
    await f.write('out/Ventes.csv', CONTENT)

    const runs = await race()

    expect(runs.map((r) => r.code)).toEqual([0, 0])
    const [oldest, other] = storedUnder(f, 'ventes.csv')
      .slice()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    expect(storedUnder(f, 'ventes.csv')).toHaveLength(2)
    expect(other?.createdAt.getTime()).toBeGreaterThan(oldest?.createdAt.getTime() ?? Infinity)

    const rerun = await f.run(publish, RUNNER)
    expect(rerun.code, rerun.stdout).toBe(0)
    expect(resourcesOutput(rerun)).toEqual([
      expect.objectContaining({ id: oldest?.id, action: 'skipped' }),
    ])
    expect(resourcesOutput(rerun)[0]?.reason).toContain(
      `kept the oldest of 2 resources this publication wrote under 'ventes.csv' (two runs created ` +
        `it at once); the other, ${other?.id}, stays until removed (remove, or prune: true)`,
    )
    expect(rerun.stdout).toContain(`::warning::files 'out/*.csv' (out/Ventes.csv): 2 resources`)

    const pruned = await f.run({ ...publish, prune: 'true' }, RUNNER)
    expect(pruned.code, pruned.stdout).toBe(0)
    expect(resourcesOutput(pruned).map((r) => [r.id, r.action])).toEqual([
      [oldest?.id, 'skipped'],
      [other?.id, 'removed'],
    ])
    expect(storedUnder(f, 'ventes.csv').map((r) => r.id)).toEqual([oldest?.id])
    await writesNothing({ ...publish, prune: 'true' })
  })

  it('seeded with two this publication wrote and one it did not: the oldest of its own kept, its other pruned, the stranger left and named', async () => {
    f = await fixture()
    await f.write('out/Ventes.csv', CONTENT)
    const ours = {
      'publish:repository': 'example/publisher',
      'publish:workflow': 'Publish data',
    }
    const seed = (extras: Record<string, string>) =>
      f.emulator.addFileResource(f.dataset.id, {
        filename: 'ventes.csv',
        content: CONTENT,
        title: 'Ventes.csv',
        extras,
      })
    // Listed newest first, as udata prepends: the order of the list does not decide.
    const stranger = seed({})
    const older = seed(ours)
    const newer = seed(ours)
    const at = (r: ResourceState, ms: number) => {
      const held = f.emulator.getResource(f.dataset.id, r.id)
      if (held) held.createdAt = new Date(Date.UTC(2026, 0, 1) + ms)
    }
    at(stranger, 0)
    at(older, 1000)
    at(newer, 2000)

    const run = await f.run({ ...publish, prune: 'true' }, RUNNER)

    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run).map((r) => [r.id, r.action])).toEqual([
      [older.id, 'skipped'],
      [newer.id, 'removed'],
    ])
    expect(run.stdout).toContain(
      `::warning::files 'out/*.csv' (out/Ventes.csv): resource ${older.id}, which this ` +
        `publication wrote, is kept; 1 other resource bearing the stored file name 'ventes.csv' ` +
        `(${stranger.id}) was not written by it and stays as it is`,
    )
    expect(
      storedUnder(f, 'ventes.csv')
        .map((r) => r.id)
        .sort(),
    ).toEqual([older.id, stranger.id].sort())
    await writesNothing({ ...publish, prune: 'true' })
  })

  it("udata refuses the later creation (FileExists): that run takes the other's resource, says so in its entry, and creates no second", async () => {
    f = await fixture()
    await f.write('out/Ventes.csv', CONTENT)
    const fileExists = {
      status: 500,
      body: { message: `FileExists: ${f.dataset.slug}/20261202-101500/ventes.csv` },
    }

    const runs = await race(fileExists)

    expect(runs.map((r) => r.code)).toEqual([0, 0])
    const [only] = storedUnder(f, 'ventes.csv')
    expect(storedUnder(f, 'ventes.csv')).toHaveLength(1)
    expect(only).toMatchObject({
      title: 'Ventes.csv',
      checksum: { value: sha1(CONTENT) },
      extras: expect.objectContaining({ 'publish:workflow': 'Publish data' }),
    })
    // Which run the server held first is not known: one created, the other took its resource.
    const outcomes = runs
      .map((r) => resourcesOutput(r)[0])
      .sort((a, b) => String(a?.action).localeCompare(String(b?.action)))
    expect(outcomes.map((o) => [o?.id, o?.action])).toEqual([
      [only?.id, 'created'],
      [only?.id, 'updated'],
    ])
    expect(outcomes[1]?.reason).toBe(
      `new: no resource matched; udata refused the creation, and resource ${only?.id}, created ` +
        `under the same name meanwhile by another run, was taken instead of a second one (it ` +
        `holds this file)`,
    )
    // The refused creation was not sent again.
    expect(
      f.emulator.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/upload/')),
    ).toHaveLength(2)
    await writesNothing(publish)
  })

  it('FileExists, and the other run stored another file under the name: taken, and its file replaced by this one', async () => {
    f = await fixture()
    await f.write('out/Ventes.csv', CONTENT)
    f.emulator.faults.push({ ...creation(), nth: 1, hold: true })

    const running = f.run(publish, RUNNER)
    await until(() => f.emulator.held.length === 1)
    // Meanwhile, another run (another commit) stored its own file under the name.
    const theirs = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ventes.csv',
      content: 'région,total\nBretagne,11\n',
    })
    f.emulator.held[0]?.release({
      status: 500,
      body: { message: `FileExists: ${f.dataset.slug}/20261202-101500/ventes.csv` },
    })
    const run = await running

    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({
      id: theirs.id,
      action: 'uploaded',
      reason:
        `new: no resource matched; udata refused the creation, and resource ${theirs.id}, ` +
        `created under the same name meanwhile by another run, was taken instead of a second ` +
        `one (its file replaced by this one)`,
    })
    expect(storedUnder(f, 'ventes.csv')).toEqual([
      expect.objectContaining({
        id: theirs.id,
        title: 'Ventes.csv',
        checksum: { type: 'sha1', value: sha1(CONTENT) },
      }),
    ])
    await writesNothing(publish)
  })
})
