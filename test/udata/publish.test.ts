/**
 * Publishing files: a changed file into its resource (title kept), a new one (create-missing), an
 * identical rerun that writes nothing, a chunked upload, and `order: as-listed`. Each scenario
 * runs the bundled action against real udata on a dataset of its own, and checks what udata's API
 * answers afterwards, then that the action's outputs and summary say the same.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, writesOf } from './kit.js'
import {
  byStoredName,
  context,
  csvBytes,
  duplicateIds,
  outputResources,
  outputUrls,
  provenanceEnv,
  scenarioWorkspace,
  sha1,
  stableResource,
  useUdata,
  writeDates,
} from './scenario.js'

describe.each(kitVersions())('udata $name: publishing files', (version) => {
  const udata = useUdata(version)

  it('replaces a changed file in place in a resource whose title differs from its file name, and keeps the title and description', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const sales = await u.api.addFile(ds.id, 'sales.csv', 'year,n\n2023,1\n', 'Sales by year')
    await u.api.updateResource(ds.id, sales.id, { description: 'One line a year.' })
    const other = await u.api.addFile(ds.id, 'other.csv', 'o\n', 'Other file')
    const before = await u.api.dataset(ds.id)
    const content = 'year,n\n2023,1\n2024,2\n'
    const ws = await scenarioWorkspace()
    await ws.write('out/sales.csv', content)

    const run = await ws.run(u, { dataset: ds.id, files: 'out/sales.csv' })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources.map((r) => r.id)).toEqual(before.resources.map((r) => r.id))
    const res = byStoredName(after, 'sales.csv')
    expect(res).toMatchObject({
      id: sales.id,
      title: 'Sales by year',
      description: 'One line a year.',
      filetype: 'file',
      type: 'main',
      checksum: { type: 'sha1', value: sha1(content) },
      filesize: Buffer.byteLength(content),
    })
    expect(res.url).not.toBe(before.resources.find((r) => r.id === sales.id)?.url)
    // The other resource is untouched, to its dates.
    expect(after.resources.find((r) => r.id === other.id)).toEqual(
      before.resources.find((r) => r.id === other.id),
    )

    // The action's word matches what udata holds.
    expect(outputResources(run)).toEqual([
      expect.objectContaining({
        id: sales.id,
        title: 'Sales by year',
        kind: 'file',
        source: 'out/sales.csv',
        action: 'uploaded',
        url: res.url,
        latest: res.latest,
        checksum: { type: 'sha1', value: sha1(content) },
        filesize: Buffer.byteLength(content),
      }),
    ])
    expect(run.outputs).toMatchObject({
      changed: 'true',
      'uploaded-count': '1',
      'skipped-count': '0',
      'removed-count': '0',
      'dataset-id': ds.id,
      'dataset-created': 'false',
    })
    expect(outputUrls(run)).toEqual({ 'out/sales.csv': res.url })
    expect(run.summary).toContain('1 uploaded')
    expect(run.summary).toContain(`[Sales by year](${res.latest})`)
  })

  it('creates a resource for a file that matches none (create-missing), titled with its name and stored under its normalised name', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const kept = await u.api.addFile(ds.id, 'kept.csv', 'k\n1\n', 'Kept')
    const ws = await scenarioWorkspace()
    await ws.write('out/kept.csv', 'k\n1\n')
    const content = 'a;b\n1;2\n'
    await ws.write('out/Ventes Régionales 2024.csv', content)

    const run = await ws.run(u, { dataset: ds.id, files: 'out/*.csv', 'create-missing': 'true' })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(2)
    expect(duplicateIds(after.resources)).toEqual([])
    const created = byStoredName(after, 'ventes-regionales-2024.csv')
    expect(created).toMatchObject({
      title: 'Ventes Régionales 2024.csv',
      filetype: 'file',
      type: 'main',
      checksum: { type: 'sha1', value: sha1(content) },
      filesize: Buffer.byteLength(content),
    })
    expect(byStoredName(after, 'kept.csv')).toMatchObject({ id: kept.id, title: 'Kept' })

    const outputs = outputResources(run)
    expect(outputs).toHaveLength(2)
    expect(outputs).toContainEqual(
      expect.objectContaining({
        id: created.id,
        title: 'Ventes Régionales 2024.csv',
        source: 'out/Ventes Régionales 2024.csv',
        action: 'created',
        url: created.url,
        latest: created.latest,
        checksum: { type: 'sha1', value: sha1(content) },
      }),
    )
    expect(outputs).toContainEqual(
      expect.objectContaining({ id: kept.id, source: 'out/kept.csv', action: 'skipped' }),
    )
    expect(run.outputs).toMatchObject({
      changed: 'true',
      'uploaded-count': '1',
      'skipped-count': '1',
    })
    expect(outputUrls(run)).toEqual({
      'out/Ventes Régionales 2024.csv': created.url,
      'out/kept.csv': byStoredName(after, 'kept.csv').url,
    })
    expect(run.summary).toContain('1 created')
    expect(run.summary).toContain('1 skipped')
  })

  it('writes nothing when the same publication runs again: no write request, no date moved', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    await u.api.addFile(ds.id, 'a.csv', 'a\n1\n', 'Série A')
    await u.api.addFile(ds.id, 'b.csv', 'b\n1\n')
    const ws = await scenarioWorkspace()
    await ws.write('out/a.csv', 'a\n1\n2\n')
    await ws.write('out/b.csv', 'b\n1\n')
    await ws.write('out/c.csv', 'c\n3\n')
    const inputs = {
      dataset: ds.id,
      'create-missing': 'true',
      order: 'as-listed',
      resources: [
        '- {path: out/a.csv, description: La série A., extras: {pipeline: nightly}}',
        '- {path: out/b.csv, title: Série B, type: documentation}',
        '- {path: out/c.csv, title: Série C}',
      ].join('\n'),
      'dataset-metadata':
        'tags: [ventes, regions]\nfrequency: monthly\nextras: {source: conformance}',
    }
    const env = provenanceEnv('nightly')
    const firstMark = u.mark()
    const first = await ws.run(u, inputs, env)
    expect.soft(first.code, context(first, u)).toBe(0)
    expect(writesOf(await u.requestsSince(firstMark)).length).toBeGreaterThan(0)
    const published = await u.api.dataset(ds.id)
    expect(published.resources.map((r) => r.title)).toEqual(['Série A', 'Série B', 'Série C'])
    expect(published.resources.map((r) => r.checksum?.value)).toEqual(
      ['a\n1\n2\n', 'b\n1\n', 'c\n3\n'].map(sha1),
    )
    expect(byStoredName(published, 'a.csv')).toMatchObject({
      description: 'La série A.',
      extras: expect.objectContaining({ pipeline: 'nightly' }),
    })
    expect(byStoredName(published, 'b.csv').type).toBe('documentation')
    expect(published).toMatchObject({
      tags: ['regions', 'ventes'],
      frequency: 'monthly',
      extras: expect.objectContaining({ source: 'conformance' }),
    })

    const mark = u.mark()
    const again = await ws.run(u, inputs, { ...env, GITHUB_SHA: 'b'.repeat(40) })

    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    const after = await u.api.dataset(ds.id)
    expect(writeDates(after)).toEqual(writeDates(published))
    expect(after).toEqual(published)
    expect(again.outputs).toMatchObject({
      changed: 'false',
      'uploaded-count': '0',
      'skipped-count': '3',
      'removed-count': '0',
    })
    expect(outputResources(again).map((r) => [r.id, r.action])).toEqual(
      published.resources.map((r) => [r.id, 'skipped']),
    )
    expect(JSON.parse(again.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'skipped',
    })
    expect(again.summary).toContain('3 skipped')
  })

  it('sends a file larger than chunk-size in parts, into an existing resource and into a new one', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const big = await u.api.addFile(ds.id, 'big.csv', 'small at first\n', 'Gros fichier')
    const ws = await scenarioWorkspace()
    const replaced = csvBytes(3 * 1048576 + 12345, `${version.name} replaced`)
    const fresh = csvBytes(2 * 1048576 + 7, `${version.name} fresh`)
    await ws.write('out/big.csv', replaced)
    await ws.write('out/fresh.csv', fresh)
    const mark = u.mark()

    const run = await ws.run(u, {
      dataset: ds.id,
      files: 'out/*.csv',
      'create-missing': 'true',
      'chunk-size': '1048576',
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(2)
    expect(byStoredName(after, 'big.csv')).toMatchObject({
      id: big.id,
      title: 'Gros fichier',
      checksum: { type: 'sha1', value: sha1(replaced) },
      filesize: replaced.length,
    })
    const created = byStoredName(after, 'fresh.csv')
    expect(created).toMatchObject({
      title: 'fresh.csv',
      checksum: { type: 'sha1', value: sha1(fresh) },
      filesize: fresh.length,
    })
    // It went in parts: four parts then the final request, three parts then the final request.
    const uploads = writesOf(await u.requestsSince(mark)).filter((r) => r.path.includes('upload'))
    expect(uploads.filter((r) => r.path.includes(big.id))).toHaveLength(5)
    expect(uploads.filter((r) => !r.path.includes(big.id))).toHaveLength(4)
    expect(outputResources(run)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: big.id,
          action: 'uploaded',
          checksum: { type: 'sha1', value: sha1(replaced) },
          filesize: replaced.length,
          url: byStoredName(after, 'big.csv').url,
        }),
        expect.objectContaining({
          id: created.id,
          action: 'created',
          checksum: { type: 'sha1', value: sha1(fresh) },
          filesize: fresh.length,
          url: created.url,
        }),
      ]),
    )
    expect(run.outputs['uploaded-count']).toBe('2')
  })

  it('order: as-listed puts the published resources in the order of the entries, the others after them, and sends nothing once right', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const unlisted = await u.api.addFile(ds.id, 'unlisted.csv', 'u\n')
    const a = await u.api.addFile(ds.id, 'a.csv', 'a\n')
    const b = await u.api.addFile(ds.id, 'b.csv', 'b\n')
    const c = await u.api.addFile(ds.id, 'c.csv', 'c\n')
    // udata lists the newest first.
    const before = await u.api.dataset(ds.id)
    expect(before.resources.map((r) => r.id)).toEqual([c.id, b.id, a.id, unlisted.id])
    const ws = await scenarioWorkspace()
    await ws.write('out/a.csv', 'a\n')
    await ws.write('out/b.csv', 'b\nchanged\n')
    await ws.write('out/c.csv', 'c\n')
    await ws.write('out/d.csv', 'd\n')
    const inputs = {
      dataset: ds.id,
      'create-missing': 'true',
      order: 'as-listed',
      resources: '- out/a.csv\n- out/b.csv\n- out/c.csv\n- out/d.csv',
    }

    const run = await ws.run(u, inputs)

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    const d = byStoredName(after, 'd.csv')
    expect(after.resources.map((r) => r.id)).toEqual([a.id, b.id, c.id, d.id, unlisted.id])
    expect(byStoredName(after, 'b.csv').checksum?.value).toBe(sha1('b\nchanged\n'))
    // a.csv and c.csv are unchanged, but bear the title udata gave their upload and no
    // provenance, as a run stopped after a creation leaves them: their provenance is recorded,
    // once (the second run below writes nothing).
    expect(outputResources(run).map((r) => [r.source, r.id, r.action])).toEqual([
      ['out/a.csv', a.id, 'updated'],
      ['out/b.csv', b.id, 'uploaded'],
      ['out/c.csv', c.id, 'updated'],
      ['out/d.csv', d.id, 'created'],
    ])
    expect(run.summary).toMatch(/Order: \*\*reordered\*\*/)

    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    const still = await u.api.dataset(ds.id)
    expect(still.resources.map((r) => r.id)).toEqual([a.id, b.id, c.id, d.id, unlisted.id])
    expect(still.resources.map((r) => stableResource(r))).toEqual(
      after.resources.map((r) => stableResource(r)),
    )
    expect(again.outputs.changed).toBe('false')
  })

  it("goes to the resource titled with the file's name when no stored name matches, and stores it under that name", async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const titled = await u.api.addFile(ds.id, 'export-v1.csv', 'v1\n', 'export.csv')
    const ws = await scenarioWorkspace()
    await ws.write('out/export.csv', 'v2\n')

    const run = await ws.run(u, { dataset: ds.id, files: 'out/export.csv' })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(1)
    expect(byStoredName(after, 'export.csv')).toMatchObject({
      id: titled.id,
      title: 'export.csv',
      checksum: { type: 'sha1', value: sha1('v2\n') },
    })
    expect(outputResources(run)).toEqual([
      expect.objectContaining({ id: titled.id, action: 'uploaded', url: after.resources[0]?.url }),
    ])
  })

  it('if-unchanged: upload sends an unchanged file again: a new stored file, same resource, title kept', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const res = await u.api.addFile(ds.id, 'same.csv', 's\n1\n', 'Toujours le même')
    const before = byStoredName(await u.api.dataset(ds.id), 'same.csv')
    const ws = await scenarioWorkspace()
    await ws.write('out/same.csv', 's\n1\n')
    // udata refuses a second upload of one name within a second (FileExists).
    await new Promise((resolve) => setTimeout(resolve, 1100))

    const run = await ws.run(u, { dataset: ds.id, files: 'out/same.csv', 'if-unchanged': 'upload' })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(1)
    const again = byStoredName(after, 'same.csv')
    expect(again).toMatchObject({
      id: res.id,
      title: 'Toujours le même',
      checksum: { type: 'sha1', value: sha1('s\n1\n') },
    })
    expect(again.url).not.toBe(before.url)
    expect(outputResources(run)).toEqual([
      expect.objectContaining({ id: res.id, action: 'uploaded', url: again.url }),
    ])
  })

  it('dry-run plans every entry and sends no write request', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const a = await u.api.addFile(ds.id, 'a.csv', 'a\n', 'A')
    const gone = await u.api.addFile(ds.id, 'gone.csv', 'g\n')
    const before = await u.api.dataset(ds.id)
    const ws = await scenarioWorkspace()
    await ws.write('out/a.csv', 'a\nchanged\n')
    await ws.write('out/b.csv', 'b\n')
    const mark = u.mark()

    const run = await ws.run(u, {
      dataset: ds.id,
      files: 'out/*.csv',
      'create-missing': 'true',
      remove: 'gone.csv',
      'dataset-metadata': 'description: Pas encore.',
      'dry-run': 'true',
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(await u.api.dataset(ds.id)).toEqual(before)
    expect(outputResources(run).map((r) => [r.source, r.id, r.action, r.planned])).toEqual([
      ['out/a.csv', a.id, 'planned', 'upload'],
      ['out/b.csv', null, 'planned', 'create'],
      ['gone.csv', gone.id, 'planned', 'remove'],
    ])
    expect(run.outputs.changed).toBe('false')
    expect(run.summary).toContain('_Dry run: no write request was sent._')
  })
})
