/**
 * Deletions: `remove` (ids or stored file names) and `prune` (what this publication wrote
 * before, recognised by the provenance recorded in the resources' extras), both run last.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, storedName, writesOf, type UdataDataset } from './kit.js'
import {
  byStoredName,
  context,
  outputResources,
  provenanceEnv,
  scenarioWorkspace,
  sha1,
  stableResource,
  useUdata,
} from './scenario.js'

function resourceOf(dataset: UdataDataset, id: string) {
  const found = dataset.resources.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no resource ${id} in ${dataset.id}`)
  return found
}

describe.each(kitVersions())('udata $name: removal and prune', (version) => {
  const udata = useUdata(version)

  it('remove deletes the resources named by stored file name or id, and only them', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const kept = await u.api.addFile(ds.id, 'kept.csv', 'k\n', 'Gardé')
    const byName = await u.api.addFile(ds.id, 'ventes-2019.csv', 'v\n', 'Ventes 2019')
    const byId = await u.api.addFile(ds.id, 'old.csv', 'o\n')
    const untouched = await u.api.addFile(ds.id, 'other.csv', 'x\n')
    const before = await u.api.dataset(ds.id)
    const ws = await scenarioWorkspace()
    await ws.write('out/kept.csv', 'k\nnew\n')

    const run = await ws.run(u, {
      dataset: ds.id,
      files: 'out/kept.csv',
      remove: `ventes-2019.csv\n${byId.id}`,
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources.map((r) => r.id).sort()).toEqual([kept.id, untouched.id].sort())
    expect(byStoredName(after, 'kept.csv')).toMatchObject({
      title: 'Gardé',
      checksum: { value: sha1('k\nnew\n') },
    })
    const other = (d: typeof after) => d.resources.find((r) => r.id === untouched.id)
    expect(other(after)).toEqual(other(before))
    const outputs = outputResources(run)
    expect(outputs).toHaveLength(3)
    expect(outputs).toContainEqual(expect.objectContaining({ id: kept.id, action: 'uploaded' }))
    expect(outputs).toContainEqual(
      expect.objectContaining({ id: byName.id, kind: 'remove', action: 'removed' }),
    )
    expect(outputs).toContainEqual(
      expect.objectContaining({ id: byId.id, kind: 'remove', action: 'removed' }),
    )
    expect(run.outputs).toMatchObject({
      changed: 'true',
      'removed-count': '2',
      'uploaded-count': '1',
    })
    expect(run.summary).toContain('2 removed')
  })

  it('prune deletes what this publication wrote before and no longer publishes, and nothing else', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const manual = await u.api.addFile(ds.id, 'manual.csv', 'm\n', 'Déposé à la main')
    const ws = await scenarioWorkspace()
    await ws.write('nightly/x.csv', 'x\n')
    await ws.write('nightly/y.csv', 'y\n')
    await ws.write('weekly/w.csv', 'w\n')
    const nightly = provenanceEnv('nightly')
    const first = await ws.run(
      u,
      { dataset: ds.id, files: 'nightly/*.csv', 'create-missing': 'true' },
      nightly,
    )
    expect.soft(first.code, context(first, u)).toBe(0)
    const other = await ws.run(
      u,
      { dataset: ds.id, files: 'weekly/*.csv', 'create-missing': 'true' },
      provenanceEnv('weekly'),
    )
    expect.soft(other.code, context(other, u)).toBe(0)
    const written = await u.api.dataset(ds.id)
    expect(written.resources).toHaveLength(4)
    const x = byStoredName(written, 'x.csv')
    const y = byStoredName(written, 'y.csv')
    const w = byStoredName(written, 'w.csv')
    expect(x.extras).toMatchObject({
      'publish:repository': 'example/conformance',
      'publish:workflow': 'nightly',
      'publish:commit': 'a'.repeat(40),
      'publish:ref': 'refs/heads/main',
      'publish:run-url': 'https://github.com/example/conformance/actions/runs/4242',
    })
    expect(w.extras).toMatchObject({ 'publish:workflow': 'weekly' })

    // y.csv is no longer produced.
    const inputs = { dataset: ds.id, files: 'nightly/x.csv', prune: 'true' }
    const pruneRun = await ws.run(u, inputs, nightly)

    expect.soft(pruneRun.code, context(pruneRun, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources.map((r) => r.id).sort()).toEqual([manual.id, x.id, w.id].sort())
    expect(after.resources.map(storedName).sort()).toEqual(['manual.csv', 'w.csv', 'x.csv'])
    for (const id of [manual.id, x.id, w.id])
      expect(stableResource(resourceOf(after, id))).toEqual(stableResource(resourceOf(written, id)))
    expect(outputResources(pruneRun)).toEqual([
      expect.objectContaining({ id: x.id, action: 'skipped' }),
      expect.objectContaining({ id: y.id, kind: 'remove', action: 'removed' }),
    ])
    expect(pruneRun.outputs).toMatchObject({ changed: 'true', 'removed-count': '1' })

    // Nothing more to prune.
    const mark = u.mark()
    const again = await ws.run(u, inputs, nightly)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(again.outputs).toMatchObject({ changed: 'false', 'removed-count': '0' })
  })
})
