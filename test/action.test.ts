/**
 * The action (`run()` of src/action/main.ts, in process on a recording runner: helpers/runner.ts)
 * against the local udata emulator. Every behaviour of the publishing contract is exercised here
 * end to end; test/bundle/action.test.ts runs the bundle as the GitHub runner does.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const CSV_V1 = 'year,sales\n2023,10\n'
const CSV_V2 = 'year,sales\n2023,10\n2024,12\n'

describe('replacing files in place', () => {
  it('uploads a changed file into the same resource, restores its title, verifies the checksum, reports', async () => {
    f = await fixture()
    const before = f.emulator.addFileResource(f.dataset.id, {
      filename: 'sales.csv',
      content: CSV_V1,
      title: 'Sales by year',
      description: 'kept',
    })
    const oldUrl = before.url
    await f.write('out/sales.csv', CSV_V2)

    const run = await f.run({ files: 'out/*.csv' })

    expect(run.code, run.stdout).toBe(0)
    const after = f.emulator.getResource(f.dataset.id, before.id)
    expect(after?.id).toBe(before.id)
    expect(after?.title).toBe('Sales by year')
    expect(after?.description).toBe('kept')
    expect(after?.checksum).toEqual({ type: 'sha1', value: sha1(CSV_V2) })
    expect(after?.filesize).toBe(Buffer.byteLength(CSV_V2))
    expect(after?.url).not.toBe(oldUrl)
    expect(
      await readFile(f.emulator.storedFilePath(f.dataset.id, before.id) as string, 'utf8'),
    ).toBe(CSV_V2)
    // the title recorded in the resource's extras first (a run stopped after the upload leaves it
    // to the next), one upload, then one partial PUT carrying only the title
    const writes = f.writes()
    expect(writes.map((w) => w.method)).toEqual(['PUT', 'POST', 'PUT'])
    expect(writes[0]?.path).toBe(`/api/2/datasets/${f.dataset.id}/resources/${before.id}/extras/`)
    expect(after?.extras).toEqual({ 'publish:title': 'Sales by year' })
    expect(writes[1]?.path).toBe(`/api/1/datasets/${f.dataset.id}/resources/${before.id}/upload/`)
    const put = f.emulator.requests.find((r) => r.method === 'PUT' && r.path.startsWith('/api/1/'))
    expect(put?.bodyBytes).toBe(Buffer.byteLength(JSON.stringify({ title: 'Sales by year' })))

    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      id: before.id,
      title: 'Sales by year',
      source: 'out/sales.csv',
      action: 'uploaded',
      reason: `size differs (${Buffer.byteLength(CSV_V1)} -> ${Buffer.byteLength(CSV_V2)} bytes)`,
      url: after?.url,
      latest: `${f.emulator.url}/api/1/datasets/r/${before.id}`,
      checksum: { type: 'sha1', value: sha1(CSV_V2) },
      filesize: Buffer.byteLength(CSV_V2),
    })
    expect(JSON.parse(run.outputs.urls ?? '{}')).toEqual({ 'out/sales.csv': after?.url })
    expect(run.outputs).toMatchObject({
      changed: 'true',
      'uploaded-count': '1',
      'skipped-count': '0',
    })
    expect(run.outputs['dataset-url']).toContain('test-dataset')
    expect(run.summary).toContain('| `out/sales.csv` | [Sales by year]')
    expect(run.summary).toContain('| uploaded |')
    expect(run.stdout).toContain('::group::Preflight')
  })

  it('uploads when the size is equal but the checksum differs, and skips the same file on the next run with no write', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'data.csv',
      content: 'a,b\n1,2\n',
      title: 'Data',
    })
    await f.write('data.csv', 'a,b\n3,4\n')

    const first = await f.run({ files: 'data.csv' })
    expect(first.code, first.stdout).toBe(0)
    expect(resourcesOutput(first)[0]).toMatchObject({ action: 'uploaded', reason: 'sha1 differs' })

    f.emulator.resetRequests()
    const lastModified = f.emulator.getResource(f.dataset.id, r.id)?.lastModifiedInternal
    const second = await f.run({ files: 'data.csv' })
    expect(second.code, second.stdout).toBe(0)
    expect(resourcesOutput(second)[0]).toMatchObject({
      action: 'skipped',
      reason: 'unchanged (sha1 and size match)',
      checksum: { type: 'sha1', value: sha1('a,b\n3,4\n') },
    })
    expect(second.outputs).toMatchObject({
      changed: 'false',
      'uploaded-count': '0',
      'skipped-count': '1',
    })
    expect(f.writes()).toEqual([])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.lastModifiedInternal).toEqual(lastModified)

    const forced = await f.run({ files: 'data.csv', 'if-unchanged': 'upload' })
    expect(resourcesOutput(forced)[0]).toMatchObject({
      action: 'uploaded',
      reason: 'if-unchanged is upload',
    })
  })

  it('matches by title when no stored name matches, and maps paths to ids in resources', async () => {
    f = await fixture()
    const byTitle = f.emulator.addFileResource(f.dataset.id, {
      filename: 'export-20240101.csv',
      content: 'x',
      title: 'latest.csv',
    })
    const byId = f.emulator.addFileResource(f.dataset.id, {
      filename: 'whatever.json',
      content: '{}',
      title: 'Config',
    })
    await f.write('latest.csv', 'y,z')
    await f.write('build/config.json', '{"a":1}')

    const run = await f.run({
      files: 'latest.csv',
      resources: `build/*.json: ${byId.id}`,
    })
    expect(run.code, run.stdout).toBe(0)
    const results = resourcesOutput(run)
    expect(results.map((r) => [r.source, r.id, r.action, r.title])).toEqual([
      ['build/config.json', byId.id, 'uploaded', 'Config'],
      ['latest.csv', byTitle.id, 'uploaded', 'latest.csv'],
    ])
  })

  it('sets entry metadata with the upload, and updates metadata alone when the file is unchanged', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: CSV_V1,
      title: 'A',
    })
    await f.write('a.csv', CSV_V1)
    const resources = JSON.stringify([
      { path: 'a.csv', title: 'A (2024)', description: 'Yearly sales', type: 'documentation' },
    ])

    const run = await f.run({ resources })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'updated',
      patched: ['title', 'description', 'type'],
    })
    expect(f.writes().map((w) => w.method)).toEqual(['PUT'])
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'A (2024)',
      description: 'Yearly sales',
      type: 'documentation',
      checksum: { value: sha1(CSV_V1) },
    })

    f.emulator.resetRequests()
    const again = await f.run({ resources })
    expect(resourcesOutput(again)[0]).toMatchObject({ action: 'skipped' })
    expect(f.writes()).toEqual([])
  })
})

describe('creating resources', () => {
  it('creates a resource for an unmatched file when create-missing is true, titled with the original name', async () => {
    f = await fixture()
    await f.write('Données Été 2024.csv', CSV_V1)
    const run = await f.run({ files: '*.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      action: 'created',
      title: 'Données Été 2024.csv',
      checksum: { value: sha1(CSV_V1) },
    })
    const created = f.emulator.getResource(f.dataset.id, result?.id as string)
    expect(created).toMatchObject({ title: 'Données Été 2024.csv', filetype: 'file', type: 'main' })
    expect(created?.url).toMatch(/\/donnees-ete-2024\.csv$/)
    expect(f.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `POST /api/1/datasets/${f.dataset.id}/upload/`,
      `PUT /api/1/datasets/${f.dataset.id}/resources/${result?.id}/`,
    ])

    // the next run finds it by its stored name and skips it
    const again = await f.run({ files: '*.csv', 'create-missing': 'true' })
    expect(resourcesOutput(again)[0]).toMatchObject({ action: 'skipped', id: result?.id })
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
  })
})

describe('preflight: bad input fails before any write, with every problem named', () => {
  it('reports unknown ids, remote targets, double targets, unmatched patterns, refused extensions and unmatched files together', async () => {
    f = await fixture()
    const file = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'a',
      title: 'A',
    })
    const remote = f.emulator.addRemoteResource(f.dataset.id, {
      url: 'https://example.org/api',
      title: 'API',
    })
    await f.write('a.csv', 'changed')
    await f.write('b.csv', 'b')
    await f.write('c.csv', 'c')
    await f.write('tool.exe', 'x')
    await f.write('orphan.csv', 'o')
    const run = await f.run({
      files: 'orphan.csv\nmissing/*.csv',
      resources: [
        `- {path: a.csv, id: ${file.id}}`,
        `- {path: b.csv, id: ${remote.id}}`,
        `- {path: c.csv, id: ${file.id}}`,
        '- {path: d.csv, id: 99999999-9999-4999-8999-999999999999}',
        `- {path: tool.exe}`,
      ].join('\n'),
    })
    expect(run.code).toBe(1)
    expect(f.writes()).toEqual([])
    const error = run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? ''
    expect(error).toContain('problems found before publishing; nothing was written')
    expect(error).toContain(
      `resources[1] (b.csv): resource ${remote.id} ('API') is a remote resource`,
    )
    expect(error).toContain(
      `resources[2] (c.csv): resource ${file.id} is already the target of resources[0]`,
    )
    expect(error).toContain("input 'resources', entry resources[3]: no file matches 'd.csv'")
    expect(error).toContain("resources[4] (tool.exe): the instance does not accept '.exe' files")
    expect(error).toContain("input 'files': no file matches 'missing/*.csv'")
    expect(error).toContain(
      "orphan.csv): no resource of dataset 'test-dataset' has the stored file name 'orphan.csv'",
    )
  })

  it('applies if-no-files-found per pattern: warn goes on with a warning, ignore stays quiet', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'a' })
    await f.write('a.csv', 'a2')
    const warned = await f.run({ files: 'a.csv\nnone/*.csv', 'if-no-files-found': 'warn' })
    expect(warned.code, warned.stdout).toBe(0)
    expect(warned.stdout).toContain("::warning::input 'files': no file matches 'none/*.csv'")
    const ignored = await f.run({ files: 'a.csv\nnone/*.csv', 'if-no-files-found': 'ignore' })
    expect(ignored.code).toBe(0)
    expect(ignored.stdout).not.toContain('none/*.csv')
  })

  it('names the input for a wrong key, an unknown dataset and a key without rights', async () => {
    f = await fixture()
    await f.write('a.csv', 'a')
    const badKey = await f.run({ files: 'a.csv', 'api-key': 'not-a-key' })
    expect(badKey.code).toBe(1)
    expect(badKey.stdout).toContain(
      "::error::1 problem found before publishing; nothing was written:%0A- input 'api-key': " +
        f.emulator.url +
        ' refused the key (401: Invalid API token)',
    )

    const unknown = await f.run({ files: 'a.csv', dataset: 'no-such-dataset' })
    expect(unknown.stdout).toContain(
      "input 'dataset': no dataset 'no-such-dataset' on " + f.emulator.url,
    )

    const stranger = f.emulator.addUser()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    const denied = await f.run({ files: 'a.csv', 'api-key': stranger.apiKey })
    expect(denied.code).toBe(1)
    expect(denied.stdout).toContain(
      "input 'api-key': the key's owner may not edit the resources of dataset 'test-dataset'",
    )
    expect(f.writes()).toEqual([])
  })

  it('fails on bad inputs before any request, naming the input and the accepted values', async () => {
    f = await fixture()
    const run = await f.run({
      files: 'a.csv',
      'if-unchanged': 'always',
      'api-url': 'http://data.example.org',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "input 'if-unchanged' must be one of 'skip', 'upload', got 'always'",
    )
    expect(run.stdout).toContain(
      "input 'api-url': plain http:// is only accepted for a loopback host",
    )
    expect(f.emulator.requests).toEqual([])
  })
})

describe('dry run', () => {
  it('plans every action with its reason, without a key on a public dataset, and writes nothing', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, {
      filename: 'same.csv',
      content: CSV_V1,
      title: 'Same',
    })
    f.emulator.addFileResource(f.dataset.id, {
      filename: 'changed.csv',
      content: CSV_V1,
      title: 'Changed',
    })
    await f.write('same.csv', CSV_V1)
    await f.write('changed.csv', CSV_V2)
    await f.write('new.csv', 'n')
    const run = await f.run({
      files: '*.csv',
      'create-missing': 'true',
      'dry-run': 'true',
      'api-key': '',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(f.emulator.requests.every((r) => r.headers['x-api-key'] === undefined)).toBe(true)
    const results = resourcesOutput(run)
    expect(results.map((r) => [r.source, r.action, r.planned])).toEqual([
      ['changed.csv', 'planned', 'upload'],
      ['new.csv', 'planned', 'create'],
      ['same.csv', 'planned', 'skip'],
    ])
    expect(run.outputs.changed).toBe('false')
    expect(run.summary).toContain('Dry run: plan for')
    expect(run.summary).toContain('planned: create')
    expect(run.stdout).toMatch(/Plan:\n\s+upload\s+changed\.csv/)
  })
})

describe('chunked uploads', () => {
  it('sends a file larger than chunk-size in parts (0-based, exact sizes, one uuid), then finalises and verifies', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'big.bin.csv',
      content: 'old',
      title: 'Big',
    })
    const content = Buffer.alloc(250_000)
    for (let i = 0; i < content.length; i++) content[i] = (i * 7919) % 251
    await f.write('big.bin.csv', content)
    const run = await f.run({ files: 'big.bin.csv', 'chunk-size': '100000' })
    expect(run.code, run.stdout).toBe(0)
    const uploads = f.emulator.requests.filter((q) => q.method === 'POST')
    expect(uploads.map((q) => q.fields)).toEqual([
      expect.objectContaining({
        partindex: '0',
        partbyteoffset: '0',
        chunksize: '100000',
        totalparts: '3',
        filename: 'big.bin.csv',
      }),
      expect.objectContaining({
        partindex: '1',
        partbyteoffset: '100000',
        chunksize: '100000',
        totalparts: '3',
      }),
      expect.objectContaining({
        partindex: '2',
        partbyteoffset: '200000',
        chunksize: '50000',
        totalparts: '3',
      }),
      expect.objectContaining({ totalparts: '3', filename: 'big.bin.csv' }),
    ])
    expect(new Set(uploads.map((q) => q.fields?.uuid)).size).toBe(1)
    expect(uploads[3]?.fields?.partindex).toBeUndefined()
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'Big',
      filesize: 250_000,
      checksum: { value: sha1(content) },
    })
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'uploaded',
      checksum: { value: sha1(content) },
    })
  })
})

describe('retries and failures', () => {
  it('retries a 503 honouring Retry-After, and a part whose answer was lost (500 on re-send) without losing bytes', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'f.csv',
      content: 'old',
      title: 'F',
    })
    const content = Buffer.alloc(5000, 65)
    await f.write('f.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 2, loseResponse: true })
    f.emulator.faults.push({
      method: 'PUT',
      path: '^/api/1/',
      nth: 1,
      status: 503,
      retryAfter: '1',
      body: { message: 'busy' },
    })
    const run = await f.run({ files: 'f.csv', 'chunk-size': '2048' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/answered 503: busy; retry 1\/5 in 1\.0 s/)
    const posts = f.emulator.requests.filter((q) => q.method === 'POST')
    expect(posts.map((q) => [q.fields?.partindex ?? 'final', q.fault ?? q.status])).toEqual([
      ['0', 200],
      ['1', 'loseResponse'],
      ['1', 500],
      ['2', 200],
      ['final', 200],
    ])
    const puts = f.emulator.requests.filter(
      (q) => q.method === 'PUT' && q.path.startsWith('/api/1/'),
    )
    expect(puts.map((q) => q.status)).toEqual([503, 200])
    expect((puts[1]?.startedAt ?? 0) - (puts[0]?.finishedAt ?? 0)).toBeGreaterThanOrEqual(950)
    expect(f.emulator.getResource(f.dataset.id, r.id)).toMatchObject({
      title: 'F',
      checksum: { value: sha1(content) },
    })
  })

  it('never creates a resource twice when the answer to its creation is lost', async () => {
    f = await fixture()
    await f.write('new.csv', CSV_V2)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 1,
      loseResponse: true,
    })
    const run = await f.run({ files: 'new.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
    expect(f.emulator.requests.filter((q) => q.method === 'POST')).toHaveLength(1)
    expect(run.stdout).toContain('the server holds the file all the same')
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'created', title: 'new.csv' })
  })

  it('reports a failing entry with its resource, status and API message, still publishes and reports the others', async () => {
    f = await fixture()
    const bad = f.emulator.addFileResource(f.dataset.id, { filename: 'bad.csv', content: 'x' })
    const good = f.emulator.addFileResource(f.dataset.id, { filename: 'good.csv', content: 'x' })
    await f.write('bad.csv', 'bad content')
    await f.write('good.csv', 'good content')
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${bad.id}/upload/$`,
      status: 400,
      body: { message: 'Refused by policy' },
    })
    const run = await f.run({ files: '*.csv' })
    expect(run.code).toBe(1)
    const results = resourcesOutput(run)
    expect(results.map((r) => [r.source, r.action])).toEqual([
      ['bad.csv', 'failed'],
      ['good.csv', 'uploaded'],
    ])
    expect(results[0]?.error).toBe(
      `files '*.csv' (bad.csv) -> resource ${bad.id}: POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${bad.id}/upload/ answered 400: Refused by policy`,
    )
    expect(f.emulator.getResource(f.dataset.id, good.id)?.checksum?.value).toBe(
      sha1('good content'),
    )
    expect(run.stdout).toContain('::error::1 of 2 entries failed to publish')
    expect(run.summary).toContain('#### Failures')
    // 400 is not retried
    expect(
      f.emulator.requests.filter((q) => q.path.includes(bad.id) && q.method === 'POST'),
    ).toHaveLength(1)
  })

  it('an upload refused after the title was recorded: the failed entry says its extras were written', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'x',
      title: 'Sales by year',
    })
    await f.write('a.csv', 'y')
    f.emulator.faults.push({ method: 'POST', path: `/resources/${r.id}/upload/$`, status: 400 })
    const run = await f.run({ files: 'a.csv' })
    expect(run.code).toBe(1)
    const held = f.emulator.getResource(f.dataset.id, r.id)
    expect(held).toMatchObject({ title: 'Sales by year', checksum: { value: sha1('x') } })
    expect(held?.extras).toEqual({ 'publish:title': 'Sales by year' })
    expect(resourcesOutput(run)[0]).toMatchObject({
      id: r.id,
      action: 'failed',
      patched: ['extras'],
    })
  })

  it('gives up after max-retries and names the entry and the last error', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'x' })
    await f.write('a.csv', 'y')
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      status: 502,
      body: '<html>Bad Gateway</html>',
    })
    const run = await f.run({ files: 'a.csv', 'max-retries': '2' })
    expect(run.code).toBe(1)
    expect(resourcesOutput(run)[0]?.error).toContain(
      `resource ${r.id}: POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${r.id}/upload/ answered 502: Bad Gateway`, // a non-JSON body is shown as its text, tags removed
    )
    expect(f.emulator.requests.filter((q) => q.method === 'POST')).toHaveLength(3)
  })
})

describe('identity and secrets', () => {
  it('resolves an old slug once and writes by id; the key appears in no log, output, summary or URL', async () => {
    f = await fixture({ oldSlugs: ['former-name'] })
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'x', title: 'A' })
    await f.write('a.csv', 'y')
    const run = await f.run({
      files: 'a.csv',
      dataset: 'former-name',
      'api-url': `${f.emulator.url}/api/1/`,
    })
    expect(run.code, run.stdout).toBe(0)
    expect(f.emulator.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/1/datasets/former-name/',
      status: 308,
    })
    for (const w of f.writes()) expect(w.path).toContain(`/datasets/${f.dataset.id}/`)
    // The key reaches the runner once, in the command that masks it; nowhere else.
    expect(run.stdout.split('\n').filter((line) => line.includes(f.apiKey))).toEqual([
      `::add-mask::${f.apiKey}`,
    ])
    expect(run.everything.replace(`::add-mask::${f.apiKey}`, '')).not.toContain(f.apiKey)
    for (const q of f.emulator.requests) expect(q.path).not.toContain(f.apiKey)

    const failing = await f.run({ files: 'a.csv', 'api-key': `${f.apiKey}-wrong` })
    expect(failing.code).toBe(1)
    expect(failing.everything.replace(`::add-mask::${f.apiKey}-wrong`, '')).not.toContain(
      `${f.apiKey}-wrong`,
    )
  })
})

describe('more of the contract', () => {
  it('honours ! excludes in files, and compares with the checksum type the server reports (md5)', async () => {
    f = await fixture()
    const kept = f.emulator.addFileResource(f.dataset.id, { filename: 'kept.csv', content: CSV_V1 })
    const state = f.emulator.getResource(f.dataset.id, kept.id)
    if (state === undefined) throw new Error('seeding failed')
    state.checksum = { type: 'md5', value: createHash('md5').update(CSV_V1).digest('hex') }
    await f.write('out/kept.csv', CSV_V1)
    await f.write('out/draft.csv', 'draft')
    const run = await f.run({ files: 'out/*.csv\n!out/draft.csv' })
    expect(run.code, run.stdout).toBe(0)
    expect(
      resourcesOutput(run).map((r) => [r.source, r.action, r.reason, r.checksum?.type]),
    ).toEqual([['out/kept.csv', 'skipped', 'unchanged (md5 and size match)', 'md5']])
    expect(f.writes()).toEqual([])
  })

  it('retries a part once after a spurious Chunk size mismatch', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'p.csv', content: 'old' })
    const content = Buffer.alloc(3000, 66)
    await f.write('p.csv', content)
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 2,
      status: 400,
      body: { success: false, error: 'Chunk size mismatch', message: '' },
    })
    const run = await f.run({ files: 'p.csv', 'chunk-size': '1024' })
    expect(run.code, run.stdout).toBe(0)
    // the faulted request is answered before its form is read, hence no fields
    expect(
      f.emulator.requests
        .filter((q) => q.method === 'POST')
        .map((q) => [q.fault ?? q.fields?.partindex ?? 'final', q.status]),
    ).toEqual([
      ['0', 200],
      ['status:400', 400],
      ['1', 200],
      ['2', 200],
      ['final', 200],
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
  })

  it('starts again from scratch when the stored file does not match, and fails naming both checksums if it persists', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'v.csv',
      content: 'old',
      title: 'V',
    })
    await f.write('v.csv', CSV_V2)
    const wrong = (value: string, content: string) => ({
      status: 200,
      body: {
        id: r.id,
        title: 'v.csv',
        filetype: 'file',
        type: 'main',
        url: r.url,
        filesize: Buffer.byteLength(content),
        checksum: { type: 'sha1', value },
      },
    })
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      nth: 1,
      ...wrong('0'.repeat(40), CSV_V2),
    })
    const recovered = await f.run({ files: 'v.csv' })
    expect(recovered.code, recovered.stdout).toBe(0)
    expect(recovered.stdout).toContain(
      `::warning::the server's sha1 for resource ${r.id} is ${'0'.repeat(40)}, the local file's is ${sha1(CSV_V2)}; uploading v.csv again from the start`,
    )
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(CSV_V2))

    await f.write('v.csv', CSV_V1)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', ...wrong('1'.repeat(40), CSV_V1) })
    const failed = await f.run({ files: 'v.csv' })
    expect(failed.code).toBe(1)
    expect(resourcesOutput(failed)[0]?.error).toContain(
      `the server's sha1 for resource ${r.id} is ${'1'.repeat(40)}, the local file's is ${sha1(CSV_V1)}`,
    )
  })

  it('replaces a new resource that received a wrong file in place, never creating a second one', async () => {
    f = await fixture()
    // Stands for the resource the server created with the wrong bytes (the fault answers in its name).
    const created = f.emulator.addFileResource(f.dataset.id, {
      filename: 'placeholder.txt',
      content: 'zz',
    })
    await f.write('fresh.csv', CSV_V1)
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 1,
      status: 201,
      body: {
        id: created.id,
        title: 'fresh.csv',
        filetype: 'file',
        type: 'main',
        url: created.url,
        filesize: 2,
        checksum: { type: 'sha1', value: sha1('zz') },
      },
    })
    const run = await f.run({ files: 'fresh.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(f.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `POST /api/1/datasets/${f.dataset.id}/upload/`,
      `POST /api/1/datasets/${f.dataset.id}/resources/${created.id}/upload/`,
    ]) // the title the upload gives, fresh.csv, is already the one wanted: no PUT
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
    expect(f.emulator.getResource(f.dataset.id, created.id)).toMatchObject({
      title: 'fresh.csv',
      checksum: { value: sha1(CSV_V1) },
    })
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'created', id: created.id })
  })

  it('times out a request that hangs past timeout, and retries it', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 't.csv',
      content: 'old',
      title: 'T',
    })
    await f.write('t.csv', CSV_V1)
    // The server holds the first PUT for ten minutes: longer than the test may take.
    f.emulator.faults.push({ method: 'PUT', path: '^/api/1/', nth: 1, delayMs: 600_000 })
    const run = await f.run({ files: 't.csv', timeout: '1' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(
      /::warning::PUT http:\/\/[\d.:]+\/api\/1\/datasets\/\w+\/resources\/[\w-]+\/ failed: .*[Tt]imeout.*; retry 1\/5/,
    )
    // The run ended while the server still held the first PUT: the client gave up on it.
    const puts = f.emulator.requests.filter(
      (q) => q.method === 'PUT' && q.path.startsWith('/api/1/'),
    )
    expect(puts.map((q) => [q.fault ?? q.status, q.finishedAt])).toEqual([
      ['delayMs:600000', undefined],
      [200, expect.any(Number)],
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.title).toBe('T')
  })
})
