/**
 * Faults in the middle of uploads, injected by the emulator, survived by the action: nothing lost,
 * nothing duplicated, every outcome reported. The backoff base is 50 ms here
 * (DATAGOUV_PUBLISH_RETRY_BASE_MS), so the retry ceiling is 60 × 50 ms = 3 s.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RecordedRequest } from '../emulator/server.js'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

/** Deterministic bytes, different at every offset modulo 251. */
function bytes(size: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(size)
  for (let i = 0; i < size; i++) buffer[i] = (i * 7919 + seed * 104_729) % 251
  return buffer
}

const uploadPosts = (): RecordedRequest[] =>
  f.emulator.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/upload/'))

/** What each upload request was (part index, or `final`) and how it ended (fault, else status). */
const shape = (requests: RecordedRequest[]): Array<[string, string | number]> =>
  requests.map((q) => [
    q.fields === undefined ? '?' : (q.fields.partindex ?? 'final'),
    q.fault ?? q.status,
  ])

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
    const content = bytes(250_000)
    await f.write('d.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 2, dropAfterBytes: 50_000 })

    const run = await f.run({ files: 'd.csv', 'chunk-size': '100000' })

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
    expect(posts[1]?.bodyBytes).toBeLessThan(100_000)
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

describe('a finalisation that succeeded on the server, its answer lost or late', () => {
  it('lost answer (loseResponse), existing and new resource: the dataset read shows the file, no second finalisation or creation', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'x.csv',
      content: 'old',
      title: 'X',
    })
    const existing = bytes(2400, 3)
    const fresh = bytes(3100, 4)
    await f.write('x.csv', existing)
    await f.write('y.csv', fresh)
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${r.id}/upload/$`,
      nth: 3,
      loseResponse: true,
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 4,
      loseResponse: true,
    })

    const run = await f.run({ files: '*.csv', 'chunk-size': '1200', 'create-missing': 'true' })

    expect(run.code, run.stdout).toBe(0)
    const toExisting = uploadPosts().filter((q) => q.path.includes(`/resources/${r.id}/`))
    const toNew = uploadPosts().filter((q) => q.path.endsWith(`/datasets/${f.dataset.id}/upload/`))
    expect(shape(toExisting)).toEqual([
      ['0', 200],
      ['1', 200],
      ['final', 'loseResponse'],
    ])
    expect(shape(toNew)).toEqual([
      ['0', 200],
      ['1', 200],
      ['2', 200],
      ['final', 'loseResponse'],
    ])
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(2)
    expect(run.stdout.match(/the server holds the file all the same/g)).toHaveLength(2)
    const results = resourcesOutput(run)
    expect(results.map((x) => [x.source, x.action, x.checksum?.value])).toEqual([
      ['x.csv', 'uploaded', sha1(existing)],
      ['y.csv', 'created', sha1(fresh)],
    ])
    // The titles were still restored after the recovery.
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'X',
      checksum: { value: sha1(existing) },
    })
    expect(f.emulator.getResource(f.dataset.id, results[1]?.id as string)).toMatchObject({
      title: 'y.csv',
      checksum: { value: sha1(fresh) },
    })
  })

  it('answer later than the timeout (the server went on): the dataset read shows the file, no second creation', async () => {
    f = await fixture()
    const fresh = bytes(3000, 5)
    await f.write('slow.csv', fresh)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 3,
      answerDelayMs: 2500,
    })

    const run = await f.run({
      files: 'slow.csv',
      'chunk-size': '1500',
      'create-missing': 'true',
      timeout: '1',
    })

    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/failed: .*[Tt]imeout.*; the server holds the file all the same/)
    await f.settled()
    expect(shape(uploadPosts())).toEqual([
      ['0', 200],
      ['1', 200],
      ['final', 'answerDelayMs:2500'],
    ])
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'created',
      title: 'slow.csv',
      checksum: { value: sha1(fresh) },
    })
  })

  it('a creation slower than the timeout: the dataset is read until the late original shows, nothing is sent again', async () => {
    f = await fixture()
    const fresh = bytes(3000, 6)
    await f.write('late.csv', fresh)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 3,
      delayMs: 2500,
    })

    const run = await f.run({
      files: 'late.csv',
      'chunk-size': '1500',
      'create-missing': 'true',
      timeout: '1',
    })

    expect(run.code, run.stdout).toBe(0)
    await f.settled()
    // The finalisation timed out after 1 s; the server created the resource at 2.5 s, and the run,
    // still looking, found it: no second finalisation, one resource.
    const finals = uploadPosts().filter((q) => q.fields?.partindex === undefined)
    expect(finals.map((q) => q.fault ?? q.status)).toEqual(['delayMs:2500'])
    expect(run.stdout).toContain('looking for the new resource for up to 4 s before sending again')
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'created',
      checksum: { value: sha1(fresh) },
    })
  })
})

describe('giving up', () => {
  it('after the retries of a part, fails naming the entry, the part and the last error; no restart, no finalisation', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'g.csv', content: 'old' })
    await f.write('g.csv', bytes(2500))
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 2,
      status: 502,
      body: '<html>Bad Gateway</html>',
    })
    for (const nth of [3, 4])
      f.emulator.faults.push({
        method: 'POST',
        path: '/upload/$',
        nth,
        status: 503,
        body: { message: 'Down for maintenance' },
      })

    const run = await f.run({ files: 'g.csv', 'chunk-size': '1024', 'max-retries': '2' })

    expect(run.code).toBe(1)
    const error = resourcesOutput(run)[0]?.error ?? ''
    expect(error).toMatch(/^files 'g\.csv' \(g\.csv\) -> /)
    expect(error).toContain(
      `-> resource ${r.id}: part 2/3: POST /api/1/datasets/${f.dataset.id}/resources/${r.id}/upload/ answered 503: Down for maintenance`,
    )
    // Part 1 once; part 2 three times (1 + max-retries); nothing after.
    expect(uploadPosts().map((q) => q.fields?.partindex ?? q.fault)).toEqual([
      '0',
      'status:502',
      'status:503',
      'status:503',
    ])
    expect(run.stdout).toMatch(/::error::.*part 2\/3: POST .* answered 503: Down for maintenance/)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1('old'))
  })

  it('after the retries of a finalisation that never answers, names the entry and the network error, having looked before each re-send', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'z.csv', content: 'old' })
    await f.write('z.csv', bytes(2500))
    // Three parts, then every finalisation is cut as it arrives.
    for (const nth of [4, 5, 6])
      f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth, dropAfterBytes: 0 })

    const run = await f.run({ files: 'z.csv', 'chunk-size': '1024', 'max-retries': '2' })

    expect(run.code).toBe(1)
    const error = resourcesOutput(run)[0]?.error ?? ''
    expect(error).toContain(
      `(z.csv) -> resource ${r.id}: POST /api/1/datasets/${f.dataset.id}/resources/${r.id}/upload/ failed: `,
    )
    // Three finalisations (1 + max-retries), each followed by a read of the dataset before anything
    // else; then the one read-back of every run that wrote or tried to (engine.ts `readBack`).
    const sequence = f.emulator.requests
      .slice(f.emulator.requests.indexOf(uploadPosts()[3] as RecordedRequest))
      .map((q) =>
        q.method === 'POST'
          ? 'final'
          : q.method === 'GET' && q.path === `/api/1/datasets/${f.dataset.id}/`
            ? 'look'
            : q.method,
      )
    expect(sequence).toEqual([
      'final',
      'look',
      'look',
      'final',
      'look',
      'look',
      'final',
      'look',
      'look',
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1('old'))
  })
})

describe('one failing entry never corrupts another', () => {
  it('with five entries at concurrency 3: the others are published, every outcome is reported, the step fails at the end', async () => {
    f = await fixture()
    const a = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'a-old',
      title: 'A',
    })
    const b = f.emulator.addFileResource(f.dataset.id, {
      filename: 'b.csv',
      content: 'b-old',
      title: 'B',
    })
    const d = f.emulator.addFileResource(f.dataset.id, {
      filename: 'd.csv',
      content: 'd-same',
      title: 'D',
    })
    const e = f.emulator.addFileResource(f.dataset.id, {
      filename: 'e.csv',
      content: 'e-old',
      title: 'E',
    })
    const dBefore = f.emulator.getResource(f.dataset.id, d.id)?.lastModifiedInternal
    const content = {
      a: bytes(2000, 11),
      b: bytes(3000, 12),
      c: bytes(2000, 13),
      e: bytes(1500, 14),
    }
    await f.write('a.csv', content.a)
    await f.write('b.csv', content.b)
    await f.write('c.csv', content.c)
    await f.write('d.csv', 'd-same')
    await f.write('e.csv', content.e)
    // a: every upload answers 502. b: a part's answer is lost (500 on re-send). c: its creation's
    // answer is lost. d: unchanged. e: one 503.
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${a.id}/upload/$`,
      status: 502,
      body: 'Bad Gateway',
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${b.id}/upload/$`,
      nth: 2,
      loseResponse: true,
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 1,
      loseResponse: true,
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${e.id}/upload/$`,
      nth: 1,
      status: 503,
    })

    const run = await f.run({
      files: '*.csv',
      'create-missing': 'true',
      'chunk-size': '2048',
      concurrency: '3',
      'max-retries': '2',
    })

    expect(run.code).toBe(1)
    const results = resourcesOutput(run)
    expect(results.map((x) => [x.source, x.action])).toEqual([
      ['a.csv', 'failed'],
      ['b.csv', 'uploaded'],
      ['c.csv', 'created'],
      ['d.csv', 'skipped'],
      ['e.csv', 'uploaded'],
    ])
    expect(results.filter((x) => x.error !== undefined).map((x) => x.source)).toEqual(['a.csv'])
    expect(results[0]?.error).toContain(
      `(a.csv) -> resource ${a.id}: POST /api/1/datasets/${f.dataset.id}/resources/${a.id}/upload/ answered 502: Bad Gateway`,
    )
    expect(run.stdout).toMatch(/::error::1 of 5 \w+ failed to publish/)
    // Each resource holds its own file; the failed one kept its old file; one resource was created.
    expect(f.emulator.getResource(f.dataset.id, a.id)).toMatchObject({
      title: 'A',
      checksum: { value: sha1('a-old') },
    })
    expect(f.emulator.getResource(f.dataset.id, b.id)).toMatchObject({
      title: 'B',
      checksum: { value: sha1(content.b) },
    })
    expect(f.emulator.getResource(f.dataset.id, results[2]?.id as string)).toMatchObject({
      title: 'c.csv',
      checksum: { value: sha1(content.c) },
    })
    expect(f.emulator.getResource(f.dataset.id, d.id)?.lastModifiedInternal).toEqual(dBefore)
    expect(f.emulator.getResource(f.dataset.id, e.id)).toMatchObject({
      title: 'E',
      checksum: { value: sha1(content.e) },
    })
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(5)
    expect(new Set(results.map((x) => x.id)).size).toBe(5)
  })

  it('two new files with the same content: a failed creation never takes the other entry’s new resource for its own', async () => {
    f = await fixture()
    const same = bytes(1800, 21)
    await f.write('alpha.csv', same)
    await f.write('beta.csv', same)
    // The second creation is answered 503: the dataset then holds the first entry's new resource,
    // with the very same size and sha1.
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 2,
      status: 503,
    })

    const run = await f.run({ files: '*.csv', 'create-missing': 'true', concurrency: '1' })

    expect(run.code, run.stdout).toBe(0)
    const results = resourcesOutput(run)
    expect(results.map((x) => [x.source, x.action, x.title])).toEqual([
      ['alpha.csv', 'created', 'alpha.csv'],
      ['beta.csv', 'created', 'beta.csv'],
    ])
    expect(results[0]?.id).not.toBe(results[1]?.id)
    const resources = f.emulator.getDataset(f.dataset.id)?.resources ?? []
    expect(resources.map((x) => x.title).sort()).toEqual(['alpha.csv', 'beta.csv'])
    for (const x of resources) expect(x.checksum?.value).toBe(sha1(same))
    expect(run.stdout).not.toContain('the server holds the file all the same')
  })
})
