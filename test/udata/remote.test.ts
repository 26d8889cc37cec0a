/**
 * Remote resources: matched by URL (or created with create-missing), checked with HEAD against a
 * loopback server of the test (the kit lets udata take local URLs), signalled only when what the
 * URL answers changed, with what it answered recorded in the resource's extras.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { remoteFiles, type RemoteFiles } from '../helpers/remote-files.js'
import { kitVersions, writesOf, type UdataDataset } from './kit.js'
import {
  context,
  duplicateIds,
  outputResources,
  outputUrls,
  scenarioWorkspace,
  stableResource,
  useUdata,
  writeDates,
} from './scenario.js'

describe.each(kitVersions())('udata $name: remote resources', (version) => {
  const udata = useUdata(version)
  let remote: RemoteFiles
  beforeEach(async () => {
    remote = await remoteFiles()
  })
  afterEach(async () => {
    await remote.close()
  })

  it('signals a remote file that changed, creates a missing one, records what the URL answered, and writes nothing while it does not change', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const existing = await u.api.addRemote(ds.id, {
      url: remote.url('/api.json'),
      title: 'Old title',
      format: 'json',
    })
    await u.api.updateResource(ds.id, existing.id, { extras: { 'analysis:checksum': 'kept' } })
    const before = (await u.api.dataset(ds.id)).resources[0]
    const ws = await scenarioWorkspace()
    const inputs = {
      dataset: ds.id,
      'create-missing': 'true',
      resources: [
        `- url: ${remote.url('/api.json')}`,
        '  title: API des ventes',
        '  description: Mise à jour chaque nuit.',
        `- url: ${remote.url('/stations.geojson')}`,
        '  title: Stations',
        '  format: geojson',
      ].join('\n'),
    }

    const run = await ws.run(u, inputs)

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(2)
    expect(duplicateIds(after.resources)).toEqual([])
    const api = after.resources.find((r) => r.id === existing.id)
    const stations = after.resources.find((r) => r.id !== existing.id)
    const answered = {
      'publish:etag': '"v1"',
      'publish:last-modified': 'Mon, 02 Nov 2026 10:00:00 GMT',
      'publish:content-length': String(Buffer.byteLength(remote.body)),
    }
    expect(api).toMatchObject({
      filetype: 'remote',
      url: remote.url('/api.json'),
      title: 'API des ventes',
      description: 'Mise à jour chaque nuit.',
      type: 'main',
      format: 'json',
      extras: expect.objectContaining({ 'analysis:checksum': 'kept', ...answered }),
    })
    expect(api?.last_modified).not.toBe(before?.last_modified)
    expect(stations).toMatchObject({
      filetype: 'remote',
      url: remote.url('/stations.geojson'),
      title: 'Stations',
      type: 'main',
      format: 'geojson',
      extras: expect.objectContaining(answered),
    })
    expect(outputResources(run)).toEqual([
      expect.objectContaining({
        id: existing.id,
        kind: 'url',
        action: 'signalled',
        title: 'API des ventes',
        url: remote.url('/api.json'),
        remote: expect.objectContaining({ status: 200, etag: '"v1"' }),
      }),
      expect.objectContaining({
        id: stations?.id,
        kind: 'url',
        action: 'created',
        title: 'Stations',
        url: remote.url('/stations.geojson'),
      }),
    ])
    expect(outputUrls(run)).toEqual({
      [remote.url('/api.json')]: remote.url('/api.json'),
      [remote.url('/stations.geojson')]: remote.url('/stations.geojson'),
    })
    expect(run.outputs).toMatchObject({ changed: 'true', 'uploaded-count': '0' })
    // The key is never sent to the remote host.
    expect(remote.requests.length).toBeGreaterThan(0)
    expect(remote.requests.filter((r) => r.key !== undefined)).toEqual([])

    // Nothing changed at the URLs: nothing is written.
    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(writeDates(await u.api.dataset(ds.id))).toEqual(writeDates(after))
    expect(outputResources(again).map((r) => r.action)).toEqual(['skipped', 'skipped'])
    expect(again.outputs).toMatchObject({ changed: 'false', 'skipped-count': '2' })

    // A new ETag: both are signalled, their dates move, the new ETag is recorded.
    remote.etag = '"v2"'
    const changed = await ws.run(u, inputs)
    expect.soft(changed.code, context(changed, u)).toBe(0)
    const signalled: UdataDataset = await u.api.dataset(ds.id)
    expect(signalled.resources.map((r) => r.id)).toEqual(after.resources.map((r) => r.id))
    for (const r of signalled.resources) {
      expect(r.extras['publish:etag']).toBe('"v2"')
      expect(r.last_modified).not.toBe(after.resources.find((a) => a.id === r.id)?.last_modified)
    }
    expect(outputResources(changed).map((r) => r.action)).toEqual(['signalled', 'signalled'])
  })

  it('check-urls: false publishes a URL the runner cannot reach, and signals it at every run', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const ws = await scenarioWorkspace()
    const url = 'http://127.0.0.1:19/unreachable/export.csv'
    const inputs = {
      dataset: ds.id,
      'create-missing': 'true',
      'check-urls': 'false',
      resources: `- {url: '${url}', title: Export interne, type: api, format: csv}`,
    }

    const run = await ws.run(u, inputs)

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toEqual([
      expect.objectContaining({
        filetype: 'remote',
        url,
        title: 'Export interne',
        type: 'api',
        format: 'csv',
      }),
    ])
    const [created] = after.resources
    expect(outputResources(run)[0]).toMatchObject({ id: created?.id, action: 'created' })

    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    const still = await u.api.dataset(ds.id)
    expect(still.resources.map((r) => r.id)).toEqual([created?.id])
    expect(still.resources[0]?.last_modified).not.toBe(created?.last_modified)
    expect(outputResources(again)[0]).toMatchObject({ id: created?.id, action: 'signalled' })
  })

  it("a remote entry that changes only the description leaves the resource's title, type, format, schema and extras", async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const existing = await u.api.addRemote(ds.id, {
      url: remote.url('/api.json'),
      title: 'API des ventes',
      type: 'api',
      format: 'json',
      description: 'Ancienne.',
    })
    await u.api.updateResource(ds.id, existing.id, {
      extras: { 'analysis:checksum': 'kept', owner: 'team' },
      ...(version.name === 'v17' ? { schema: { name: 'etalab/schema-irve' } } : {}),
    })
    const [before] = (await u.api.dataset(ds.id)).resources
    const ws = await scenarioWorkspace()

    const run = await ws.run(u, {
      dataset: ds.id,
      provenance: 'false',
      resources: `- {url: '${remote.url('/api.json')}', description: Nouvelle.}`,
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources).toHaveLength(1)
    const [res] = after.resources
    expect(res?.description).toBe('Nouvelle.')
    // The action records what the URL answered; everything else stays as it was.
    expect(res?.extras).toEqual({
      ...before?.extras,
      'publish:etag': '"v1"',
      'publish:last-modified': 'Mon, 02 Nov 2026 10:00:00 GMT',
      'publish:content-length': String(Buffer.byteLength(remote.body)),
    })
    expect(stableResource(res!, 'description', 'extras')).toEqual(
      stableResource(before!, 'description', 'extras'),
    )
    expect(outputResources(run)).toEqual([
      expect.objectContaining({ id: existing.id, action: 'signalled', title: 'API des ventes' }),
    ])
  })
})
