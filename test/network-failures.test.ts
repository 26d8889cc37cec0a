/**
 * What no retry cures fails at once, naming the host and the proxy: a proxy that refuses the
 * tunnel (CONNECT answered 403), a name that does not resolve, a local file that cannot be read
 * while it is sent. What a retry may cure waits as the server asks: a `Retry-After` on a 429 or
 * 503 pauses every new request to that server, not only the refused one. Attempts are counted
 * (by the proxy, a dispatcher, the emulator), never timed against an upper bound.
 */
import { rm } from 'node:fs/promises'
import { Agent, type Dispatcher } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { FaultRule } from '../emulator/server.js'
import { fixture, resourcesOutput, until, type ActionRun, type Fixture } from './helpers/fixture.js'
import { connectProxy, type Proxy } from './helpers/proxy.js'
import { runInProcess } from './helpers/runner.js'

let f: Fixture
let proxy: Proxy | undefined
let agent: Dispatcher | undefined
afterEach(async () => {
  await f?.close()
  await proxy?.close()
  await agent?.close()
  proxy = undefined
  agent = undefined
})

describe('failures no retry cures: fail fast, say which host and which proxy', () => {
  it('a proxy variable that is not a URL: no retry, the variable named, its value (credentials) not shown', async () => {
    f = await fixture()
    await f.write('a.csv', 'new')

    const run = await f.run(
      { files: '*.csv', 'max-retries': '5' },
      { HTTP_PROXY: 'http://user:s3cret@[bad' },
    )

    expect(run.code).toBe(1)
    expect(run.stdout).not.toContain('; retry ')
    expect(run.stdout).toContain('failed: HTTP_PROXY is not a URL: expected http://host:port')
    expect(run.everything).not.toContain('s3cret')
    expect(run.outputs).toMatchObject({ changed: 'false', 'uploaded-count': '0' })
    expect(f.emulator.requests).toEqual([])
  })

  it('a proxy that refuses the tunnel (403): one CONNECT per read, no retry; outputs and summary are written', async () => {
    f = await fixture()
    proxy = await connectProxy({ refuse: 403 })
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old', title: 'A' })
    await f.write('a.csv', 'new')
    await f.write('b.csv', 'b')
    const host = new URL(f.emulator.url).host

    const run = await f.run(
      { files: '*.csv', 'max-retries': '5' },
      { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url },
    )

    expect(run.code).toBe(1)
    // The preflight's two reads (the dataset, the extensions), each asked once.
    expect(proxy.tunnels).toEqual([host, host])
    expect(run.stdout).not.toContain('; retry ')
    expect(run.stdout).toContain(
      `::error::1 problem found before publishing; nothing was written:%0A- GET ${f.emulator.url}/api/1/`,
    )
    expect(run.stdout).toContain(
      `failed: the proxy ${proxy.url} (HTTP_PROXY) refused the tunnel to ${host}: it answered 403 to CONNECT`,
    )
    expect(run.outputs).toMatchObject({ changed: 'false', 'uploaded-count': '0', urls: '{}' })
    expect(resourcesOutput(run).map((r) => [r.source, r.action])).toEqual([
      ['a.csv', 'not-published'],
      ['b.csv', 'not-published'],
    ])
    expect(run.summary).toContain('### Nothing published to data.gouv.fr: 1 problem found')
    expect(run.summary).toContain('refused the tunnel')
    expect(f.emulator.requests).toEqual([])
  })

  it('a host that does not resolve: each read sent once, the message names the host', async () => {
    f = await fixture()
    await f.write('a.csv', 'a')
    const seen: string[] = []
    agent = new Agent().compose((dispatch) => (options, handler) => {
      seen.push(`${options.method} ${String(options.origin)}${options.path}`)
      return dispatch(options, handler)
    })

    const run = await runInProcess(
      {
        'api-url': 'https://publish-test.invalid',
        'api-key': f.apiKey,
        dataset: 'sales',
        files: 'a.csv',
        'max-retries': '5',
      },
      { cwd: f.workspace, dispatcher: agent },
    )

    expect(run.code).toBe(1)
    expect([...seen].sort()).toEqual([
      'GET https://publish-test.invalid/api/1/datasets/extensions/',
      'GET https://publish-test.invalid/api/1/datasets/sales/',
    ])
    expect(run.stdout).toMatch(
      /failed: the host publish-test\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\): check the address and the runner's DNS \(api-url: https:\/\/publish-test\.invalid\)/,
    )
    expect(run.stdout).not.toContain('; retry ')
    expect(resourcesOutput(run)).toEqual([
      expect.objectContaining({ source: 'a.csv', action: 'not-published' }),
    ])
    expect(run.outputs.changed).toBe('false')
    expect(run.summary).toContain('the host publish-test.invalid does not resolve')
  })

  it('a local file that can no longer be read while its parts are sent: that part is not retried', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'gone.csv',
      content: 'old',
      title: 'Gone',
    })
    await f.write('gone.csv', Buffer.alloc(3 * 4096, 65))
    // The first part is held while the file is removed; the second is read after.
    const fault = { method: 'POST', path: '/upload/$', nth: 1, hold: true }
    const inputs = { files: 'gone.csv', 'chunk-size': '4096', 'max-retries': '5' }

    const run = await removedWhileHeld('gone.csv', fault, inputs)

    expect(run.code).toBe(1)
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({ action: 'failed', id: r.id, url: r.url })
    expect(result?.error).toContain(
      'the file changed while it was being sent (it was removed); the server stored nothing of it',
    )
    expect(run.stdout).not.toContain('; retry ')
    // The held part, stored; the next one, cut short when its bytes could not be read; nothing more.
    const posts = f.emulator.requests.filter((q) => q.method === 'POST')
    expect(posts.map((q) => q.status)).toEqual([200, 0])
  })

  it('a local file removed after the preflight: nothing is sent for it, and nothing retried', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'r.csv',
      content: 'old',
      title: 'Report',
    })
    await f.write('r.csv', 'newer')
    // The title to put back is recorded before the upload: held, the file goes meanwhile.
    const fault = { method: 'PUT', path: `/resources/${r.id}/extras/$`, nth: 1, hold: true }

    const run = await removedWhileHeld('r.csv', fault, { files: 'r.csv', 'max-retries': '5' })

    expect(run.code).toBe(1)
    const [result] = resourcesOutput(run)
    expect(result).toMatchObject({ action: 'failed', id: r.id, url: r.url })
    expect(result?.error).toContain(
      'the file changed before it was sent (it was removed); nothing was sent',
    )
    expect(f.emulator.requests.filter((q) => q.method === 'POST')).toEqual([])
    expect(run.stdout).not.toContain('; retry ')
    expect(run.outputs).toMatchObject({ changed: 'false', 'uploaded-count': '0' })
  })
})

/** The action run with `fault` holding a request, during which the local file `name` is removed. */
async function removedWhileHeld(
  name: string,
  fault: FaultRule,
  inputs: Record<string, string>,
): Promise<ActionRun> {
  f.emulator.faults.push(fault)
  const running = f.run(inputs)
  await until(() => f.emulator.held.length === 1)
  await rm(`${f.workspace}/${name}`)
  f.emulator.held[0]?.release()
  return running
}

describe('Retry-After', () => {
  it('on a 503 to one part, pauses every new request to the server for the time asked, not only that part', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'p.csv', content: 'old', title: 'P' })
    await f.write('p.csv', Buffer.alloc(12 * 1024 + 10, 66))
    // Parts answer a little late, so that three are in flight when the second is refused.
    f.emulator.faults.push(
      { method: 'POST', path: '/upload/$', nth: 2, status: 503, retryAfter: '1' },
      { method: 'POST', path: '/upload/$', times: 14, answerDelayMs: 100 },
    )

    const run = await f.run({ files: 'p.csv', 'chunk-size': '1024', 'part-concurrency': '3' })

    expect(run.code, run.stdout).toBe(0)
    const refused = f.emulator.requests.find((q) => q.fault === 'status:503')
    const answered = refused?.finishedAt as number
    const later = f.emulator.requests.filter((q) => q.startedAt > answered)
    // The refused part again, the parts not sent yet, the final request, the title's PUT...
    expect(later.length).toBeGreaterThan(3)
    // ...none of them sent before the second asked for had passed.
    for (const q of later) expect(q.startedAt - answered).toBeGreaterThanOrEqual(1000)
    expect(run.stdout).toMatch(
      /answered 503 with Retry-After: no new request goes to 127\.0\.0\.1:\d+ for 1\.0 s/,
    )
  })
})
