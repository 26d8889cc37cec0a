/**
 * The API key, through the action: it appears in no log line, error, output, summary or
 * URL the emulator sees, on the happy path and on every failure path (401, 403, 5xx retries,
 * network errors, timeouts, giving up); and redirects never carry it to another origin: reads
 * follow redirects within the instance's origin only, writes follow none.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { ActionRun } from './helpers/fixture.js'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
let other: OtherOrigin | undefined
afterEach(async () => {
  await f?.close()
  await other?.close()
  other = undefined
})

/** A second loopback HTTP server standing for another origin: it records whatever reaches it. */
interface OtherOrigin {
  url: string
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>
  close(): Promise<void>
}

async function otherOrigin(): Promise<OtherOrigin> {
  const requests: OtherOrigin['requests'] = []
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    req.resume()
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end('{"id": "attacker", "resources": []}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The key reaches the runner once, in the command that masks it, and the server only in X-API-KEY. */
function expectKeyKept(run: ActionRun, key: string): void {
  expect(run.stdout.split('\n').filter((line) => line.includes(key))).toEqual([
    `::add-mask::${key}`,
  ])
  expect(run.everything.replace(`::add-mask::${key}`, '')).not.toContain(key)
  for (const q of f.emulator.requests) {
    expect(q.path).not.toContain(key)
    expect(q.path).not.toContain(encodeURIComponent(key))
    for (const [name, value] of Object.entries(q.headers))
      if (name !== 'x-api-key') expect(String(value)).not.toContain(key)
  }
}

describe('the key is never shown', () => {
  it('through 5xx retries, dropped connections, lost answers, a timeout and an entry that gives up', async () => {
    f = await fixture()
    const single = f.emulator.addFileResource(f.dataset.id, {
      filename: 'single.csv',
      content: 'old',
      title: 'Single',
    })
    const chunked = f.emulator.addFileResource(f.dataset.id, {
      filename: 'chunked.csv',
      content: 'old',
      title: 'Chunked',
    })
    const broken = f.emulator.addFileResource(f.dataset.id, {
      filename: 'broken.csv',
      content: 'old',
    })
    await f.write('single.csv', Buffer.alloc(1000, 1))
    await f.write('chunked.csv', Buffer.alloc(2500, 2))
    await f.write('broken.csv', Buffer.alloc(100, 3))
    await f.write('new.csv', Buffer.alloc(200, 4))
    f.emulator.faults.push(
      { method: 'GET', path: `^/api/1/datasets/${f.dataset.id}/$`, nth: 1, status: 503 },
      { method: 'POST', path: `/resources/${single.id}/upload/$`, nth: 1, dropAfterBytes: 300 },
      {
        method: 'POST',
        path: `/resources/${single.id}/upload/$`,
        nth: 2,
        status: 502,
        body: 'Bad Gateway',
      },
      { method: 'POST', path: `/resources/${chunked.id}/upload/$`, nth: 2, loseResponse: true },
      { method: 'POST', path: `/datasets/${f.dataset.id}/upload/$`, nth: 1, loseResponse: true },
      {
        method: 'POST',
        path: `/resources/${broken.id}/upload/$`,
        status: 500,
        body: { message: 'Internal Server Error' },
      },
      { method: 'PUT', path: `/resources/${chunked.id}/$`, nth: 1, delayMs: 1500 },
    )

    const run = await f.run({
      files: '*.csv',
      'create-missing': 'true',
      'chunk-size': '1024',
      'max-retries': '2',
      timeout: '1',
    })

    expect(run.code).toBe(1)
    expect(resourcesOutput(run).map((r) => [r.source, r.action])).toEqual([
      ['broken.csv', 'failed'],
      ['chunked.csv', 'uploaded'],
      ['new.csv', 'created'],
      ['single.csv', 'uploaded'],
    ])
    // Every failure path above was taken.
    expect(f.emulator.requests.map((q) => q.fault).filter((x) => x !== undefined)).toEqual(
      expect.arrayContaining([
        'status:503',
        'dropAfterBytes:300',
        'status:502',
        'loseResponse',
        'status:500',
        'delayMs:1500',
      ]),
    )
    expect(run.stdout).toMatch(/[Tt]imeout/)
    expect(run.stdout).toContain('::debug::') // the request log is in the output too
    expectKeyKept(run, f.apiKey)
  })

  it('when the key is refused (401) or has no rights (403)', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    await f.write('a.csv', 'new')

    const wrong = `${f.apiKey}-revoked`
    const refused = await f.run({ files: 'a.csv', 'api-key': wrong })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('refused the key (401: Invalid API token)')
    expectKeyKept(refused, wrong)

    const stranger = f.emulator.addUser()
    f.emulator.resetRequests()
    const denied = await f.run({ files: 'a.csv', 'api-key': stranger.apiKey })
    expect(denied.code).toBe(1)
    expect(denied.stdout).toContain("the key's owner may not edit the resources")
    expectKeyKept(denied, stranger.apiKey)

    // A write refused with 403 (rights withdrawn between the preflight and the upload).
    f.emulator.resetRequests()
    f.emulator.faults.push({
      method: 'POST',
      status: 403,
      body: { message: 'You do not have the permission to modify that object.' },
    })
    const forbidden = await f.run({ files: 'a.csv' })
    expect(forbidden.code).toBe(1)
    expect(resourcesOutput(forbidden)[0]?.error).toContain(
      'answered 403: You do not have the permission to modify that object.',
    )
    expectKeyKept(forbidden, f.apiKey)
  })
})

describe('the key is never echoed', () => {
  it('even when the server puts it in an error body, JSON or not', async () => {
    f = await fixture()
    const a = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    const b = f.emulator.addFileResource(f.dataset.id, { filename: 'b.csv', content: 'old' })
    await f.write('a.csv', 'new a')
    await f.write('b.csv', 'new b')
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${a.id}/upload/$`,
      status: 400,
      body: { message: `bad key ${f.apiKey}` },
    })
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${b.id}/upload/$`,
      status: 400,
      body: `<html>key=${f.apiKey}</html>`,
    })
    const run = await f.run({ files: '*.csv' })
    expect(run.code).toBe(1)
    const errors = resourcesOutput(run).map((r) => r.error ?? '')
    expect(errors[0]).toContain('answered 400: bad key ***')
    expect(errors[1]).toContain('answered 400: key=***') // a non-JSON body is shown as its text, tags removed
    expectKeyKept(run, f.apiKey)
  })
})

describe('redirects', () => {
  it('a read redirected to another origin is refused before any byte goes there, and the step fails saying why', async () => {
    f = await fixture()
    other = await otherOrigin()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    await f.write('a.csv', 'new')
    f.emulator.faults.push({
      method: 'GET',
      path: `^/api/1/datasets/${f.dataset.id}/$`,
      status: 302,
      headers: { location: `${other.url}/api/1/datasets/${f.dataset.id}/` },
    })

    const run = await f.run({ files: 'a.csv' })

    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `::error::1 problem found before publishing; nothing was written:%0A- GET ${f.emulator.url}/api/1/datasets/${f.dataset.id}/ answered 302: redirect to another origin (${other.url}) refused: the API key is not sent there`,
    )
    expect(run.outputs).toMatchObject({ changed: 'false' })
    expect(other.requests).toEqual([])
    expect(f.writes()).toEqual([])
    expectKeyKept(run, f.apiKey)
  })

  it('another origin is another host name or scheme too: localhost for 127.0.0.1, protocol-relative and https locations are refused', async () => {
    f = await fixture()
    other = await otherOrigin()
    const port = new URL(f.emulator.url).port
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    await f.write('a.csv', 'new')
    const path = `/api/1/datasets/${f.dataset.id}/`
    for (const location of [
      `http://localhost:${port}${path}`,
      `//${new URL(other.url).host}${path}`,
      `https://127.0.0.1:${port}${path}`,
    ]) {
      f.emulator.faults.length = 0
      f.emulator.resetRequests()
      f.emulator.faults.push({
        method: 'GET',
        path: `^${path}$`,
        status: 308,
        headers: { location },
      })
      const run = await f.run({ files: 'a.csv' })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain(
        `answered 308: redirect to another origin (${new URL(location, f.emulator.url).origin}) refused`,
      )
      // The redirect was not followed: the dataset was asked for once, and nothing else reached any server.
      expect(f.emulator.requests.filter((q) => q.path === path)).toHaveLength(1)
      expectKeyKept(run, f.apiKey)
    }
    expect(other.requests).toEqual([])
  })

  it('a read redirected within the instance is followed, with the key', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'old',
      title: 'A',
    })
    await f.write('a.csv', 'new')
    f.emulator.faults.push({
      method: 'GET',
      path: `^/api/1/datasets/${f.dataset.id}/$`,
      nth: 1,
      status: 302,
      headers: { location: '/api/1/datasets/test-dataset/' },
    })

    const run = await f.run({ files: 'a.csv' })

    expect(run.code, run.stdout).toBe(0)
    const followed = f.emulator.requests.find((q) => q.path === '/api/1/datasets/test-dataset/')
    expect(followed?.headers['x-api-key']).toBe(f.apiKey)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1('new'))
  })

  it('a write (POST upload, PUT metadata) is never redirected, to another origin or to its own', async () => {
    f = await fixture()
    other = await otherOrigin()
    const up = f.emulator.addFileResource(f.dataset.id, {
      filename: 'up.csv',
      content: 'old',
      title: 'Up',
    })
    const same = f.emulator.addFileResource(f.dataset.id, {
      filename: 'same.csv',
      content: 'old',
      title: 'Same',
    })
    const meta = f.emulator.addFileResource(f.dataset.id, {
      filename: 'meta.csv',
      content: 'old',
      title: 'Meta',
    })
    await f.write('up.csv', 'new up')
    await f.write('same.csv', 'new same')
    await f.write('meta.csv', 'new meta')
    f.emulator.faults.push(
      {
        method: 'POST',
        path: `/resources/${up.id}/upload/$`,
        status: 307,
        headers: {
          location: `${other.url}/api/1/datasets/${f.dataset.id}/resources/${up.id}/upload/`,
        },
      },
      {
        method: 'POST',
        path: `/resources/${same.id}/upload/$`,
        status: 308,
        headers: {
          location: `/api/1/datasets/${f.dataset.id}/resources/${same.id}/upload/?again=1`,
        },
      },
      {
        method: 'PUT',
        path: `/resources/${meta.id}/$`,
        status: 308,
        headers: { location: `${other.url}/api/1/datasets/${f.dataset.id}/resources/${meta.id}/` },
      },
    )

    const run = await f.run({ files: '*.csv' })

    expect(run.code).toBe(1)
    const results = resourcesOutput(run)
    // meta.csv's file was stored before its title PUT was redirected: it is reported stored, with the error.
    expect(results.map((r) => [r.source, r.action])).toEqual([
      ['meta.csv', 'uploaded'],
      ['same.csv', 'failed'],
      ['up.csv', 'failed'],
    ])
    expect(results[0]?.error).toContain(
      `PUT ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${meta.id}/ answered 308`,
    )
    expect(results[1]?.error).toContain(
      `POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${same.id}/upload/ answered 308`,
    )
    expect(results[2]?.error).toContain(
      `POST ${f.emulator.url}/api/1/datasets/${f.dataset.id}/resources/${up.id}/upload/ answered 307`,
    )
    // Each write was sent once, to the instance, and never again anywhere (a redirect is not retried either).
    expect(
      f
        .writes()
        .filter((w) => w.method === 'POST' && (w.path.includes(up.id) || w.path.includes(same.id))),
    ).toHaveLength(2)
    expect(
      f.writes().filter((w) => w.method === 'PUT' && w.path.endsWith(`/resources/${meta.id}/`)),
    ).toHaveLength(1)
    expect(f.emulator.requests.some((q) => q.path.includes('again=1'))).toBe(false)
    expect(other.requests).toEqual([])
    expectKeyKept(run, f.apiKey)
  })
})
