/**
 * Metadata as code: a resource's title, description, type and extras, and the dataset's own
 * metadata, patched with only the fields that differ. Each change of one field must leave every
 * other field as udata held it: set them first through the API, run the action, compare them all.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, writesOf } from './kit.js'
import {
  byStoredName,
  context,
  outputResources,
  scenarioWorkspace,
  sha1,
  stableFields,
  stableResource,
  useUdata,
  writeDates,
} from './scenario.js'

/** Everything a dataset can be given through the API here (the kit has no geographic zones). */
const FULL_DATASET = {
  tags: ['alpha', 'beta'],
  temporal_coverage: { start: '2020-01-01', end: '2020-12-31' },
  frequency: 'monthly',
  frequency_date: '2027-01-01T00:00:00+00:00',
  spatial: { granularity: 'other', zones: [], geom: null },
  license: 'lov2',
  private: true,
  acronym: 'CNF',
  extras: { source: 'api', 'analysis:kept': 'yes' },
}

describe.each(kitVersions())('udata $name: metadata', (version) => {
  const udata = useUdata(version)
  /** v17's own fields too. */
  const full =
    version.name === 'v17' ? { ...FULL_DATASET, description_short: 'Résumé court.' } : FULL_DATASET
  /** udata v7 checks schema names against a catalog, empty in the kit; v17 takes any name. */
  const schema = version.name === 'v17' ? { schema: { name: 'etalab/schema-irve' } } : {}

  it("updates an unchanged file's title, description, type and extras without uploading it, merging the extras", async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const res = await u.api.addFile(ds.id, 'stations.csv', 'id\n1\n')
    await u.api.updateResource(ds.id, res.id, { extras: { keep: 'me', drop: 'soon' } })
    const before = byStoredName(await u.api.dataset(ds.id), 'stations.csv')
    const ws = await scenarioWorkspace()
    await ws.write('out/stations.csv', 'id\n1\n')

    const run = await ws.run(u, {
      dataset: ds.id,
      resources: [
        '- path: out/stations.csv',
        '  title: Stations',
        '  description: Une ligne par station.',
        '  type: documentation',
        '  extras: {pipeline: nightly, n: 3, flag: true, drop: null}',
      ].join('\n'),
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = byStoredName(await u.api.dataset(ds.id), 'stations.csv')
    expect(after).toMatchObject({
      id: res.id,
      url: before.url,
      checksum: { type: 'sha1', value: sha1('id\n1\n') },
      title: 'Stations',
      description: 'Une ligne par station.',
      type: 'documentation',
    })
    expect(after.extras).toMatchObject({ keep: 'me', pipeline: 'nightly', n: 3, flag: true })
    expect(after.extras).not.toHaveProperty('drop')
    expect(after.extras['publish:repository']).toBe('example/publisher')
    expect(outputResources(run)).toEqual([
      expect.objectContaining({
        id: res.id,
        action: 'updated',
        title: 'Stations',
        url: before.url,
        checksum: { type: 'sha1', value: sha1('id\n1\n') },
      }),
    ])
    expect(run.outputs).toMatchObject({ changed: 'true', 'uploaded-count': '0' })
  })

  it('a change of the description alone leaves the title, type, schema and extras as they were (file unchanged, then changed)', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const res = await u.api.addFile(ds.id, 'notice.csv', 'n\n1\n')
    await u.api.updateResource(ds.id, res.id, {
      title: 'Notice fixée',
      description: 'Ancienne description.',
      type: 'documentation',
      extras: { a: '1', b: 2 },
      ...schema,
    })
    const before = byStoredName(await u.api.dataset(ds.id), 'notice.csv')
    const ws = await scenarioWorkspace()
    await ws.write('out/notice.csv', 'n\n1\n')
    const inputs = { dataset: ds.id, provenance: 'false' }

    const run = await ws.run(u, {
      ...inputs,
      resources: '- {path: out/notice.csv, description: Nouvelle description.}',
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = byStoredName(await u.api.dataset(ds.id), 'notice.csv')
    expect(after.description).toBe('Nouvelle description.')
    expect(stableResource(after, 'description')).toEqual(stableResource(before, 'description'))
    expect(outputResources(run)[0]).toMatchObject({
      id: res.id,
      action: 'updated',
      patched: ['description'],
    })

    // Now the file changes too: uploaded, and still only the description is the entry's.
    await ws.write('out/notice.csv', 'n\n1\n2\n')
    const changed = await ws.run(u, {
      ...inputs,
      resources: '- {path: out/notice.csv, description: Troisième description.}',
    })

    expect.soft(changed.code, context(changed, u)).toBe(0)
    const uploaded = byStoredName(await u.api.dataset(ds.id), 'notice.csv')
    expect(uploaded).toMatchObject({
      id: res.id,
      description: 'Troisième description.',
      checksum: { type: 'sha1', value: sha1('n\n1\n2\n') },
      filesize: 6,
    })
    const fileFields = ['description', 'url', 'checksum', 'filesize', 'extras']
    expect(stableResource(uploaded, ...fileFields)).toEqual(stableResource(before, ...fileFields))
    // The extras kept, and the title to put back recorded before the upload (a run stopped
    // after it leaves the next one the title; provenance: false does not touch it).
    expect(uploaded.extras).toEqual({ ...before.extras, 'publish:title': 'Notice fixée' })
    expect(outputResources(changed)[0]).toMatchObject({
      id: res.id,
      action: 'uploaded',
      title: 'Notice fixée',
      url: uploaded.url,
    })
  })

  it('dataset-metadata with only a description changes the description and nothing else', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    await u.api.addFile(ds.id, 'a.csv', 'a\n', 'A')
    await u.api.updateDataset(ds.id, full)
    const before = await u.api.dataset(ds.id)
    expect(before).toMatchObject(full)
    const ws = await scenarioWorkspace()

    const run = await ws.run(u, {
      dataset: ds.id,
      'dataset-metadata': 'description: Une description toute neuve.',
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.description).toBe('Une description toute neuve.')
    expect(stableFields(after, 'description')).toEqual(stableFields(before, 'description'))
    expect(JSON.parse(run.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'updated',
      fields: ['description'],
    })
    expect(run.outputs.changed).toBe('true')
  })

  it('dataset-metadata with only a title changes the title (and the slug udata derives from it) and nothing else', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    await u.api.addFile(ds.id, 'a.csv', 'a\n', 'A')
    await u.api.updateDataset(ds.id, full)
    const before = await u.api.dataset(ds.id)
    const ws = await scenarioWorkspace()
    const title = `${ds.title} renamed`

    const run = await ws.run(u, { dataset: ds.id, 'dataset-metadata': `title: ${title}` })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.title).toBe(title)
    // udata's own doing on any title change: the slug follows the title, and the URLs built on it.
    const derived = ['title', 'slug', 'page', 'uri']
    const urlsOf = (d: typeof after) => d.resources.map((r) => ({ ...r, url: '', latest: '' }))
    expect({ ...stableFields(after, ...derived), resources: urlsOf(after) }).toEqual({
      ...stableFields(before, ...derived),
      resources: urlsOf(before),
    })
    expect(JSON.parse(run.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'updated',
      fields: ['title'],
    })
  })

  it('dataset-metadata sets the fields it names, merges the extras, and sends nothing the second time', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    await u.api.updateDataset(ds.id, { extras: { 'analysis:kept': 'yes' }, acronym: 'KEEP' })
    const ws = await scenarioWorkspace()
    const metadata = [
      'tags: [ventes, commerce, regions]',
      'frequency: weekly',
      'temporal_coverage: {start: 2021-01-01, end: 2025-12-31}',
      'license: odc-odbl',
      'private: true',
      'extras: {source: https://example.org/pipeline, runs: 3}',
    ].join('\n')

    const run = await ws.run(u, { dataset: ds.id, 'dataset-metadata': metadata })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after).toMatchObject({
      title: ds.title,
      description: ds.description,
      acronym: 'KEEP',
      frequency: 'weekly',
      temporal_coverage: { start: '2021-01-01', end: '2025-12-31' },
      license: 'odc-odbl',
      private: true,
    })
    expect([...after.tags].sort()).toEqual(['commerce', 'regions', 'ventes'])
    expect(after.extras).toEqual({
      'analysis:kept': 'yes',
      source: 'https://example.org/pipeline',
      runs: 3,
    })
    expect(JSON.parse(run.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'updated',
    })

    const mark = u.mark()
    const again = await ws.run(u, { dataset: ds.id, 'dataset-metadata': metadata })
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(writeDates(await u.api.dataset(ds.id))).toEqual(writeDates(after))
    expect(again.outputs.changed).toBe('false')
    expect(JSON.parse(again.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'skipped',
    })

    // Opening it: one field sent, the others stay.
    const opened = await ws.run(u, {
      dataset: ds.id,
      'dataset-metadata': metadata.replace('private: true', 'private: false'),
    })
    expect.soft(opened.code, context(opened, u)).toBe(0)
    const open = await u.api.dataset(ds.id)
    expect(open.private).toBe(false)
    expect(stableFields(open, 'private')).toEqual(stableFields(after, 'private'))
    expect(JSON.parse(opened.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'updated',
      fields: ['private'],
    })
  })
})
