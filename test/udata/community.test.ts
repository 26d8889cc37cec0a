/**
 * `as: community`: a reuser's files published as community resources of a dataset they do not
 * own: created, replaced in place (in parts too) with their title kept, skipped when unchanged;
 * the dataset's own resources stay its owner's.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, writesOf, type RealUdata, type UdataDataset } from './kit.js'
import {
  context,
  csvBytes,
  duplicateIds,
  outputResources,
  scenarioWorkspace,
  sha1,
  useUdata,
  writeDates,
} from './scenario.js'

/**
 * The whole round trip on `datasetId` with `key` (owned by `ownerId`): create, rerun, replace in
 * parts; checked on udata's list of community resources each time.
 */
async function communityRoundTrip(
  u: RealUdata,
  datasetId: string,
  key: string,
  ownerId: string,
): Promise<void> {
  const dataset = (): Promise<UdataDataset> => u.api.dataset(datasetId)
  const community = async () =>
    (await u.api.communityResources(datasetId)).filter((r) => r.owner?.id === ownerId)
  const before = await dataset()
  const already = await community()
  const ws = await scenarioWorkspace()
  const name = `derive-${Math.random().toString(36).slice(2, 8)}`
  await ws.write(`derived/${name}.csv`, 'a,b\n1,2\n')
  const inputs = {
    dataset: datasetId,
    'api-key': key,
    as: 'community',
    'create-missing': 'true',
    resources: `- {path: derived/${name}.csv, title: Statistiques dérivées ${name}}`,
  }

  const run = await ws.run(u, inputs)

  expect.soft(run.code, context(run, u)).toBe(0)
  const created = (await community()).filter((r) => !already.some((a) => a.id === r.id))
  expect(created).toEqual([
    expect.objectContaining({
      title: `Statistiques dérivées ${name}`,
      filetype: 'file',
      checksum: { type: 'sha1', value: sha1('a,b\n1,2\n') },
      filesize: 8,
      owner: expect.objectContaining({ id: ownerId }),
    }),
  ])
  const [resource] = created
  expect(outputResources(run)).toEqual([
    expect.objectContaining({
      id: resource?.id,
      action: 'created',
      url: resource?.url,
      title: `Statistiques dérivées ${name}`,
    }),
  ])
  // The dataset itself is untouched: its resources, their dates, its metadata.
  expect(await dataset()).toEqual(before)

  const mark = u.mark()
  const again = await ws.run(u, inputs)
  expect.soft(again.code, context(again, u)).toBe(0)
  expect(writesOf(await u.requestsSince(mark))).toEqual([])
  expect(outputResources(again)).toEqual([
    expect.objectContaining({ id: resource?.id, action: 'skipped' }),
  ])
  expect(again.outputs.changed).toBe('false')

  // A bigger version, in parts: replaced in place, title kept.
  const big = csvBytes(2 * 1048576 + 99, name)
  await ws.write(`derived/${name}.csv`, big)
  const replaced = await ws.run(u, { ...inputs, 'chunk-size': '1048576' })
  expect.soft(replaced.code, context(replaced, u)).toBe(0)
  const mine = await community()
  expect(duplicateIds(mine)).toEqual([])
  expect(mine.filter((r) => !already.some((a) => a.id === r.id))).toEqual([
    expect.objectContaining({
      id: resource?.id,
      title: `Statistiques dérivées ${name}`,
      checksum: { type: 'sha1', value: sha1(big) },
      filesize: big.length,
    }),
  ])
  expect(outputResources(replaced)).toEqual([
    expect.objectContaining({
      id: resource?.id,
      action: 'uploaded',
      checksum: { type: 'sha1', value: sha1(big) },
    }),
  ])
  expect(writeDates(await dataset())).toEqual(writeDates(before))
}

describe.each(kitVersions())('udata $name: community resources', (version) => {
  const udata = useUdata(version)

  it("publishes the seeded user's files as community resources of a dataset it does not own", async () => {
    const u = udata()
    await communityRoundTrip(u, u.seed.foreign_dataset_id, u.seed.api_key, u.seed.user_id)
  })

  it.runIf(version.name === 'v17')(
    "publishes a second user's files as community resources of the organization's dataset",
    async () => {
      const u = udata()
      const ds = await u.api.createDataset(u.seed.org_id)
      await u.api.addFile(ds.id, 'source.csv', 's\n', 'Source')
      const key = u.seed.other_api_key
      const owner = u.seed.other_user_id
      if (key === undefined || owner === undefined) throw new Error('v17 seed without other key')
      await communityRoundTrip(u, ds.id, key, owner)
    },
  )
})
