import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { call, type Json } from './helpers/emulator-call.js'

import { startEmulator, type DatasetState, type Emulator } from '../emulator/server.js'

/**
 * The simulated analyser (hydra): the `check:*` / `analysis:*` extras it writes after a resource
 * event, through the same merge as udata's v2 extras endpoint (no date moved).
 */

const KEY = 'analysed-owner'

function file(data: string, name: string): FormData {
  const fd = new FormData()
  fd.append('file', new Blob([data]), name)
  return fd
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Reads until `done`; no deadline of its own: vitest's test timeout is the only bound. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read()
    if (done(value)) return value
    await sleep(20)
  }
}

describe('simulated analyser', () => {
  let emu: Emulator
  let owner: string

  beforeAll(async () => {
    emu = await startEmulator({ tabularExploreUrl: 'https://explore.example/fr' })
    owner = emu.addUser({ apiKey: KEY }).id
    emu.addUser({ apiKey: 'reuser' })
  })
  afterAll(async () => {
    await emu.close()
  })
  afterEach(async () => {
    await emu.analyser.flush()
    emu.analyser.configure(null)
  })

  const newDataset = (): DatasetState =>
    emu.addDataset({ owner, title: `Analysed ${crypto.randomUUID().slice(0, 8)}` })
  const extras = async (d: DatasetState, rid: string): Promise<Json> =>
    (await call(emu, 'GET', `/api/1/datasets/${d.id}/resources/${rid}/`)).body['extras'] as Json

  it('is off by default: nothing is written', async () => {
    const dataset = newDataset()
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file('a,b\n1,2\n', 'data.csv'),
    })
    await sleep(50)
    await emu.analyser.flush()
    expect(await extras(dataset, res.body['id'] as string)).toEqual({})
    expect(emu.analyser.enabled).toBe(false)
  })

  it('checks and parses an uploaded CSV after the delay, without moving any date', async () => {
    emu.analyser.configure({ delayMs: 150 })
    const dataset = newDataset()
    const content = 'a,b\n1,2\n'
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file(content, 'data.csv'),
    })
    const rid = res.body['id'] as string
    const before = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    expect(await extras(dataset, rid)).toEqual({})
    const after = await waitFor(
      () => extras(dataset, rid),
      (e) => 'analysis:parsing:finished_at' in e,
    )
    expect(after).toEqual({
      'check:id': expect.any(Number),
      'check:available': true,
      'check:status': 200,
      'check:timeout': false,
      'check:date': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
      'check:headers:content-type': 'text/csv',
      'check:headers:content-length': 8,
      'analysis:check_id': after['check:id'],
      'analysis:content-length': 8,
      'analysis:checksum': createHash('sha1').update(content).digest('hex'),
      'analysis:mime-type': 'text/csv',
      'analysis:last-modified-at': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
      'analysis:last-modified-detection': 'last-modified-header',
      'analysis:parsing:started_at': expect.any(String),
      'analysis:parsing:finished_at': expect.any(String),
      'analysis:parsing:parsing_table': createHash('md5')
        .update(res.body['url'] as string)
        .digest('hex'),
    })
    const now = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    expect(now.body['last_modified']).toBe(before.body['last_modified'])
    expect(now.body['last_update']).toBe(before.body['last_update'])
    const resource = (now.body['resources'] as Json[])[0]!
    expect(resource['last_modified']).toBe(res.body['last_modified'])
    expect(resource['internal']).toEqual(res.body['internal'])
    expect(resource['preview_url']).toBe(`https://explore.example/fr/resources/${rid}`)
  })

  it('re-checks a replaced file (new checksum, new check), and writes nothing after a metadata-only PUT', async () => {
    emu.analyser.configure({ delayMs: 0 })
    const dataset = newDataset()
    const created = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file('v1\n', 'v.csv'),
    })
    const rid = created.body['id'] as string
    await emu.analyser.flush()
    const first = await extras(dataset, rid)
    await sleep(1000) // a later storage second: a new Last-Modified
    await call(emu, 'POST', `/api/1/datasets/${dataset.id}/resources/${rid}/upload/`, {
      key: KEY,
      body: file('version 2\n', 'v.csv'),
    })
    await emu.analyser.flush()
    const second = await extras(dataset, rid)
    expect(second['analysis:checksum']).toBe(createHash('sha1').update('version 2\n').digest('hex'))
    expect(second['check:id']).not.toBe(first['check:id'])
    expect(second['analysis:check_id']).toBe(second['check:id'])
    expect(second['check:headers:content-length']).toBe(10)
    expect(second['analysis:parsing:parsing_table']).not.toBe(
      first['analysis:parsing:parsing_table'],
    )

    await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${rid}/`, {
      key: KEY,
      json: { description: 'only metadata' },
    })
    await emu.analyser.flush()
    expect(await extras(dataset, rid)).toEqual(second) // same status and headers, same Last-Modified: hydra sends nothing
  })

  it('reports an unavailable remote URL, by rule, with no analysis', async () => {
    emu.analyser.configure({ delayMs: 0, rules: [{ url: 'gone\\.csv$', outcome: 'unavailable' }] })
    const dataset = newDataset()
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/resources/`, {
      key: KEY,
      json: {
        title: 'Gone',
        url: 'https://example.org/gone.csv',
        filetype: 'remote',
        format: 'csv',
      },
    })
    await emu.analyser.flush()
    expect(await extras(dataset, res.body['id'] as string)).toEqual({
      'check:id': expect.any(Number),
      'check:available': false,
      'check:status': 404,
      'check:timeout': false,
      'check:date': expect.any(String),
      'check:error': 'Not Found',
      'check:headers:content-type': 'text/html',
    })
  })

  it('times out, or fails without connection, as configured', async () => {
    emu.analyser.configure({ delayMs: 0, outcome: 'timeout' })
    const dataset = newDataset()
    const slow = emu.addRemoteResource(dataset.id, {
      url: 'https://slow.example/api',
      title: 'Slow',
    })
    const refused = emu.addRemoteResource(dataset.id, {
      url: 'https://down.example/x.json',
      title: 'Down',
    })
    emu.analyser.rules.push({ id: refused.id, outcome: { result: 'unavailable', status: null } })
    emu.analyser.recheck(slow.id)
    emu.analyser.recheck(refused.id)
    await emu.analyser.flush()
    expect(await extras(dataset, slow.id)).toEqual({
      'check:id': expect.any(Number),
      'check:available': false,
      'check:timeout': true,
      'check:date': expect.any(String),
      'check:headers:content-type': '',
    })
    expect(await extras(dataset, refused.id)).toMatchObject({
      'check:available': false,
      'check:error': 'Cannot connect to host down.example:443',
    })
    expect(await extras(dataset, refused.id)).not.toHaveProperty('check:status')
  })

  it('writes a parsing error for a tabular file, by resource id', async () => {
    const dataset = newDataset()
    const bad = emu.addFileResource(dataset.id, { filename: 'bad.csv', content: '\u0000\u0001' })
    emu.analyser.configure({
      delayMs: 0,
      rules: [
        { id: bad.id, outcome: { result: 'parsing-error', error: 'csv_detective:not a table' } },
      ],
    })
    await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${bad.id}/`, {
      key: KEY,
      json: {},
    })
    await emu.analyser.flush()
    const written = await extras(dataset, bad.id)
    expect(written).toMatchObject({
      'check:available': true,
      'analysis:checksum': expect.any(String),
      'analysis:parsing:error': 'csv_detective:not a table',
    })
    expect(written).not.toHaveProperty('analysis:parsing:parsing_table')
    expect(
      (await call(emu, 'GET', `/api/1/datasets/${dataset.id}/resources/${bad.id}/`)).body[
        'preview_url'
      ],
    ).toBeNull()
  })

  it('lets a remote resource’s last_modified follow analysis:last-modified-at, not the dataset’s', async () => {
    emu.analyser.configure({
      delayMs: 0,
      outcome: {
        result: 'success',
        lastModified: 'Tue, 02 Jan 2024 03:04:05 GMT',
        contentLength: 1234,
        contentType: 'application/json',
      },
    })
    const dataset = newDataset()
    const remote = emu.addRemoteResource(dataset.id, {
      url: 'https://example.org/data.json',
      title: 'Remote',
      format: 'json',
    })
    const before = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    emu.analyser.recheck(remote.id)
    await emu.analyser.flush()
    const after = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    const resource = (after.body['resources'] as Json[])[0]!
    expect(resource['extras']).toMatchObject({
      'check:headers:content-type': 'application/json',
      'check:headers:content-length': 1234,
      'analysis:last-modified-at': '2024-01-02T03:04:05+00:00',
      'analysis:last-modified-detection': 'last-modified-header',
    })
    expect(resource['extras']).not.toHaveProperty('analysis:parsing:started_at') // json: not tabular
    expect(resource['last_modified']).toBe('2024-01-02T03:04:05+00:00')
    expect(after.body['last_modified']).toBe(before.body['last_modified'])
  })

  it('writes the parsing result later than the check when parsingDelayMs is set', async () => {
    emu.analyser.configure({ delayMs: 0, parsingDelayMs: 300 })
    const dataset = newDataset()
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file('a\n1\n', 'p.csv'),
    })
    const rid = res.body['id'] as string
    const checked = await waitFor(
      () => extras(dataset, rid),
      (e) => 'check:id' in e,
    )
    expect(checked).not.toHaveProperty('analysis:parsing:finished_at')
    const parsed = await waitFor(
      () => extras(dataset, rid),
      (e) => 'analysis:parsing:finished_at' in e,
    )
    expect(
      Date.parse(parsed['analysis:parsing:finished_at'] as string) -
        Date.parse(parsed['analysis:parsing:started_at'] as string),
    ).toBeGreaterThanOrEqual(250)
  })

  it('never analyses community resources, nor writes to a deleted dataset', async () => {
    emu.analyser.configure({ delayMs: 0 })
    const dataset = newDataset()
    const community = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
      key: 'reuser',
      body: file('a\n', 'c.csv'),
    })
    const gone = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file('a\n', 'd.csv'),
    })
    await call(emu, 'DELETE', `/api/1/datasets/${dataset.id}/`, { key: KEY })
    await emu.analyser.flush()
    expect(emu.getCommunityResource(community.body['id'] as string)!.extras).toEqual({})
    expect(emu.getResource(dataset.id, gone.body['id'] as string)!.extras).toEqual({})
  })

  it('is driven through /__emulator/analyser', async () => {
    const admin = (method: string, path: string, json?: unknown) =>
      call(emu, method, `/__emulator/analyser${path}`, json === undefined ? {} : { json })
    expect((await admin('GET', '/')).body).toMatchObject({ enabled: false, pending: 0 })
    expect((await admin('POST', '/', { outcome: 'success' })).status).toBe(400) // delayMs needed to turn it on
    expect(
      await admin('POST', '/', {
        delayMs: 60_000,
        outcome: 'parsing-error',
        rules: { url: 'ok', outcome: 'success' },
      }),
    ).toMatchObject({
      status: 200,
      body: {
        enabled: true,
        delayMs: 60_000,
        parsingDelayMs: 0,
        outcome: 'parsing-error',
        rules: [{ url: 'ok', outcome: 'success' }],
      },
    })
    expect((await admin('POST', '/', { outcome: 'nope' })).body['message']).toMatch(
      /Invalid analyser settings/,
    )
    const dataset = newDataset()
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
      key: KEY,
      body: file('a\n1\n', 'f.csv'),
    })
    expect((await admin('GET', '/')).body['pending']).toBe(1)
    expect((await admin('POST', '/flush')).body['pending']).toBe(0)
    expect(await extras(dataset, res.body['id'] as string)).toHaveProperty(
      'analysis:parsing:error',
      'csv_detective:emulated parsing error',
    )
    expect((await admin('POST', '/check', { resource: res.body['id'] })).body['pending']).toBe(1)
    expect((await admin('POST', '/check', {})).status).toBe(400)
    expect((await admin('DELETE', '/')).status).toBe(204)
    expect((await admin('GET', '/')).body).toMatchObject({ enabled: false, rules: [], pending: 0 })
  })

  it('is set from the command line', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'emulator/cli.ts',
        '--port',
        '0',
        '--quiet',
        '--analyser-delay',
        '25',
        '--analyser-outcome',
        'timeout',
        '--analyser-rule',
        '{"url": "x", "outcome": "success"}',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
      const url = (JSON.parse(line) as { url: string }).url
      expect((await call(url, 'GET', '/__emulator/analyser/')).body).toMatchObject({
        enabled: true,
        delayMs: 25,
        outcome: 'timeout',
        rules: [{ url: 'x', outcome: 'success' }],
      })
    } finally {
      child.kill('SIGTERM')
    }
  })
})
