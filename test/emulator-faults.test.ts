import { request } from 'node:http'

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { NGINX_413 } from '../emulator/proxy.js'
import { startEmulator, type DatasetState, type Emulator } from '../emulator/server.js'

import { call } from './helpers/emulator-call.js'

/** Fault rules a "trust" test needs (emulator/README.md), through the API and the admin endpoint. */

const KEY = 'faults-owner'
const OTHER = 'faults-other'

function form(data: string | Buffer, name: string): FormData {
  const fd = new FormData()
  fd.append('file', new Blob([data]), name)
  return fd
}

/** A raw request with node:http, to see exactly what a client that is still sending receives. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('emulator fault rules', () => {
  let emu: Emulator
  let owner: string
  let dataset: DatasetState

  beforeAll(async () => {
    emu = await startEmulator()
    owner = emu.addUser({ apiKey: KEY }).id
    emu.addUser({ apiKey: OTHER })
  })
  afterAll(async () => {
    await emu.close()
  })
  afterEach(() => {
    emu.faults.length = 0
  })
  const fresh = (): DatasetState => {
    dataset = emu.addDataset({
      owner,
      title: `Faults ${Math.random().toString(36).slice(2, 8)}`,
      resources: [{ filename: 'a.csv', content: 'a\n1\n' }],
    })
    return dataset
  }

  describe('maxBodyBytes: a reverse proxy body limit', () => {
    it('answers nginx 413 from Content-Length without handling the request', async () => {
      fresh()
      emu.faults.push({ method: 'POST', path: '/upload/$', maxBodyBytes: 1000 })
      const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form(Buffer.alloc(5000, 97), 'big.csv'),
      })
      expect(res.status).toBe(413)
      expect(res.headers.get('content-type')).toBe('text/html')
      expect(res.text).toBe(NGINX_413)
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(1)
      expect(emu.requests.at(-1)).toMatchObject({ status: 413, fault: 'maxBodyBytes:1000' })
      // a small body on the same route goes through
      expect(
        (
          await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
            key: KEY,
            body: form('x\n1\n', 'small.csv'),
          })
        ).status,
      ).toBe(201)
    })

    it('lets a client that is still sending a large body read the answer', async () => {
      fresh()
      emu.faults.push({ method: 'POST', path: '/upload/$', maxBodyBytes: 1024 })
      const body = Buffer.alloc(8 * 1024 * 1024, 98)
      const res = await rawPost(
        `${emu.url}/api/1/datasets/${dataset.id}/upload/`,
        {
          'x-api-key': KEY,
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
        },
        body,
      )
      expect(res.status).toBe(413)
      expect(res.text).toBe(NGINX_413)
      expect(res.headers['connection']).toBe('close')
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(1)
    })

    it('counts a chunked body as it arrives', async () => {
      fresh()
      await fetch(`${emu.url}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({ method: 'POST', path: '/upload/$', maxBodyBytes: 2000 }),
      })
      const multipart = new Response(form(Buffer.alloc(10_000, 99), 'chunked.csv'))
      const stream = multipart.body!
      const headers = { 'x-api-key': KEY, 'content-type': multipart.headers.get('content-type')! }
      const res = await fetch(`${emu.url}/api/1/datasets/${dataset.id}/upload/`, {
        method: 'POST',
        headers,
        body: stream,
        duplex: 'half',
      })
      expect(res.status).toBe(413)
      expect(await res.text()).toBe(NGINX_413)
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(1)

      const small = new Response(form('x\n', 'fits.csv'))
      const ok = await fetch(`${emu.url}/api/1/datasets/${dataset.id}/upload/`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': small.headers.get('content-type')! },
        body: small.body,
        duplex: 'half',
      })
      expect(ok.status).toBe(201)
    })
  })

  describe('delayMs: a slow server that finishes what the client gave up on', () => {
    it('creates the resource once although the client timed out after 1 s', async () => {
      fresh()
      emu.faults.push({ method: 'POST', path: '/upload/$', times: 1, delayMs: 4500 })
      await expect(
        call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
          key: KEY,
          body: form('id\n1\n', 'slow.csv'),
          signal: AbortSignal.timeout(1000),
        }),
      ).rejects.toThrow()
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(1) // not yet
      // The server finishes on its own once the delay is over: wait for it, not for a time.
      while (emu.getDataset(dataset.id)!.resources.length < 2)
        await new Promise((r) => setTimeout(r, 50))
      const resources = emu.getDataset(dataset.id)!.resources
      expect(resources).toHaveLength(2)
      expect(resources.filter((r) => r.title === 'slow.csv')).toHaveLength(1)
      expect(emu.requests.at(-1)).toMatchObject({ status: 0, fault: 'delayMs:4500' })
    }, 15_000)
  })

  describe('a rule without nth / times', () => {
    it('fails every matching resource PUT, and v2 extras PUTs are matched separately', async () => {
      fresh()
      const rid = dataset.resources[0]!.id
      emu.faults.push({ method: 'PUT', path: '/resources/[0-9a-f-]{36}/$', status: 500 })
      for (let i = 0; i < 3; i++) {
        expect(
          (
            await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${rid}/`, {
              key: KEY,
              json: { title: `t${i}` },
            })
          ).status,
        ).toBe(500)
      }
      expect(emu.getResource(dataset.id, rid)!.title).not.toMatch(/^t\d$/)
      const extras = `/api/2/datasets/${dataset.id}/resources/${rid}/extras/`
      expect((await call(emu, 'PUT', extras, { key: KEY, json: { a: 1 } })).status).toBe(200)
      emu.faults.unshift({ method: 'PUT', path: '^/api/2/.*/extras/$', status: 503 })
      expect((await call(emu, 'PUT', extras, { key: KEY, json: { b: 2 } })).status).toBe(503)
      expect((await call(emu, 'PUT', extras, { key: KEY, json: { b: 2 } })).status).toBe(503)
      expect(emu.getResource(dataset.id, rid)!.extras).toEqual({ a: 1 })
    })
  })

  describe('a gateway page instead of JSON', () => {
    it('sends a string body with the content type given', async () => {
      fresh()
      const page =
        '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>'
      const added = await fetch(`${emu.url}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({
          method: 'GET',
          times: 1,
          status: 502,
          body: page,
          contentType: 'text/html',
        }),
      })
      expect(added.status).toBe(200)
      const res = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
      expect(res.status).toBe(502)
      expect(res.headers.get('content-type')).toBe('text/html')
      expect(res.text).toBe(page)
      const bad = await fetch(`${emu.url}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({ maxBodyBytes: '10' }),
      })
      expect(bad.status).toBe(400)
    })
  })
})
