/**
 * src/datagouv/http.ts on real sockets: an https target reached through the CONNECT proxy (the
 * TLS handshake inside the tunnel, with the target's name, and the certificate checked), the
 * proxy's credentials, connections kept alive, an answer that comes before the body is all sent,
 * and each phase of the timeout. No timing is asserted beyond "it timed out".
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { HttpTimeoutError, NodeHttp, readText } from '../src/datagouv/http.js'
import { connectProxy, type Proxy } from './helpers/proxy.js'

let cert: { key: Buffer; cert: Buffer }
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

beforeAll(async () => {
  // A throwaway self-signed certificate for localhost, made here rather than kept in the repository.
  const dir = await mkdtemp(path.join(tmpdir(), 'http-test-'))
  try {
    const [key, crt] = [path.join(dir, 'key.pem'), path.join(dir, 'crt.pem')]
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
      ...['-keyout', key, '-out', crt],
    ])
    cert = { key: await readFile(key), cert: await readFile(crt) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}

async function proxy(): Promise<Proxy> {
  const p = await connectProxy()
  closers.push(() => p.close())
  return p
}

function client(env: Record<string, string> = {}): NodeHttp {
  const http = new NodeHttp(env)
  closers.push(() => http.close())
  return http
}

it('reaches an https target through the proxy: TLS inside the tunnel, named for the target, its certificate checked', async () => {
  const names: string[] = []
  const server = createHttpsServer(
    {
      ...cert,
      SNICallback: (name, done) => {
        names.push(name)
        done(null, undefined)
      },
    },
    (_req, res) => res.end('{}'),
  )
  const port = await listen(server)
  const p = await proxy()
  const http = client({ HTTPS_PROXY: p.url })

  const failure = await http
    .request({
      method: 'GET',
      url: new URL(`https://localhost:${port}/api/1/`),
      headers: {},
      timeoutMs: 10_000,
    })
    .catch((error: unknown) => error)

  expect(p.tunnels).toEqual([`localhost:${port}`])
  expect(names).toEqual(['localhost'])
  // Self-signed: refused, as any certificate no authority vouches for is.
  expect((failure as { code?: string }).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
})

it("sends the proxy URL's credentials as Proxy-Authorization, decoded", async () => {
  const port = await listen(createServer((_req, res) => res.end('ok')))
  const p = await proxy()
  const http = client({ HTTP_PROXY: p.url.replace('//', '//user:p%40ss@') })
  const answer = await http.request({
    method: 'GET',
    url: new URL(`http://127.0.0.1:${port}/`),
    headers: {},
    timeoutMs: 10_000,
  })
  expect(await readText(answer.body)).toBe('ok')
  expect(p.authorizations).toEqual([`Basic ${Buffer.from('user:p@ss').toString('base64')}`])
})

it('keeps the connection for the next request', async () => {
  const server = createServer((_req, res) => res.end('ok'))
  let connections = 0
  server.on('connection', () => connections++)
  const port = await listen(server)
  const http = client()
  for (let i = 0; i < 3; i++) {
    const answer = await http.request({
      method: 'POST',
      url: new URL(`http://127.0.0.1:${port}/`),
      headers: {},
      body: '{"n":1}',
      timeoutMs: 10_000,
    })
    expect(await readText(answer.body)).toBe('ok')
  }
  expect(connections).toBe(1)
})

it('takes an answer that comes before the body is all sent, and stops reading the body', async () => {
  const port = await listen(
    createServer((_req, res) => res.writeHead(413, { connection: 'close' }).end('too large')),
  )
  let pulled = 0
  let closed = false
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < 4096; i++) {
        pulled++
        yield Buffer.alloc(64 * 1024)
      }
    } finally {
      closed = true
    }
  }
  const answer = await client().request({
    method: 'POST',
    url: new URL(`http://127.0.0.1:${port}/`),
    headers: { 'content-length': String(4096 * 64 * 1024) },
    body: body(),
    timeoutMs: 10_000,
  })
  expect(answer.statusCode).toBe(413)
  expect(await readText(answer.body)).toBe('too large')
  await expect.poll(() => closed).toBe(true)
  expect(pulled).toBeLessThan(4096)
})

it('says in which phase nothing moved: the body not taken, no answer, an answer that stopped', async () => {
  const port = await listen(
    createServer((req, res) => {
      if (req.url === '/never-reads') return // the body stays in the socket's buffers
      req.resume()
      if (req.url === '/stalls')
        req.on('end', () => {
          res.writeHead(200, { 'content-length': '10' })
          res.write('12345')
        })
      // '/silent': reads everything, answers nothing
    }),
  )
  const http = client()
  const attempt = (where: string, body: AsyncIterable<Uint8Array> | string) =>
    http
      .request({
        method: 'POST',
        url: new URL(`http://127.0.0.1:${port}${where}`),
        headers: typeof body === 'string' ? {} : { 'content-length': String(64 << 20) },
        body,
        timeoutMs: 300,
      })
      .then((answer) => readText(answer.body))
      .catch((error: unknown) => error)
  async function* big(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 1024; i++) yield Buffer.alloc(64 * 1024)
  }

  const notTaken = await attempt('/never-reads', big())
  const silent = await attempt('/silent', 'x')
  const stalled = await attempt('/stalls', 'x')

  expect(notTaken).toBeInstanceOf(HttpTimeoutError)
  expect((notTaken as HttpTimeoutError).code).toBe('SEND_TIMEOUT')
  expect((silent as HttpTimeoutError).code).toBe('HEADERS_TIMEOUT')
  expect((stalled as HttpTimeoutError).code).toBe('BODY_TIMEOUT')
  expect(String(silent)).toMatch(/timeout: no answer within 0.3 s/)
})

it('gives up on a proxy that takes the connection and never answers CONNECT', async () => {
  const held: Socket[] = []
  const silent = createNetServer((socket) => {
    held.push(socket) // holds the connection, reads, says nothing
    socket.resume()
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of held) socket.destroy()
        silent.close(() => resolve())
      }),
  )
  const port = (silent.address() as AddressInfo).port
  const http = client({ HTTP_PROXY: `http://127.0.0.1:${port}` })
  const failure = await http
    .request({ method: 'GET', url: new URL('http://127.0.0.1:9/'), headers: {}, timeoutMs: 300 })
    .catch((error: unknown) => error)
  expect(String(failure)).toMatch(/timeout: the proxy did not answer CONNECT within 0.3 s/)
  // The tunnel's connection was given up, not left open.
  await expect.poll(() => held.every((socket) => socket.destroyed)).toBe(true)
})
