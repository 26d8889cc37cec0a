/**
 * The report is the truth: what the action reports is what the emulator then holds, when a step
 * half-fails, when the server is slow, when the input or the dataset cannot be published; and the
 * next run repairs what it can.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const uploads = () =>
  f.emulator.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/upload/'))

describe('a title that cannot be put back after the file was stored', () => {
  it('existing resource: reported uploaded with its new URL, the step fails naming the title, and the next run puts it back', async () => {
    f = await fixture()
    const before = f.emulator.addFileResource(f.dataset.id, {
      filename: 'sales.csv',
      content: 'v1',
      title: 'Sales by year',
    })
    const oldUrl = before.url
    await f.write('sales.csv', 'v2,changed')
    // Every PUT to the resource (v1) fails; the v2 extras endpoint works.
    f.emulator.faults.push({
      method: 'PUT',
      path: `/api/1/datasets/[^/]+/resources/${before.id}/$`,
      status: 500,
      body: { message: 'Internal Server Error' },
    })

    const run = await f.run({ files: 'sales.csv', 'max-retries': '1' })

    expect(run.code).toBe(1)
    const after = f.emulator.getResource(f.dataset.id, before.id)
    expect(after?.checksum?.value).toBe(sha1('v2,changed'))
    expect(after?.title).toBe('sales.csv')
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      id: before.id,
      action: 'uploaded',
      url: after?.url,
      checksum: { value: sha1('v2,changed') },
    })
    expect(result?.url).not.toBe(oldUrl)
    expect(result?.error).toContain("its title could not be put back to 'Sales by year'")
    expect(result?.error).toContain('recorded in the resource')
    expect(JSON.parse(run.outputs.urls ?? '{}')).toEqual({ 'sales.csv': after?.url })
    expect(run.outputs).toMatchObject({ changed: 'true', 'uploaded-count': '1' })
    expect(run.stdout).toContain("::error::files 'sales.csv' (sales.csv) -> resource")
    expect(run.summary).toContain('| uploaded |')
    expect(after?.extras['publish:title']).toBe('Sales by year')

    f.emulator.faults.length = 0
    f.emulator.requests.length = 0
    const again = await f.run({ files: 'sales.csv' })

    expect(again.code, again.stdout).toBe(0)
    expect(resourcesOutput(again)[0]).toMatchObject({ action: 'updated', title: 'Sales by year' })
    expect(resourcesOutput(again)[0]?.reason).toContain('a title an earlier run could not put back')
    expect(f.emulator.getResource(f.dataset.id, before.id)?.title).toBe('Sales by year')
    expect(uploads()).toEqual([])
  })

  it('new resource: reported created with its id and URL; the next run titles it', async () => {
    f = await fixture()
    await f.write('Ventes Été.csv', 'a,b')
    f.emulator.faults.push({
      method: 'PUT',
      path: '/api/1/datasets/[^/]+/resources/[^/]+/$',
      status: 500,
      body: 'Internal Server Error',
    })

    const run = await f.run({ files: '*.csv', 'create-missing': 'true', 'max-retries': '0' })

    expect(run.code).toBe(1)
    const [result] = resourcesOutput(run)
    const created = f.emulator.getDataset(f.dataset.id)?.resources[0]
    expect(created?.title).toBe('ventes-ete.csv')
    expect(result).toMatchObject({ id: created?.id, action: 'created', url: created?.url })
    expect(result?.error).toContain("its title could not be put back to 'Ventes Été.csv'")
    expect(JSON.parse(run.outputs.urls ?? '{}')).toEqual({ 'Ventes Été.csv': created?.url })
    expect(run.outputs).toMatchObject({ changed: 'true', 'uploaded-count': '1' })

    f.emulator.faults.length = 0
    const again = await f.run({ files: '*.csv', 'create-missing': 'true' })
    expect(again.code, again.stdout).toBe(0)
    expect(resourcesOutput(again)[0]).toMatchObject({
      id: created?.id,
      action: 'updated',
      title: 'Ventes Été.csv',
    })
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
  })

  it("when the resource's extras cannot be written, nothing is uploaded: the title would have no record for a next run", async () => {
    f = await fixture()
    const before = f.emulator.addFileResource(f.dataset.id, {
      filename: 'x.csv',
      content: 'v1',
      title: 'X data',
    })
    const oldUrl = before.url
    await f.write('x.csv', 'v2')
    f.emulator.faults.push({
      method: 'PUT',
      path: '/extras/$',
      status: 503,
      body: { message: 'busy' },
    })

    const run = await f.run({ files: 'x.csv', 'max-retries': '0' })

    expect(run.code).toBe(1)
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'failed', id: before.id, url: oldUrl })
    expect(resourcesOutput(run)[0]?.error).toContain('/extras/ answered 503: busy')
    expect(uploads()).toEqual([])
    expect(f.emulator.getResource(f.dataset.id, before.id)).toMatchObject({
      title: 'X data',
      url: oldUrl,
    })

    f.emulator.faults.length = 0
    const again = await f.run({ files: 'x.csv' })
    expect(again.code, again.stdout).toBe(0)
    expect(f.emulator.getResource(f.dataset.id, before.id)).toMatchObject({
      title: 'X data',
      checksum: { value: sha1('v2') },
      extras: { 'publish:title': 'X data' },
    })
  })

  it("a title recorded in the dataset's extras by an earlier version is put back, and the record cleared", async () => {
    f = await fixture()
    const before = f.emulator.addFileResource(f.dataset.id, { filename: 'y.csv', content: 'y' })
    f.emulator.getDataset(f.dataset.id)!.extras[`publish:title:${before.id}`] = 'Y data'
    await f.write('y.csv', 'y')

    const run = await f.run({ files: 'y.csv' })

    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'updated', title: 'Y data' })
    expect(resourcesOutput(run)[0]?.reason).toContain('a title an earlier run could not put back')
    expect(f.emulator.getResource(f.dataset.id, before.id)?.title).toBe('Y data')
    expect(
      f.emulator.getDataset(f.dataset.id)?.extras[`publish:title:${before.id}`],
    ).toBeUndefined()
  })

  it('new resource: the title put back, then the extras merge fails: reported created with its title, the error names the extras', async () => {
    f = await fixture()
    await f.write('e.csv', 'v2')
    f.emulator.faults.push({
      method: 'PUT',
      path: '/extras/$',
      status: 500,
      body: { message: 'down' },
    })

    const run = await f.run({
      resources: '- {path: e.csv, title: E data, extras: {source: pipeline}}',
      'create-missing': 'true',
      'max-retries': '0',
    })

    expect(run.code).toBe(1)
    const after = f.emulator.getDataset(f.dataset.id)?.resources[0]
    expect(after?.title).toBe('E data')
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({
      action: 'created',
      id: after?.id,
      title: 'E data',
      url: after?.url,
      patched: ['title'],
    })
    expect(result?.error).toContain('/extras/ answered 500')
    expect(result?.error).not.toContain('title could not be put back')
  })
})

describe('the dataset itself', () => {
  it('a deleted dataset (200 with deleted for its owner) is refused before any write, even with dataset-metadata', async () => {
    f = await fixture({ deleted: true })
    await f.write('a.csv', 'a')
    const run = await f.run({
      files: 'a.csv',
      'create-missing': 'true',
      'dataset-metadata': 'title: New title',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::.*dataset 'test-dataset' \(\w+\) has been deleted/)
    expect(f.writes()).toEqual([])
    expect(run.summary).toContain('has been deleted')
  })

  it('an archived dataset is published to, with a warning', async () => {
    f = await fixture({ archived: true })
    await f.write('a.csv', 'a')
    const run = await f.run({ files: 'a.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/::warning::dataset 'test-dataset' \(\w+\) is archived/)
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'created' })
  })
})

describe('the files people have', () => {
  it('two local files with one stored name are refused, naming both and the name, nothing written', async () => {
    f = await fixture()
    await f.write('out/Ventes 2024.csv', 'a')
    await f.write('out/ventes-2024.csv', 'b')
    await f.write('out/a.csv', 'c')
    await f.write('out/sub/a.csv', 'd')
    const run = await f.run({ files: 'out', 'create-missing': 'true' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "'out/Ventes 2024.csv' (files 'out') and 'out/ventes-2024.csv' (files 'out') would both be stored as 'ventes-2024.csv'",
    )
    expect(run.stdout).toContain(
      "'out/a.csv' (files 'out') and 'out/sub/a.csv' (files 'out') would both be stored as 'a.csv'",
    )
    expect(f.writes()).toEqual([])
    // Mapped each to its own resource, they publish.
    const one = f.emulator.addFileResource(f.dataset.id, {
      filename: 'one.csv',
      content: 'x',
      title: 'One',
    })
    const two = f.emulator.addFileResource(f.dataset.id, {
      filename: 'two.csv',
      content: 'y',
      title: 'Two',
    })
    const mapped = await f.run({
      resources: `- {path: 'out/Ventes 2024.csv', id: ${one.id}}\n- {path: out/ventes-2024.csv, id: ${two.id}}`,
    })
    expect(mapped.code, mapped.stdout).toBe(0)
    expect(resourcesOutput(mapped).map((r) => [r.id, r.action])).toEqual([
      [one.id, 'uploaded'],
      [two.id, 'uploaded'],
    ])
  })

  it('hidden files and folders are left out unless include-hidden-files, and the plan says how many', async () => {
    f = await fixture()
    await f.write('out/data.csv', 'a')
    await f.write('out/.hidden.csv', 'b')
    await f.write('out/.cache/c.csv', 'c')
    const run = await f.run({ files: 'out/**/*.csv', 'create-missing': 'true', 'dry-run': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run).map((r) => r.source)).toEqual(['out/data.csv'])
    expect(run.stdout).toContain(
      "2 hidden files left out (a name starting with '.'; set include-hidden-files: true to publish them)",
    )
    expect(run.summary).toContain('2 hidden files left out')

    const spelled = await f.run({
      files: 'out/.cache/*.csv',
      'create-missing': 'true',
      'dry-run': 'true',
    })
    expect(resourcesOutput(spelled).map((r) => r.source)).toEqual(['out/.cache/c.csv'])

    const all = await f.run({
      files: 'out/**/*.csv',
      'create-missing': 'true',
      'include-hidden-files': 'true',
    })
    expect(all.code, all.stdout).toBe(0)
    expect(
      resourcesOutput(all)
        .map((r) => r.source)
        .sort(),
    ).toEqual(['out/.cache/c.csv', 'out/.hidden.csv', 'out/data.csv'])
  })
})

describe('a server that misbehaves', () => {
  it("a proxy's 413 on a part: restarted once in parts half the size, said in the log and the outputs", async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'big.csv',
      content: 'old',
      title: 'Big',
    })
    const content = Buffer.alloc(5 * 1024 * 1024, 7)
    await f.write('big.csv', content)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', maxBodyBytes: 3 * 1024 * 1024 })

    const run = await f.run({ files: 'big.csv', 'chunk-size': String(4 * 1024 * 1024) })

    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain('413 Request Entity Too Large')
    expect(run.stdout).toContain(
      `the request was too large for the server or a proxy in front of it; uploading big.csv again in parts of ${2 * 1024 * 1024} bytes`,
    )
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(content))
    expect(resourcesOutput(run)[0]?.notes).toEqual([
      `stored in parts of ${2 * 1024 * 1024} bytes: the server or a proxy refused larger requests (413)`,
    ])
  })

  it('a 413 that half-size parts do not cure: the message names chunk-size', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'big.csv', content: 'old', title: 'Big' })
    await f.write('big.csv', Buffer.alloc(3 * 1024 * 1024, 1))
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', maxBodyBytes: 1024 * 1024 })

    const run = await f.run({ files: 'big.csv' })

    expect(run.code).toBe(1)
    const error = resourcesOutput(run)[0]?.error ?? ''
    expect(error).toContain('answered 413: 413 Request Entity Too Large')
    expect(error).toContain(
      "too large for the server or a proxy in front of it; set a smaller 'chunk-size'",
    )
    expect(resourcesOutput(run)[0]?.action).toBe('failed')
  })

  it('a server 4.5 times slower than a 1 s timeout creates one resource, not two', async () => {
    f = await fixture()
    await f.write('slow.csv', 'a,b\n1,2\n')
    f.emulator.faults.push({
      method: 'POST',
      path: `/datasets/${f.dataset.id}/upload/$`,
      nth: 1,
      delayMs: 4500,
    })

    const run = await f.run({ files: 'slow.csv', 'create-missing': 'true', timeout: '1' })

    expect(run.code, run.stdout).toBe(0)
    await f.settled() // a creation still held by the server would show now
    expect(f.emulator.getDataset(f.dataset.id)?.resources).toHaveLength(1)
    expect(uploads()).toHaveLength(1)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'created',
      id: f.emulator.getDataset(f.dataset.id)?.resources[0]?.id,
    })
  })

  it('if-unchanged: upload refused with FileExists (same second) is never reported stored; re-sent, it is', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'same.csv',
      content: 'same',
      title: 'Same',
    })
    const oldUrl = r.url
    await f.write('same.csv', 'same')
    const fileExists = { status: 500, body: 'FileExists: test-dataset/20261201-000000/same.csv' }
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', ...fileExists })

    const refused = await f.run({ files: 'same.csv', 'if-unchanged': 'upload', 'max-retries': '2' })

    expect(refused.code).toBe(1)
    expect(resourcesOutput(refused)[0]).toMatchObject({ action: 'failed' })
    expect(refused.outputs).toMatchObject({ changed: 'false', 'uploaded-count': '0' })
    expect(f.emulator.getResource(f.dataset.id, r.id)?.url).toBe(oldUrl)
    expect(uploads()).toHaveLength(3)

    f.emulator.faults.length = 0
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', nth: 1, ...fileExists })
    const resent = await f.run({ files: 'same.csv', 'if-unchanged': 'upload' })
    expect(resent.code, resent.stdout).toBe(0)
    const after = f.emulator.getResource(f.dataset.id, r.id)
    expect(after?.url).not.toBe(oldUrl)
    expect(resourcesOutput(resent)[0]).toMatchObject({ action: 'uploaded', url: after?.url })
  })
})

describe('what a stopped run says', () => {
  it('a failed preflight lists its problems in the summary, and the outputs carry each entry with its plan and problem', async () => {
    f = await fixture()
    const known = f.emulator.addFileResource(f.dataset.id, {
      filename: 'known.csv',
      content: 'k',
      title: 'Known',
    })
    await f.write('known.csv', 'k2')
    await f.write('unknown.csv', 'u')
    await f.write('run.exe', 'x')
    const run = await f.run({ files: '*' })
    expect(run.code).toBe(1)
    expect(f.writes()).toEqual([])
    expect(run.summary).toContain('### Nothing published to [Test dataset]')
    expect(run.summary).toContain(
      "no resource of dataset 'test-dataset' has the stored file name 'unknown.csv'",
    )
    expect(run.summary).toContain("does not accept '.exe' files")
    const outputs = resourcesOutput(run)
    expect(outputs.map((o) => [o.source, o.action, o.planned, o.id])).toEqual([
      ['known.csv', 'not-published', 'publish', known.id],
      ['run.exe', 'not-published', null, null],
      ['unknown.csv', 'not-published', null, null],
    ])
    expect(outputs[1]?.error).toContain("does not accept '.exe' files")
    expect(outputs[2]?.error).toContain('set create-missing: true')
    expect(run.outputs).toMatchObject({ changed: 'false', 'uploaded-count': '0', urls: '{}' })
    expect(run.outputs['dataset-url']).toContain('test-dataset')
  })
})

describe('messages', () => {
  it("a body that is not JSON names the request's URL and the HTML page's title", async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'm.csv', content: 'old', title: 'M' })
    await f.write('m.csv', 'new')
    const page =
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>'
    f.emulator.faults.push({
      method: 'PUT',
      path: '^/api/1/',
      status: 200,
      body: page,
      contentType: 'text/html',
    })
    const run = await f.run({ files: 'm.csv', 'max-retries': '0' })
    expect(run.code).toBe(1)
    const error = resourcesOutput(run)[0]?.error ?? ''
    expect(error).toMatch(
      /PUT http:\/\/[\d.:]+\/api\/1\/datasets\/\w+\/resources\/[\w-]+\/ answered 200 with a body that is not JSON: 502 Bad Gateway/,
    )
  })

  it('removed entries carry their title in the outputs', async () => {
    f = await fixture()
    const old = f.emulator.addFileResource(f.dataset.id, {
      filename: 'old.csv',
      content: 'o',
      title: 'Old data',
    })
    const run = await f.run({ remove: old.id })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'removed',
      id: old.id,
      title: 'Old data',
      url: null,
    })
  })
})
