/**
 * Remote resources, resource and dataset metadata, removals and the plan, through the
 * action against the emulator. Remote URLs are served by a small loopback server whose validators
 * (ETag, Last-Modified) the tests change between runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'
import { remoteFiles, type RemoteFiles } from './helpers/remote-files.js'

let f: Fixture
let remote: RemoteFiles
beforeEach(async () => {
  remote = await remoteFiles()
})
afterEach(async () => {
  await f?.close()
  await remote.close()
})

describe('remote resources', () => {
  it('signals an update when the remote file changed, records what it answered, and does nothing when it did not', async () => {
    f = await fixture()
    const api = f.emulator.addRemoteResource(f.dataset.id, {
      url: remote.url('/data.json'),
      title: 'API',
      extras: { 'analysis:checksum': 'kept' },
    })
    const before = f.emulator.getResource(f.dataset.id, api.id)?.lastModifiedInternal.getTime() ?? 0
    const resources = JSON.stringify([
      {
        url: remote.url('/data.json'),
        title: 'API des ventes',
        description: 'Mise à jour chaque nuit.',
      },
    ])

    const first = await f.run({ resources })
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(resourcesOutput(first)[0]).toMatchObject({
      id: api.id,
      kind: 'url',
      action: 'signalled',
      reason: 'remote file changed (first check)',
      remote: {
        status: 200,
        etag: '"v1"',
        last_modified: 'Mon, 02 Nov 2026 10:00:00 GMT',
        size: 21,
      },
      patched: ['url', 'title', 'description', 'extras'],
    })
    const signalled = f.emulator.getResource(f.dataset.id, api.id)
    expect(signalled).toMatchObject({
      title: 'API des ventes',
      description: 'Mise à jour chaque nuit.',
      filetype: 'remote',
      url: remote.url('/data.json'),
    })
    expect(signalled?.lastModifiedInternal.getTime()).toBeGreaterThan(before)
    // the analyser's keys stay: extras are merged, never replaced
    expect(signalled?.extras).toEqual({
      'analysis:checksum': 'kept',
      'publish:etag': '"v1"',
      'publish:last-modified': 'Mon, 02 Nov 2026 10:00:00 GMT',
      'publish:content-length': '21',
    })
    expect(f.writes().map((w) => w.method)).toEqual(['PUT', 'PUT'])
    expect(remote.requests.every((r) => r.key === undefined)).toBe(true)
    expect(first.summary).toContain('HEAD 200, ETag "v1"')

    f.emulator.resetRequests()
    const second = await f.run({ resources })
    expect(resourcesOutput(second)[0]).toMatchObject({
      action: 'skipped',
      reason: 'remote unchanged (same validators as at the last signal)',
    })
    expect(f.writes()).toEqual([])
    expect(second.outputs.changed).toBe('false')

    remote.etag = '"v2"'
    const third = await f.run({ resources })
    expect(resourcesOutput(third)[0]).toMatchObject({
      action: 'signalled',
      reason: 'remote file changed (ETag)',
    })
    expect(f.emulator.getResource(f.dataset.id, api.id)?.extras['publish:etag']).toBe('"v2"')
  })

  it('creates a remote resource of type main when none matches and create-missing is true; falls back to a ranged GET', async () => {
    f = await fixture()
    remote.refuseHead = true
    const run = await f.run({
      resources: `- url: ${remote.url('/export/stations.json')}\n  format: JSON`,
      'create-missing': 'true',
    })
    expect(run.code, run.stdout).toBe(0)
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      action: 'created',
      title: 'stations.json',
      remote: { status: 206, size: 21 },
    })
    expect(f.emulator.getResource(f.dataset.id, result?.id as string)).toMatchObject({
      filetype: 'remote',
      type: 'main',
      format: 'json',
      title: 'stations.json',
    })
    expect(remote.requests.map((r) => `${r.method} ${r.range ?? ''}`.trim())).toEqual([
      'HEAD',
      'GET bytes=0-0',
    ])
    const again = await f.run({
      resources: `- url: ${remote.url('/export/stations.json')}\n  format: JSON`,
      'create-missing': 'true',
    })
    expect(resourcesOutput(again)[0]).toMatchObject({ action: 'skipped', id: result?.id })
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
  })

  it('fails before any write when a URL does not answer, unless check-urls is false', async () => {
    f = await fixture()
    const api = f.emulator.addRemoteResource(f.dataset.id, {
      url: remote.url('/missing'),
      title: 'Gone',
    })
    const resources = `- {url: '${remote.url('/missing')}', id: ${api.id}}`
    const run = await f.run({ resources })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `resources[0] (${remote.url('/missing')}): the URL does not answer: ${remote.url('/missing')} answered 404`,
    )
    expect(run.stdout).toContain('set check-urls: false')
    expect(f.writes()).toEqual([])

    const unchecked = await f.run({ resources, 'check-urls': 'false' })
    expect(unchecked.code, unchecked.stdout).toBe(0)
    expect(resourcesOutput(unchecked)[0]).toMatchObject({
      action: 'signalled',
      reason: 'URL not checked (check-urls is false): a change cannot be ruled out',
    })
  })

  it('refuses a url entry aimed at a file resource, and a path entry aimed at a remote one', async () => {
    f = await fixture()
    const file = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'a' })
    const run = await f.run({ resources: `- {url: '${remote.url('/data.json')}', id: ${file.id}}` })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `resource ${file.id} ('a.csv') hosts a file; a url entry updates a remote resource`,
    )
    expect(f.writes()).toEqual([])
  })
})

describe('dataset metadata', () => {
  it('validates against the instance, sends only the fields that differ, merges extras, and is idempotent', async () => {
    f = await fixture({
      title: 'Ventes',
      tags: ['ventes'],
      frequency: 'monthly',
      extras: { 'harvest:source': 'kept', keep: 'x' },
    })
    const bad = await f.run({
      'dataset-metadata': 'frequency: sometimes\nlicense: wtfpl\ntitle: ""\nresources: []',
    })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain("input 'dataset-metadata'.title: must not be empty")
    expect(bad.stdout).toContain(
      "input 'dataset-metadata': unknown key 'resources' (accepted: title, description, tags, frequency",
    )
    expect(f.writes()).toEqual([])
    const unknownValues = await f.run({
      'dataset-metadata': 'frequency: sometimes\nlicense: wtfpl',
    })
    expect(unknownValues.stdout).toContain(
      "input 'dataset-metadata'.frequency: 'sometimes' is not a frequency of the instance (accepted: continuous, oneMinute",
    )
    expect(unknownValues.stdout).toContain(
      "input 'dataset-metadata'.license: 'wtfpl' is not a license of the instance (accepted: ",
    )
    expect(f.writes()).toEqual([])

    const metadata = `
title: Ventes
tags: [ventes, commerce]
frequency: daily
license: lov2
temporal_coverage: {start: 2024-01-01, end: 2024-12-31}
extras: {source-pipeline: nightly, keep: x}
`
    const run = await f.run({ 'dataset-metadata': metadata })
    expect(run.code, run.stdout).toBe(0)
    expect(JSON.parse(run.outputs['dataset-metadata'] ?? '{}')).toEqual({
      action: 'updated',
      reason: 'tags, frequency, temporal_coverage, license, extras differ',
      fields: ['tags', 'frequency', 'temporal_coverage', 'license', 'extras'],
    })
    expect(f.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `PUT /api/1/datasets/${f.dataset.id}/`,
      `PUT /api/2/datasets/${f.dataset.id}/extras/`,
    ])
    const dataset = f.emulator.getDataset(f.dataset.id)
    expect(dataset).toMatchObject({ title: 'Ventes', frequency: 'daily', license: 'lov2' })
    expect([...(dataset?.tags ?? [])].sort()).toEqual(['commerce', 'ventes'])
    expect(dataset?.extras).toEqual({
      'harvest:source': 'kept',
      keep: 'x',
      'source-pipeline': 'nightly',
    })
    expect(run.outputs.changed).toBe('true')

    f.emulator.resetRequests()
    const again = await f.run({ 'dataset-metadata': metadata })
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(again.outputs.changed).toBe('false')
    expect(JSON.parse(again.outputs['dataset-metadata'] ?? '{}')).toMatchObject({
      action: 'skipped',
      reason: 'metadata unchanged',
    })
  })

  it('merges resource extras and updates metadata of an unchanged file without uploading it', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'a,b\n',
      extras: { 'analysis:x': 1 },
    })
    await f.write('a.csv', 'a,b\n')
    const run = await f.run({ resources: '- path: a.csv\n  extras: {pipeline: v3}' })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'updated',
      reason: 'unchanged file; extras differs',
      patched: ['extras'],
    })
    expect(f.writes().map((w) => w.method + ' ' + w.path)).toEqual([
      `PUT /api/2/datasets/${f.dataset.id}/resources/${r.id}/extras/`,
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.extras).toEqual({
      'analysis:x': 1,
      pipeline: 'v3',
    })
  })
})

describe('removals', () => {
  it('removes resources named by id or stored file name, last, after the other entries', async () => {
    f = await fixture()
    const old = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ventes-2023.csv',
      content: 'old',
    })
    const other = f.emulator.addRemoteResource(f.dataset.id, {
      url: 'https://example.org/old',
      title: 'Old API',
    })
    const kept = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ventes-2024.csv',
      content: 'x',
    })
    await f.write('ventes-2024.csv', 'new')
    const run = await f.run({ files: 'ventes-2024.csv', remove: `Ventes 2023.csv\n${other.id}` })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run).map((r) => [r.kind, r.source, r.action])).toEqual([
      ['file', 'ventes-2024.csv', 'uploaded'],
      ['remove', 'Ventes 2023.csv', 'removed'],
      ['remove', other.id, 'removed'],
    ])
    expect(f.emulator.getDataset(f.dataset.id)?.resources.map((r) => r.id)).toEqual([kept.id])
    expect(f.writes().at(-1)?.method).toBe('DELETE')
    expect(run.outputs['removed-count']).toBe('2')
    expect(old.id).toBeDefined()
  })

  it('refuses unknown items and items also published, and removes nothing when another entry failed', async () => {
    f = await fixture()
    const a = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'a' })
    const b = f.emulator.addFileResource(f.dataset.id, { filename: 'b.csv', content: 'b' })
    await f.write('a.csv', 'a2')
    const bad = await f.run({
      files: 'a.csv',
      remove: `a.csv\nnope.csv\n99999999-9999-4999-8999-999999999999`,
    })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(
      `input 'remove', remove[0] 'a.csv': resource ${a.id} is also published by files 'a.csv' in this run`,
    )
    expect(bad.stdout).toContain(
      "input 'remove', remove[1] 'nope.csv': no resource of dataset 'test-dataset' has this stored file name",
    )
    expect(bad.stdout).toContain(
      "remove[2] '99999999-9999-4999-8999-999999999999': no resource of dataset 'test-dataset' has this id",
    )
    expect(f.writes()).toEqual([])

    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      status: 400,
      body: { message: 'nope' },
    })
    const failed = await f.run({ files: 'a.csv', remove: 'b.csv' })
    expect(failed.code).toBe(1)
    expect(resourcesOutput(failed).map((r) => [r.source, r.action, r.reason])).toEqual([
      ['a.csv', 'failed', 'size differs (1 -> 2 bytes)'],
      ['b.csv', 'held-back', 'held back: another entry failed, and nothing is removed then'],
    ])
    // A removal held back is not an entry skipped because nothing changed.
    expect(failed.outputs).toMatchObject({ 'skipped-count': '0', 'removed-count': '0' })
    expect(failed.summary).toContain('1 held-back')
    expect(f.emulator.getResource(f.dataset.id, b.id)).toBeDefined()
  })
})

describe('the plan', () => {
  it('shows every action and reason in dry-run in the log, the summary and the outputs, and sends no write', async () => {
    f = await fixture({ title: 'Old title' })
    const api = f.emulator.addRemoteResource(f.dataset.id, {
      url: remote.url('/data.json'),
      title: 'API',
    })
    const gone = f.emulator.addFileResource(f.dataset.id, { filename: 'gone.csv', content: 'g' })
    const same = f.emulator.addFileResource(f.dataset.id, { filename: 'same.csv', content: 's' })
    await f.write('same.csv', 's')
    await f.write('new.csv', 'n')
    const run = await f.run({
      files: '*.csv',
      resources: `- url: ${remote.url('/data.json')}`,
      remove: 'gone.csv',
      'dataset-metadata': 'title: New title',
      'create-missing': 'true',
      'dry-run': 'true',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(
      resourcesOutput(run).map((r) => [
        r.source.replace(/^http:\/\/[^/]+/, ''),
        r.action,
        r.planned,
      ]),
    ).toEqual([
      ['/data.json', 'planned', 'signal'],
      ['new.csv', 'planned', 'create'],
      ['same.csv', 'planned', 'skip'],
      ['gone.csv', 'planned', 'remove'],
    ])
    expect(JSON.parse(run.outputs['dataset-metadata'] ?? '{}')).toEqual({
      action: 'planned',
      reason: 'title differs',
      fields: ['title'],
    })
    expect(run.stdout).toMatch(
      /Plan:\n\s+signal\s+http:\/\/127\.0\.0\.1:\d+\/data\.json\s+[\w-]+\s+remote file changed \(first check\)/,
    )
    expect(run.stdout).toMatch(/remove\s+gone\.csv\s+[\w-]+\s+named in remove/)
    expect(run.stdout).toMatch(/update\s+dataset-metadata\s+\(dataset\)\s+title differs/)
    expect(run.summary).toContain('planned: remove')
    expect(run.summary).toContain('Dataset metadata: **planned: update** (title): title differs')
    expect(
      [api.id, gone.id, same.id].every(
        (id) => f.emulator.getResource(f.dataset.id, id) !== undefined,
      ),
    ).toBe(true)
  })

  it('makes no write request when the same publication runs twice', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old', title: 'A' })
    await f.write('a.csv', 'new content')
    await f.write('b.csv', 'b')
    const inputs = {
      files: '*.csv',
      resources: `- url: ${remote.url('/data.json')}\n  title: Flux\n  extras: {source: nightly}`,
      'dataset-metadata': 'tags: [demo]\nextras: {pipeline: v1}',
      'create-missing': 'true',
    }
    const first = await f.run(inputs)
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(first.outputs.changed).toBe('true')
    f.emulator.resetRequests()
    const second = await f.run(inputs)
    expect(second.code, second.stdout).toBe(0)
    expect(second.outputs.changed).toBe('false')
    expect(resourcesOutput(second).map((r) => r.action)).toEqual(['skipped', 'skipped', 'skipped'])
    expect(
      f.emulator.requests.map((r) => r.method),
      f.emulator.requests.map((r) => `${r.method} ${r.path}`).join('\n'),
    ).toEqual(['GET', 'GET'])
    expect(sha1('b')).toBe(resourcesOutput(second)[2]?.checksum?.value)
  })
})
