/**
 * Faults in the middle of uploads, injected by the emulator, survived by the action: nothing lost,
 * nothing duplicated, every outcome reported. The backoff base is 50 ms here
 * (DATAGOUV_PUBLISH_RETRY_BASE_MS), so the retry ceiling is 60 × 50 ms = 3 s. Finalisations and
 * failing entries: test/faults-finalisation.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RecordedRequest } from '../emulator/server.js'
import { faultHelpers } from './helpers/faults.js'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const { bytes, uploadPosts, shape } = faultHelpers(() => f)

describe('retries', () => {
  it('retries a failed part alone, with backoff, never the whole file; a 500 after an answered 503 is a failure, not "stored"', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'p.csv',
      content: 'old',
      title: 'P',
    })
    const content = bytes(3500)
    await f.write('p.csv', content)
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 3,
      status: 503,
      body: { message: 'busy' },
    })
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 4,
      status: 500,
      body: 'Internal Server Error',
    })

    const run = await f.run({ files: 'p.csv', 'chunk-size': '1024' })

    expect(run.code, run.stdout).toBe(0)
    const posts = uploadPosts()
    expect(shape(posts)).toEqual([
      ['0', 200],
      ['1', 200],
      ['?', 'status:503'],
      ['?', 'status:500'],
      ['2', 200],
      ['3', 200],
      ['final', 200],
    ])
    // One upload id from start to end: no restart from scratch, parts 0, 1 and 3 sent once.
    expect(new Set(posts.map((q) => q.fields?.uuid).filter((u) => u !== undefined)).size).toBe(1)
    // Each retry waited at least the backoff base.
    for (const i of [3, 4])
      expect((posts[i]?.startedAt ?? 0) - (posts[i - 1]?.finishedAt ?? 0)).toBeGreaterThanOrEqual(
        45,
      )
    expect(run.stdout).toMatch(
      /::warning::POST \S+\/upload\/ answered 503: busy; retry 1\/5 in \d\.\d s/,
    )
    expect(run.stdout).toMatch(
      /::warning::POST \S+\/upload\/ answered 500: Internal Server Error; retry 2\/5 in \d\.\d s/,
    )
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'P',
      filesize: 3500,
      checksum: { value: sha1(content) },
    })
  })

  it('honours Retry-After up to the ceiling, in seconds and as an HTTP date, on a part and on the finalisation', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ra.csv',
      content: 'old',
      title: 'RA',
    })
    const content = bytes(2500)
    await f.write('ra.csv', content)
    const inAnHour = new Date(Date.now() + 3_600_000).toUTCString()
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 2,
      status: 429,
      retryAfter: inAnHour,
      body: { message: 'slow down' },
    })
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 5,
      status: 503,
      retryAfter: '1',
      body: { message: 'busy' },
    })

    const run = await f.run({ files: 'ra.csv', 'chunk-size': '1024' })

    expect(run.code, run.stdout).toBe(0)
    // An hour is capped at the ceiling (60 × the 50 ms base); one second is honoured as given.
    expect(run.stdout).toMatch(/answered 429: slow down; retry 1\/5 in 3\.0 s/)
    expect(run.stdout).toMatch(/answered 503: busy; retry 1\/5 in 1\.0 s/)
    const posts = uploadPosts()
    expect(shape(posts)).toEqual([
      ['0', 200],
      ['?', 'status:429'],
      ['1', 200],
      ['2', 200],
      ['?', 'status:503'],
      ['final', 200],
    ])
    expect((posts[2]?.startedAt ?? 0) - (posts[1]?.finishedAt ?? 0)).toBeGreaterThanOrEqual(2900)
    expect((posts[5]?.startedAt ?? 0) - (posts[4]?.finishedAt ?? 0)).toBeGreaterThanOrEqual(950)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
  })

  it('times out a part whose request hangs mid-body, and sends that part again', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'h.csv',
      content: 'old',
      title: 'H',
    })
    // Parts of 2 MB (the chunk size for old hosts): the server stops reading; whether the client
    // feels it while sending the body or while waiting for the answer, the timeout applies.
    const content = bytes(5_000_000)
    await f.write('h.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 2, delayMs: 2500 })

    const run = await f.run({ files: 'h.csv', 'chunk-size': '2000000', timeout: '1' })

    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/::warning::POST \S+\/upload\/ failed: .*[Tt]imeout.*; retry 1\/5/)
    await f.settled()
    const posts = uploadPosts()
    expect(
      posts.map((q) =>
        q.fault !== undefined ? ['hung', q.fault] : [q.fields?.partindex ?? 'final', q.status],
      ),
    ).toEqual([
      ['0', 200],
      ['hung', 'delayMs:2500'],
      ['1', 200],
      ['2', 200],
      ['final', 200],
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      filesize: 5_000_000,
      checksum: { value: sha1(content) },
    })
  })
})

describe('connections dropped after part of the request body', () => {
  it('on a part: that part is sent again, nothing else', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'd.csv', content: 'old' })
    // Parts of 1 MB: on loopback a whole part of 100 kB reaches the server's buffers before the
    // cut, which then cuts nothing but the answer.
    const content = bytes(2_500_000)
    await f.write('d.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 2, dropAfterBytes: 50_000 })

    const run = await f.run({ files: 'd.csv', 'chunk-size': '1000000' })

    expect(run.code, run.stdout).toBe(0)
    const posts = uploadPosts()
    expect(shape(posts)).toEqual([
      ['0', 200],
      ['?', 'dropAfterBytes:50000'],
      ['1', 200],
      ['2', 200],
      ['final', 200],
    ])
    expect(posts[1]?.bodyBytes).toBeGreaterThanOrEqual(50_000)
    expect(posts[1]?.bodyBytes).toBeLessThan(1_000_000)
    expect(new Set(posts.map((q) => q.fields?.uuid).filter((u) => u !== undefined)).size).toBe(1)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
  })

  it('on a single upload: the file is sent again', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 's.csv',
      content: 'old',
      title: 'S',
    })
    const content = bytes(300_000)
    await f.write('s.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 1, dropAfterBytes: 100_000 })

    const run = await f.run({ files: 's.csv' })

    expect(run.code, run.stdout).toBe(0)
    expect(uploadPosts().map((q) => q.fault ?? q.status)).toEqual(['dropAfterBytes:100000', 200])
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'S',
      filesize: 300_000,
      checksum: { value: sha1(content) },
    })
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'uploaded',
      checksum: { value: sha1(content) },
    })
  })

  it('on a finalisation, existing and new resource: looked for first, then finalised again with the same upload id, once', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'e.csv',
      content: 'old',
      title: 'E',
    })
    const existing = bytes(2500, 1)
    const fresh = bytes(2600, 2)
    await f.write('e.csv', existing)
    await f.write('n.csv', fresh)
    // The finalisation bodies are about 500 bytes; cut each after 100.
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${r.id}/upload/$`,
      nth: 4,
      dropAfterBytes: 100,
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 4,
      dropAfterBytes: 100,
    })

    const run = await f.run({
      files: '*.csv',
      'chunk-size': '1024',
      'create-missing': 'true',
      concurrency: '1',
    })

    expect(run.code, run.stdout).toBe(0)
    for (const path of [`/resources/${r.id}/upload/`, `/datasets/${f.dataset.id}/upload/`]) {
      const posts = uploadPosts().filter((q) => q.path.endsWith(path))
      expect(shape(posts)).toEqual([
        ['0', 200],
        ['1', 200],
        ['2', 200],
        ['?', 'dropAfterBytes:100'],
        ['final', path.includes('/resources/') ? 200 : 201],
      ])
      expect(new Set(posts.map((q) => q.fields?.uuid).filter((u) => u !== undefined)).size).toBe(1)
      // Between the dropped finalisation and the next one, the dataset was read.
      const between = f.emulator.requests.slice(
        f.emulator.requests.indexOf(posts[3] as RecordedRequest),
        f.emulator.requests.indexOf(posts[4] as RecordedRequest),
      )
      expect(
        between.some((q) => q.method === 'GET' && q.path === `/api/1/datasets/${f.dataset.id}/`),
      ).toBe(true)
    }
    const dataset = f.emulator.getDataset(f.dataset.id)
    expect(dataset?.resources).toHaveLength(2)
    const results = resourcesOutput(run)
    expect(results.map((x) => [x.source, x.action])).toEqual([
      ['e.csv', 'uploaded'],
      ['n.csv', 'created'],
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(existing))
    expect(f.emulator.getResource(f.dataset.id, results[1]?.id as string)?.checksum?.value).toBe(
      sha1(fresh),
    )
  })
})
