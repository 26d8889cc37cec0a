/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as runners and curl honour them: a real CONNECT proxy on
 * loopback in the test, counting the tunnels it opens. The variables are the run's own (the
 * runner's environment, the CLI's), never this process's: test/bundle/action.test.ts checks that
 * the bundle reads them from its process.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'
import { connectProxy, type Proxy } from './helpers/proxy.js'
import { runCli } from './helpers/run-cli.js'

let f: Fixture
let proxy: Proxy
beforeEach(async () => {
  proxy = await connectProxy()
})
afterEach(async () => {
  await f?.close()
  await proxy.close()
})

it('sends every request of the action through HTTP_PROXY / HTTPS_PROXY, and none when NO_PROXY names the host', async () => {
  f = await fixture()
  const r = f.emulator.addFileResource(f.dataset.id, {
    filename: 'a.csv',
    content: 'old',
    title: 'A',
  })
  await f.write('a.csv', 'via proxy')
  const emulatorHost = new URL(f.emulator.url).host

  const proxied = await f.run({ files: 'a.csv' }, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url })
  expect(proxied.code, proxied.stdout).toBe(0)
  expect(resourcesOutput(proxied)[0]).toMatchObject({ id: r.id, action: 'uploaded' })
  expect(proxy.tunnels.length).toBeGreaterThan(0)
  expect(new Set(proxy.tunnels)).toEqual(new Set([emulatorHost]))
  // every API request the emulator saw came through a tunnel the proxy opened
  expect(f.emulator.requests.length).toBeGreaterThanOrEqual(4)

  proxy.tunnels.length = 0
  await f.write('a.csv', 'direct')
  const direct = await f.run(
    { files: 'a.csv' },
    { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
  )
  expect(direct.code, direct.stdout).toBe(0)
  expect(resourcesOutput(direct)[0]).toMatchObject({ action: 'uploaded' })
  expect(proxy.tunnels).toEqual([])
})

it('sends the CLI through the proxy too (the same engine)', async () => {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
  await f.write('a.csv', 'cli via proxy')
  const run = await runCli(
    ['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--files', 'a.csv'],
    {
      cwd: f.workspace,
      env: { DATAGOUV_API_KEY: f.apiKey, https_proxy: proxy.url, http_proxy: proxy.url },
    },
  )
  expect(run.code, run.stderr).toBe(0)
  expect(proxy.tunnels.length).toBeGreaterThan(0)
})

it("ignores this process's proxy variables: a run reads its own environment only", async () => {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
  await f.write('a.csv', 'direct')
  vi.stubEnv('HTTP_PROXY', proxy.url)
  vi.stubEnv('http_proxy', proxy.url)
  try {
    const action = await f.run({ files: 'a.csv' })
    expect(action.code, action.stdout).toBe(0)
    await f.write('a.csv', 'direct again')
    const cli = await runCli(
      ['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--files', 'a.csv'],
      { cwd: f.workspace, env: { DATAGOUV_API_KEY: f.apiKey } },
    )
    expect(cli.code, cli.stderr).toBe(0)
  } finally {
    vi.unstubAllEnvs()
  }
  expect(proxy.tunnels).toEqual([])
})
