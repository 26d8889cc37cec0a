/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as runners and curl honour them: a real CONNECT proxy on
 * loopback in the test, counting the tunnels it opens.
 */
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'
import { runCli } from './helpers/run-cli.js'

interface Proxy {
  url: string
  tunnels: string[]
  close(): Promise<void>
}

async function connectProxy(): Promise<Proxy> {
  const tunnels: string[] = []
  const server: Server = createServer((_req, res) => res.writeHead(405).end('CONNECT only'))
  server.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

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
