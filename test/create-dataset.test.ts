/**
 * `create-dataset`: a dataset from nothing, through the action against the emulator;
 * idempotent by slug, refused where the slug is someone else's, shown in dry-run.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const metadata =
  'title: Prix des carburants 2026\ndescription: Relevés quotidiens.\nprivate: true\nfrequency: daily\nextras: {source: pipeline}'

describe('create-dataset', () => {
  it('creates the dataset, publishes into it, and finds it by its slug the next time', async () => {
    f = await fixture()
    await f.write('out/prix.csv', 'a,b\n1,2\n')
    const inputs = {
      dataset: 'prix-des-carburants-2026',
      'create-dataset': 'true',
      'dataset-metadata': metadata,
      files: 'out/*.csv',
    }

    const dry = await f.run({ ...inputs, 'dry-run': 'true' })
    expect(dry.code, dry.stdout).toBe(0)
    expect(dry.stdout).toMatch(
      /create\s+dataset\s+\(new\)\s+no dataset 'prix-des-carburants-2026' exists: it will be created from dataset-metadata/,
    )
    expect(resourcesOutput(dry)[0]).toMatchObject({ action: 'planned', planned: 'create' })
    expect(f.writes()).toEqual([])

    const run = await f.run(inputs)
    expect(run.code, run.stdout).toBe(0)
    const created = f.emulator.getDataset(run.outputs['dataset-id'] as string)
    expect(created).toMatchObject({
      slug: 'prix-des-carburants-2026',
      title: 'Prix des carburants 2026',
      private: true,
      frequency: 'daily',
    })
    expect(created?.extras).toMatchObject({ source: 'pipeline' })
    expect(created?.resources.map((r) => r.title)).toEqual(['prix.csv'])
    expect(run.outputs).toMatchObject({
      'dataset-created': 'true',
      changed: 'true',
      'uploaded-count': '1',
    })
    expect(run.summary).toContain('(created by this run)')

    f.emulator.requests.length = 0
    const again = await f.run(inputs)
    expect(again.code, again.stdout).toBe(0)
    expect(again.outputs).toMatchObject({
      'dataset-created': 'false',
      changed: 'false',
      'dataset-id': created?.id,
    })
    expect(f.writes()).toEqual([])
  })

  it("refuses a slug that the title would not give, a missing description, and another owner's dataset, before any write", async () => {
    f = await fixture()
    await f.write('a.csv', 'a')
    const wrongSlug = await f.run({
      dataset: 'carburants',
      'create-dataset': 'true',
      'dataset-metadata': metadata,
      files: 'a.csv',
    })
    expect(wrongSlug.code).toBe(1)
    expect(wrongSlug.stdout).toContain("would create it with the slug 'prix-des-carburants-2026'")
    const noDescription = await f.run({
      dataset: 'x-y',
      'create-dataset': 'true',
      'dataset-metadata': 'title: X Y',
      files: 'a.csv',
    })
    expect(noDescription.stdout).toContain("needs 'title' and 'description' in 'dataset-metadata'")

    const stranger = f.emulator.addUser()
    f.emulator.addDataset({ owner: stranger.id, slug: 'taken', title: 'Taken' })
    const taken = await f.run({
      dataset: 'taken',
      'create-dataset': 'true',
      'dataset-metadata': 'title: Taken\ndescription: d',
      files: 'a.csv',
    })
    expect(taken.code).toBe(1)
    expect(taken.stdout).toContain("'taken' is the slug of a dataset of another owner")
    expect(f.writes()).toEqual([])
  })

  it('without create-dataset, a missing dataset says how to create it', async () => {
    f = await fixture()
    await f.write('a.csv', 'a')
    const run = await f.run({ dataset: 'nowhere', files: 'a.csv' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('set create-dataset: true to create it')
  })
})
