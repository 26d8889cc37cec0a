/**
 * `as: community`: a reuser publishes derived files on a dataset they do not own, through the
 * action against the emulator: matching, skip-unchanged, chunked upload, checksum
 * verification, title restore, dry-run, and a second run that writes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

async function communityOf(datasetId: string): Promise<
  Array<{
    id: string
    title: string
    checksum: { value: string } | null
    owner: { id: string } | null
  }>
> {
  const res = await fetch(
    `${f.emulator.url}/api/1/datasets/community_resources/?dataset=${datasetId}`,
    { headers: { accept: 'application/json' } },
  )
  return (
    (await res.json()) as {
      data: Array<{
        id: string
        title: string
        checksum: { value: string } | null
        owner: { id: string } | null
      }>
    }
  ).data
}

describe('community resources', () => {
  it("publishes a reuser's files on a dataset they do not own, then replaces them in place, and writes nothing when unchanged", async () => {
    f = await fixture()
    const own = f.emulator.addFileResource(f.dataset.id, {
      filename: 'source.csv',
      content: 's',
      title: 'Source',
    })
    const reuser = f.emulator.addUser()
    await f.write('derived/stats.csv', 'a,b\n1,2\n')
    const inputs = {
      'api-key': reuser.apiKey,
      as: 'community',
      files: 'derived/*.csv',
      'create-missing': 'true',
    }

    const dry = await f.run({ ...inputs, 'dry-run': 'true' })
    expect(dry.code, dry.stdout).toBe(0)
    expect(resourcesOutput(dry)[0]).toMatchObject({ action: 'planned', planned: 'create' })
    expect(f.writes()).toEqual([])

    const run = await f.run({
      ...inputs,
      resources: '- {path: derived/stats.csv, title: Statistiques dérivées}',
    })
    expect(run.code, run.stdout).toBe(0)
    const [created] = await communityOf(f.dataset.id)
    expect(created).toMatchObject({
      title: 'Statistiques dérivées',
      owner: { id: reuser.id },
      checksum: { value: sha1('a,b\n1,2\n') },
    })
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'created', id: created?.id })
    expect(f.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `POST /api/1/datasets/${f.dataset.id}/upload/community/`,
      `PUT /api/1/datasets/community_resources/${created?.id}/`,
    ])
    // The dataset's own resources are untouched.
    expect(f.emulator.getDataset(f.dataset.id)?.resources.map((r) => r.id)).toEqual([own.id])

    f.emulator.requests.length = 0
    const again = await f.run({
      ...inputs,
      resources: '- {path: derived/stats.csv, title: Statistiques dérivées}',
    })
    expect(again.code, again.stdout).toBe(0)
    expect(resourcesOutput(again)[0]).toMatchObject({ action: 'skipped', id: created?.id })
    expect(f.writes()).toEqual([])

    // A bigger version, in parts: replaced in place, title kept, checksum verified.
    const big = Buffer.alloc(5000, 3)
    await f.write('derived/stats.csv', big)
    f.emulator.requests.length = 0
    const changed = await f.run({ ...inputs, 'chunk-size': '2048' })
    expect(changed.code, changed.stdout).toBe(0)
    const [after] = await communityOf(f.dataset.id)
    expect(after).toMatchObject({
      id: created?.id,
      title: 'Statistiques dérivées',
      checksum: { value: sha1(big) },
    })
    const uploads = f.writes().filter((w) => w.path.endsWith('/upload/'))
    expect(uploads, changed.stdout).toHaveLength(4) // three parts and the final request
    expect(
      uploads.every((w) => w.path === `/api/1/datasets/community_resources/${created?.id}/upload/`),
    ).toBe(true)
    expect(resourcesOutput(changed)[0]).toMatchObject({ action: 'uploaded', id: created?.id })
  })

  it("refuses what a reuser cannot do, before any write: the dataset's metadata, its order, a run without key", async () => {
    f = await fixture()
    const reuser = f.emulator.addUser()
    await f.write('x.csv', 'x')
    const run = await f.run({
      'api-key': reuser.apiKey,
      as: 'community',
      files: 'x.csv',
      'create-missing': 'true',
      'dataset-metadata': 'title: T',
      order: 'as-listed',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("input 'dataset-metadata': the dataset's metadata is its owner's")
    expect(run.stdout).toContain(
      "input 'order': the order of the dataset's resources is its owner's",
    )
    const noKey = await f.run({ 'api-key': '', as: 'community', files: 'x.csv', 'dry-run': 'true' })
    expect(noKey.code).toBe(1)
    expect(noKey.stdout).toContain("input 'api-key' is required with as: community")
    expect(f.writes()).toEqual([])
  })
})
