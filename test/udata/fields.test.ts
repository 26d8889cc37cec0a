/**
 * Every editable field, one at a time, on real udata: the action changes that field and no other.
 * A dataset (or resource) is given a value in every field first, through udata's API; the action
 * then changes one field through `dataset-metadata` (or a `resources` entry); udata's answer
 * afterwards must differ from the one before in that field alone (and in what udata derives from
 * it: the slug from the title, the quality score, the modification dates).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kitVersions, startUdata, type RealUdata, type UdataDataset } from './kit.js'
import { context, workspace, type Workspace } from './scenario.js'

/** What udata derives or moves on every write: never compared. */
const DERIVED = new Set([
  'last_modified',
  'last_update',
  'internal',
  'metrics',
  'quality',
  'resources',
  'permissions',
])

/** Each field of `dataset-metadata`, a new value, and what udata then holds in it. */
const DATASET_CASES: Array<{ field: string; yaml: string; holds: unknown; derived?: string[] }> = [
  {
    field: 'title',
    yaml: 'title: A new title',
    holds: 'A new title',
    derived: ['slug', 'page', 'uri'],
  },
  { field: 'description', yaml: 'description: Another description', holds: 'Another description' },
  { field: 'tags', yaml: 'tags: [Eau Potable, rivers]', holds: ['eau-potable', 'rivers'] },
  { field: 'frequency', yaml: 'frequency: weekly', holds: 'weekly' },
  {
    field: 'frequency_date',
    yaml: "frequency_date: '2031-05-01T00:00:00+00:00'",
    holds: '2031-05-01T00:00:00+00:00',
  },
  {
    field: 'temporal_coverage',
    yaml: "temporal_coverage: {start: '2021-01-01', end: '2021-06-30'}",
    holds: { start: '2021-01-01', end: '2021-06-30' },
  },
  { field: 'license', yaml: 'license: cc-by', holds: 'cc-by' },
  { field: 'private', yaml: 'private: false', holds: false },
  {
    field: 'extras',
    yaml: 'extras: {added: yes-indeed}',
    holds: { kept: 'v', added: 'yes-indeed' },
  },
]

/** A value in every field the action could touch by mistake. */
const FULL_STATE = {
  acronym: 'ACR',
  tags: ['alpha', 'beta-gamma'],
  temporal_coverage: { start: '2020-01-01', end: '2020-12-31' },
  frequency: 'monthly',
  frequency_date: '2030-01-01T00:00:00+00:00',
  license: 'lov2',
  private: true,
  extras: { kept: 'v' },
  spatial: { granularity: 'other' },
}

describe.each(kitVersions())('udata $name: one field changed, every other kept', (version) => {
  let udata: RealUdata
  let ws: Workspace
  beforeAll(async () => {
    udata = await startUdata(version)
    ws = await workspace()
  })
  afterAll(async () => {
    await ws?.close()
    await udata?.close()
  })

  /** A dataset with a value in every field, as udata answers it. */
  async function fullDataset(): Promise<UdataDataset> {
    const created = await udata.api.createDataset(udata.seed.org_id)
    const state =
      version.name === 'v17' ? { ...FULL_STATE, description_short: 'Short' } : FULL_STATE
    await udata.api.ok('PUT', `/api/1/datasets/${created.id}/`, state)
    return udata.api.dataset(created.id)
  }

  it.each(DATASET_CASES)('dataset-metadata: $field', async ({ field, yaml, holds, derived }) => {
    const before = await fullDataset()
    const run = await ws.run(udata, { dataset: before.id, 'dataset-metadata': yaml })
    expect(run.code, context(run, udata)).toBe(0)
    const after = await udata.api.dataset(before.id)
    expect(after[field]).toEqual(holds)
    const ignored = new Set([...DERIVED, field, ...(derived ?? [])])
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (ignored.has(key)) continue
      expect(after[key], `${key} after changing ${field}`).toEqual(before[key])
    }
    // A second run finds nothing to change.
    const again = await ws.run(udata, { dataset: before.id, 'dataset-metadata': yaml })
    expect(again.code, context(again, udata)).toBe(0)
    expect(JSON.parse(again.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'skipped',
    })
  })

  const RESOURCE_CASES: Array<{ field: string; entry: string; holds: unknown }> = [
    { field: 'title', entry: 'title: Renamed', holds: 'Renamed' },
    { field: 'description', entry: 'description: New words', holds: 'New words' },
    { field: 'type', entry: 'type: api', holds: 'api' },
    { field: 'extras', entry: 'extras: {added: 2}', holds: { kept: 'v', added: 2 } },
  ]

  it.each(RESOURCE_CASES)('resources entry: $field', async ({ field, entry, holds }) => {
    const dataset = await udata.api.createDataset(udata.seed.org_id)
    const content = 'a,b\n1,2\n'
    const added = await udata.api.addFile(dataset.id, 'kept.csv', content, 'Kept title')
    const path = `/api/1/datasets/${dataset.id}/resources/${added.id}/`
    await udata.api.ok('PUT', path, {
      description: 'Kept description',
      type: 'documentation',
      extras: { kept: 'v' },
    })
    const before = await udata.api.get<Record<string, unknown>>(path)
    await ws.write(`fields-${field}/kept.csv`, content)
    const resources = `- path: fields-${field}/kept.csv\n  id: ${added.id}\n  ${entry}`
    const run = await ws.run(udata, { dataset: dataset.id, resources, provenance: 'false' })
    expect(run.code, context(run, udata)).toBe(0)
    const after = await udata.api.get<Record<string, unknown>>(path)
    expect(after[field]).toEqual(holds)
    for (const key of Object.keys(before)) {
      if (key === field || ['last_modified', 'internal', 'metrics'].includes(key)) continue
      expect(after[key], `${key} after changing ${field}`).toEqual(before[key])
    }
  })

  it('an upload of a changed file keeps the description, type, extras and title', async () => {
    const dataset = await udata.api.createDataset(udata.seed.org_id)
    const added = await udata.api.addFile(dataset.id, 'data.csv', 'a\n1\n', 'Data by year')
    const path = `/api/1/datasets/${dataset.id}/resources/${added.id}/`
    await udata.api.ok('PUT', path, {
      description: 'Kept',
      type: 'documentation',
      extras: { kept: 'v' },
    })
    await ws.write('upload/data.csv', 'a\n1\n2\n')
    const run = await ws.run(udata, {
      dataset: dataset.id,
      files: 'upload/data.csv',
      provenance: 'false',
    })
    expect(run.code, context(run, udata)).toBe(0)
    const after = await udata.api.get<Record<string, unknown>>(path)
    expect(after).toMatchObject({
      id: added.id,
      title: 'Data by year',
      description: 'Kept',
      type: 'documentation',
      extras: { kept: 'v' },
      filesize: 6,
    })
  })
})
