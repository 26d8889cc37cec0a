/**
 * A cancelled job: the bundled action, spawned as the runner spawns it, has its process group
 * killed (SIGKILL: nothing of it runs after) at each phase of a publication, while the server
 * holds the request of that phase and completes it after the client is gone. The next run must
 * leave exactly what a clean run leaves (the file, its title, its provenance, one resource), and
 * a third run must write nothing. What the emulator holds and the requests it received are the
 * evidence, not the action's word.
 */
import type { ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResourceState } from '../../emulator/server.js'
import { runAction, type ActionRun } from '../../scripts/run-action.js'
import { bytes, RUNNER, storedUnder, writesSince } from '../helpers/converge.js'
import { fixture, resourcesOutput, sha1, until, type Fixture } from '../helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

function inputs(more: Record<string, string>): Record<string, string> {
  return {
    'api-url': f.emulator.url,
    'api-key': f.apiKey,
    dataset: f.dataset.id,
    'part-concurrency': '1',
    ...more,
  }
}

/** The bundle run to its end. */
function run(more: Record<string, string>): Promise<ActionRun> {
  return runAction(inputs(more), { cwd: f.workspace, env: RUNNER })
}

/**
 * The bundle started, and its process group killed once the emulator holds a request of the
 * phase (a `hold` rule); then the held request is released (`drop`: it never reached udata) and
 * everything the server received has been answered.
 */
async function killedWhileHeld(
  more: Record<string, string>,
  release: { drop?: boolean } = {},
): Promise<ActionRun> {
  let child: ChildProcess | undefined
  const running = runAction(inputs(more), {
    cwd: f.workspace,
    env: RUNNER,
    onSpawn: (spawned) => (child = spawned),
  })
  await until(() => f.emulator.held.length > 0)
  process.kill(-(child?.pid as number), 'SIGKILL')
  const killed = await running
  for (const held of [...f.emulator.held]) held.release(release)
  await f.settled()
  return killed
}

/** The rerun converges, and a third run writes nothing. */
async function convergesFrom(more: Record<string, string>): Promise<ActionRun> {
  const rerun = await run(more)
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
  const mark = f.emulator.requests.length
  const third = await run(more)
  expect(third.code, third.stdout + third.stderr).toBe(0)
  expect(writesSince(f, mark)).toEqual([])
  expect(resourcesOutput(third).map((r) => r.action)).toEqual(['skipped'])
  return rerun
}

const PROVENANCE = {
  'publish:repository': 'example/publisher',
  'publish:workflow': 'Publish data',
  'publish:commit': RUNNER.GITHUB_SHA,
}

describe('a run killed while replacing a file in place (3 parts and the request that assembles them)', () => {
  const V2 = bytes(3 * 4096 - 100, 2)
  const publish = { files: 'sales.csv', 'chunk-size': '4096', provenance: 'true' }
  const uploadPath = (id: string) => `/resources/${id}/upload/$`

  async function seeded(): Promise<ResourceState> {
    f = await fixture()
    await f.write('sales.csv', V2)
    return f.emulator.addFileResource(f.dataset.id, {
      filename: 'sales.csv',
      content: bytes(3 * 4096 - 100, 1),
      title: 'Sales by year',
    })
  }

  function expectPublished(id: string): void {
    expect(storedUnder(f, 'sales.csv')).toHaveLength(1)
    expect(f.emulator.getResource(f.dataset.id, id)).toMatchObject({
      title: 'Sales by year',
      checksum: { value: sha1(V2) },
      extras: expect.objectContaining(PROVENANCE),
    })
  }

  it('during the parts: the server keeps its old file; the rerun uploads it', async () => {
    const r = await seeded()
    f.emulator.faults.push({ method: 'POST', path: uploadPath(r.id), nth: 2, hold: true })

    const killed = await killedWhileHeld(publish)

    expect(killed.code).toBeNull()
    expect(f.emulator.getResource(f.dataset.id, r.id)?.url).toBe(r.url)
    const rerun = await convergesFrom(publish)
    expect(resourcesOutput(rerun)[0]).toMatchObject({ id: r.id, action: 'uploaded' })
    expectPublished(r.id)
  })

  it('during the request that assembles the parts, which the server completes after the client is gone', async () => {
    const r = await seeded()
    f.emulator.faults.push({ method: 'POST', path: uploadPath(r.id), nth: 4, hold: true })

    await killedWhileHeld(publish)

    // udata titled it with its stored name; the title to put back was recorded before.
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'sales.csv',
      checksum: { value: sha1(V2) },
      extras: { 'publish:title': 'Sales by year', ...PROVENANCE },
    })
    const rerun = await convergesFrom(publish)
    expect(resourcesOutput(rerun)[0]).toMatchObject({ id: r.id, action: 'updated' })
    expect(resourcesOutput(rerun)[0]?.reason).toContain('a title an earlier run could not put back')
    expectPublished(r.id)
  })

  it('between the answer that stored the file and the PUT of its title', async () => {
    const r = await seeded()
    f.emulator.faults.push({
      method: 'PUT',
      path: `^/api/1/datasets/[^/]+/resources/${r.id}/$`,
      nth: 1,
      hold: true,
    })

    await killedWhileHeld(publish, { drop: true })

    expect(f.emulator.getResource(f.dataset.id, r.id)?.title).toBe('sales.csv')
    await convergesFrom(publish)
    expectPublished(r.id)
  })
})

describe('a run killed during a creation that the server completes after the client is gone', () => {
  const publish = { files: 'out/*.csv', 'create-missing': 'true', provenance: 'true' }

  it('the rerun finds the resource by its stored name and gives it its title and provenance, once', async () => {
    f = await fixture()
    await f.write('out/Ventes Été.csv', 'région,total\nBretagne,12\n')
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 1,
      hold: true,
    })

    await killedWhileHeld(publish)

    const [orphan] = storedUnder(f, 'ventes-ete.csv')
    expect(orphan).toMatchObject({ title: 'ventes-ete.csv', extras: {} })
    const rerun = await convergesFrom(publish)
    expect(resourcesOutput(rerun)[0]).toMatchObject({ id: orphan?.id, action: 'updated' })
    expect(storedUnder(f, 'ventes-ete.csv')).toEqual([
      expect.objectContaining({
        id: orphan?.id,
        title: 'Ventes Été.csv',
        checksum: { type: 'sha1', value: sha1('région,total\nBretagne,12\n') },
        extras: expect.objectContaining(PROVENANCE),
      }),
    ])
  })

  it('in parts: killed during the parts, nothing is created; the rerun creates it once', async () => {
    f = await fixture()
    const content = bytes(2 * 4096 + 10, 3)
    await f.write('out/big.csv', content)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 2,
      hold: true,
    })

    await killedWhileHeld({ ...publish, 'chunk-size': '4096' })

    expect(storedUnder(f, 'big.csv')).toEqual([])
    const rerun = await convergesFrom({ ...publish, 'chunk-size': '4096' })
    expect(resourcesOutput(rerun)[0]).toMatchObject({ action: 'created' })
    expect(storedUnder(f, 'big.csv')).toEqual([
      expect.objectContaining({
        title: 'big.csv',
        checksum: { type: 'sha1', value: sha1(content) },
        extras: expect.objectContaining(PROVENANCE),
      }),
    ])
  })
})
