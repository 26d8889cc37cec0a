/**
 * Faults at the end of uploads and across entries, injected by the emulator, survived by the
 * action: a finalisation that succeeded although its answer was lost or late, giving up after the
 * retries, a failing entry beside others. The backoff base is 50 ms here
 * (DATAGOUV_PUBLISH_RETRY_BASE_MS). The faults within uploads: test/faults.test.ts.
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
      `-> resource ${r.id}: part 2/3: POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${r.id}/upload/ answered 503: Down for maintenance`,
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
      `(z.csv) -> resource ${r.id}: POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${r.id}/upload/ failed: `,
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
      `(a.csv) -> resource ${a.id}: POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${a.id}/upload/ answered 502: Bad Gateway`,
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
