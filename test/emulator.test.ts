import { createHash, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

import { MESSAGES, WERKZEUG } from '../emulator/constants.js'
import { startEmulator, type DatasetState, type Emulator } from '../emulator/server.js'

import { call, type Json } from './helpers/emulator-call.js'

const KEY = 'owner-key'
const OTHER_KEY = 'other-key'
const UNAUTHORIZED = WERKZEUG.unauthorized
const NOT_FOUND = WERKZEUG.notFound

const sha1 = (data: string | Buffer): string => createHash('sha1').update(data).digest('hex')

/** Multipart body: fields first (in order), then the `file` part when given. */
function form(
  fields: Record<string, string | number>,
  file?: { data: string | Buffer; name: string },
): FormData {
  const fd = new FormData()
  for (const [name, value] of Object.entries(fields)) fd.append(name, String(value))
  if (file !== undefined) fd.append('file', new Blob([file.data]), file.name)
  return fd
}

/** A dataset with a file resource (position 0) and a remote one (position 1). */
function setup(
  emu: Emulator,
  owner: string,
): { dataset: DatasetState; fileId: string; remoteId: string } {
  const dataset = emu.addDataset({
    owner,
    title: `Data ${randomUUID().slice(0, 8)}`,
    resources: [
      {
        filename: 'Old Data.csv',
        content: 'a,b\n1,2\n',
        title: 'My stable title',
        description: 'kept',
        type: 'documentation',
      },
      { url: 'https://example.org/remote.csv', title: 'Remote', format: 'csv' },
    ],
  })
  return { dataset, fileId: dataset.resources[0]!.id, remoteId: dataset.resources[1]!.id }
}

describe('udata emulator (current)', () => {
  let emu: Emulator
  let owner: string

  beforeAll(async () => {
    emu = await startEmulator()
    owner = emu.addUser({ apiKey: KEY }).id
    emu.addUser({ apiKey: OTHER_KEY })
    emu.addUser({ apiKey: 'inactive-key', active: false })
  })
  afterAll(async () => {
    await emu.close()
  })
  afterEach(() => {
    emu.faults.length = 0
    vi.useRealTimers()
  })

  describe('uploads', () => {
    it('replaces the file of an existing resource in place', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const oldPath = emu.storedFilePath(dataset.id, fileId)!
      expect(existsSync(oldPath)).toBe(true)
      const before = emu.getDataset(dataset.id)!.lastModifiedInternal.getTime()
      const content = 'x,y\n3,4\n5,6\n'

      const res = await call(
        emu,
        'POST',
        `/api/1/datasets/${dataset.id}/resources/${fileId}/upload/`,
        {
          key: KEY,
          body: form({}, { data: content, name: 'Mes Données 2024.CSV' }),
        },
      )

      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        id: fileId,
        title: 'mes-donnees-2024.csv',
        description: 'kept',
        type: 'documentation',
        filetype: 'file',
        format: 'csv',
        mime: 'text/csv',
        checksum: { type: 'sha1', value: sha1(content) },
        filesize: Buffer.byteLength(content),
        latest: `${emu.url}/api/1/datasets/r/${fileId}`,
        success: true,
      })
      expect(res.body['url']).toMatch(
        new RegExp(`^${emu.url}/static/${dataset.slug}/\\d{8}-\\d{6}/mes-donnees-2024\\.csv$`),
      )
      expect(existsSync(oldPath)).toBe(false)
      const newPath = emu.storedFilePath(dataset.id, fileId)!
      expect(readFileSync(newPath, 'utf8')).toBe(content)
      expect(emu.getDataset(dataset.id)!.lastModifiedInternal.getTime()).toBeGreaterThanOrEqual(
        before,
      )
      const served = await fetch(res.body['url'] as string)
      expect(await served.text()).toBe(content)
      expect(emu.requests.at(-2)?.bodyBytes).toBeGreaterThan(content.length)
    })

    it('creates a new resource (201) at position 0', async () => {
      const { dataset } = setup(emu, owner)
      const res = await call(emu, 'POST', `/api/1/datasets/${dataset.slug}/upload/`, {
        key: KEY,
        body: form({}, { data: '{"a":1}', name: 'report.json' }),
      })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({
        title: 'report.json',
        type: 'main',
        filetype: 'file',
        description: null,
        extras: {},
        schema: null,
        mime: 'application/json',
      })
      const got = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
      expect((got.body['resources'] as Json[]).map((r) => r['id'])).toEqual([
        res.body['id'],
        ...dataset.resources.slice(1).map((r) => r.id),
      ])
      expect(got.body['resources']).toHaveLength(3)
    })

    it('refuses a missing file part and a disallowed extension', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const missing = await call(
        emu,
        'POST',
        `/api/1/datasets/${dataset.id}/resources/${fileId}/upload/`,
        { key: KEY, body: form({ filename: 'x.csv' }) },
      )
      expect(missing).toMatchObject({
        status: 400,
        body: { success: false, error: 'Missing file parameter', message: '' },
      })
      const exe = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form({}, { data: 'MZ', name: 'tool.exe' }),
      })
      expect(exe.status).toBe(400)
      expect(exe.body).toEqual({
        message: `This file type is not allowed.The allowed file type list is available at ${emu.url}/api/1/datasets/extensions/`,
      })
    })

    it('answers 500 (FileExists) for the same name in the same dataset within one second', async () => {
      const { dataset } = setup(emu, owner)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(new Date('2026-08-21T10:15:30.200Z'))
      const first = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form({}, { data: '1', name: 'same.csv' }),
      })
      vi.setSystemTime(new Date('2026-08-21T10:15:30.900Z'))
      const second = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form({}, { data: '2', name: 'same.csv' }),
      })
      expect(first.status).toBe(201)
      expect(first.body['url']).toContain('/20260821-101530/same.csv')
      expect(second).toMatchObject({ status: 500, body: { message: MESSAGES.internal } })
      vi.setSystemTime(new Date('2026-08-21T10:15:31.100Z'))
      const third = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form({}, { data: '3', name: 'same.csv' }),
      })
      expect(third.status).toBe(201)
    })

    it('accepts an upload into a remote resource, which stays remote', async () => {
      const { dataset, remoteId } = setup(emu, owner)
      const res = await call(
        emu,
        'POST',
        `/api/1/datasets/${dataset.id}/resources/${remoteId}/upload/`,
        {
          key: KEY,
          body: form({}, { data: 'r', name: 'r.csv' }),
        },
      )
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id: remoteId, filetype: 'remote', title: 'r.csv' })
      expect(res.body['url']).toContain('/static/')
    })

    it('honours X-Fields on upload responses', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const res = await call(
        emu,
        'POST',
        `/api/1/datasets/${dataset.id}/resources/${fileId}/upload/`,
        {
          key: KEY,
          body: form({}, { data: 'abc', name: 'masked.csv' }),
          headers: { 'x-fields': 'id,checksum{value},filesize' },
        },
      )
      expect(res.body).toEqual({ id: fileId, checksum: { value: sha1('abc') }, filesize: 3 })
    })
  })

  describe('chunked protocol', () => {
    const content = 'abcdefghij'.repeat(25) // 250 bytes: parts of 100, 100, 50
    const parts = [content.slice(0, 100), content.slice(100, 200), content.slice(200)]

    async function sendPart(
      path: string,
      uuid: string,
      index: number,
      opts: { chunksize?: number; filename?: string } = {},
    ): Promise<{ status: number; body: Json }> {
      const part = parts[index] as string
      const fields = {
        uuid,
        filename: opts.filename ?? 'Big File.csv',
        partindex: index,
        partbyteoffset: index * 100,
        totalparts: 3,
        chunksize: opts.chunksize ?? part.length,
      }
      return call(emu, 'POST', path, { key: KEY, body: form(fields, { data: part, name: 'blob' }) })
    }

    it('stores parts, refuses a size mismatch and a re-sent part, then combines them in index order', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/resources/${fileId}/upload/`
      const uuid = randomUUID()

      expect((await sendPart(path, uuid, 2)).body).toEqual({
        success: true,
        error: null,
        message: '',
      })
      const mismatch = await sendPart(path, uuid, 0, { chunksize: 99 })
      expect([mismatch.status, mismatch.body]).toEqual([
        400,
        { success: false, error: 'Chunk size mismatch', message: '' },
      ])
      expect((await sendPart(path, uuid, 0)).status).toBe(200)
      expect((await sendPart(path, uuid, 1)).status).toBe(200)
      expect(await sendPart(path, uuid, 1)).toMatchObject({
        status: 500,
        body: { message: MESSAGES.internal },
      })
      const chunkDir = join(emu.dataDir, 'chunks', uuid)
      expect(readdirSync(chunkDir).sort()).toEqual(['0', '1', '2', 'meta.json'])
      expect(JSON.parse(readFileSync(join(chunkDir, 'meta.json'), 'utf8'))).toMatchObject({
        uuid,
        filename: 'Big File.csv',
        totalparts: 3,
      })
      expect(emu.getResource(dataset.id, fileId)!.title).toBe('My stable title') // parts never touch the resource

      const final = await call(emu, 'POST', path, {
        key: KEY,
        body: form({ uuid, filename: 'Big File.csv', totalparts: 3 }),
      })
      expect(final.status).toBe(200)
      expect(final.body).toMatchObject({
        id: fileId,
        title: 'big-file.csv',
        filesize: 250,
        checksum: { type: 'sha1', value: sha1(content) },
      })
      expect(readFileSync(emu.storedFilePath(dataset.id, fileId)!, 'utf8')).toBe(content)
      expect(existsSync(chunkDir)).toBe(false)

      const again = await call(emu, 'POST', path, {
        key: KEY,
        body: form({ uuid, filename: 'Big File.csv', totalparts: 3 }),
      })
      expect(again.status).toBe(500) // parts consumed by the successful finalisation
    })

    it('keeps the parts after a failed finalisation (missing part, refused extension)', async () => {
      const { dataset } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/upload/`
      const uuid = randomUUID()
      await sendPart(path, uuid, 0, { filename: 'archive.exe' })
      await sendPart(path, uuid, 2, { filename: 'archive.exe' })

      const missing = await call(emu, 'POST', path, {
        key: KEY,
        body: form({ uuid, filename: 'data.csv', totalparts: 3 }),
      })
      expect(missing).toMatchObject({ status: 500, body: { message: MESSAGES.internal } })
      await sendPart(path, uuid, 1, { filename: 'archive.exe' })
      const refused = await call(emu, 'POST', path, {
        key: KEY,
        body: form({ uuid, filename: 'archive.exe', totalparts: 3 }),
      })
      expect(refused.status).toBe(400)
      expect(refused.body['message']).toMatch(
        /^This file type is not allowed\.The allowed file type list is available at /,
      )
      expect(readdirSync(join(emu.dataDir, 'chunks', uuid)).sort()).toEqual([
        '0',
        '1',
        '2',
        'meta.json',
      ])
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(2)

      const retried = await call(emu, 'POST', path, {
        key: KEY,
        body: form({ uuid, filename: 'archive.csv', totalparts: 3 }),
      })
      expect(retried.status).toBe(201)
      expect(retried.body).toMatchObject({
        title: 'archive.csv',
        filesize: 250,
        checksum: { value: sha1(content) },
      })
    })

    it('checks permissions on every chunk request and validates integer fields', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/resources/${fileId}/upload/`
      const part = await call(emu, 'POST', path, {
        key: OTHER_KEY,
        body: form(
          { uuid: randomUUID(), partindex: 0, totalparts: 3, chunksize: 1 },
          { data: 'x', name: 'blob' },
        ),
      })
      expect(part).toMatchObject({
        status: 403,
        body: { message: 'You do not have the permission to modify that object.' },
      })
      const bad = await call(emu, 'POST', path, {
        key: KEY,
        body: form(
          { uuid: randomUUID(), partindex: 'abc', totalparts: 3 },
          { data: 'x', name: 'blob' },
        ),
      })
      expect(bad.status).toBe(400)
      expect(bad.body).toMatchObject({
        errors: { partindex: expect.any(String) },
        message: 'Input payload validation failed',
      })
    })
  })

  describe('authentication and error shapes', () => {
    it('validates a present key on every request', async () => {
      const { dataset } = setup(emu, owner)
      const bad = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`, { key: 'nope' })
      expect(bad).toMatchObject({ status: 401, body: { message: 'Invalid API token' } })
      expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="uData"')
      expect(
        await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`, { key: 'inactive-key' }),
      ).toMatchObject({
        status: 401,
        body: { message: 'Inactive user' },
      })
    })

    it('answers 401 without key on writes, 403 for another user, permissions on GET', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const anonymous = await call(
        emu,
        'PUT',
        `/api/1/datasets/${dataset.id}/resources/${fileId}/`,
        { json: { title: 't' } },
      )
      expect(anonymous).toMatchObject({ status: 401, body: { message: UNAUTHORIZED } })
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="uData"')
      const other = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: OTHER_KEY,
        body: form({}, { data: 'a', name: 'a.csv' }),
      })
      expect(other).toMatchObject({
        status: 403,
        body: { message: 'You do not have the permission to modify that object.' },
      })
      expect(
        (await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`, { key: KEY })).body[
          'permissions'
        ],
      ).toEqual({
        delete: true,
        edit: true,
        edit_resources: true,
      })
      expect(
        (await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`, { key: OTHER_KEY })).body[
          'permissions'
        ],
      ).toEqual({
        delete: false,
        edit: false,
        edit_resources: false,
      })
    })

    it('uses udata 404/405/410 shapes', async () => {
      const { dataset } = setup(emu, owner)
      expect(await call(emu, 'GET', '/api/1/datasets/does-not-exist/')).toEqual(
        expect.objectContaining({ status: 404, body: { message: NOT_FOUND } }),
      )
      expect(
        await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${randomUUID()}/`, {
          key: KEY,
          json: {},
        }),
      ).toMatchObject({
        status: 404,
        body: { message: 'Resource does not exist' },
      })
      expect(
        await call(emu, 'GET', `/api/1/datasets/${dataset.id}/resources/not-a-uuid/`),
      ).toMatchObject({
        status: 404,
        body: { error: NOT_FOUND, status: 404 },
      })
      expect(
        await call(emu, 'PATCH', `/api/1/datasets/${dataset.id}/`, { key: KEY, json: {} }),
      ).toMatchObject({
        status: 405,
        body: { message: 'The method is not allowed for the requested URL.' },
      })
      const hidden = emu.addDataset({ owner, private: true })
      expect(
        (await call(emu, 'GET', `/api/1/datasets/${hidden.id}/`, { key: OTHER_KEY })).status,
      ).toBe(404)
      expect((await call(emu, 'GET', `/api/1/datasets/${hidden.id}/`, { key: KEY })).status).toBe(
        200,
      )
      const gone = emu.addDataset({ owner, deleted: true })
      expect(await call(emu, 'GET', `/api/1/datasets/${gone.id}/`)).toMatchObject({
        status: 410,
        body: { message: 'Dataset has been deleted' },
      })
      expect(
        await call(emu, 'PUT', `/api/1/datasets/${gone.id}/`, { key: KEY, json: { title: 'x' } }),
      ).toMatchObject({ status: 410 })
    })

    it('redirects slash-less paths and old slugs with 308', async () => {
      const dataset = emu.addDataset({ owner, slug: 'current-slug', oldSlugs: ['former-slug'] })
      const slash = await call(emu, 'GET', `/api/1/datasets/${dataset.id}`)
      expect(slash.status).toBe(308)
      expect(slash.headers.get('location')).toBe(`${emu.url}/api/1/datasets/${dataset.id}/`)
      const moved = await call(emu, 'POST', '/api/1/datasets/former-slug/upload/', {
        key: KEY,
        body: form({}, { data: 'a', name: 'a.csv' }),
      })
      expect(moved.status).toBe(308)
      expect(moved.headers.get('location')).toBe('/api/1/datasets/current-slug/upload/')
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(0)
    })

    it('checks the Content-Type and the shape of JSON bodies', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/resources/${fileId}/`
      expect(
        await call(emu, 'PUT', path, {
          key: KEY,
          body: '{}',
          headers: { 'content-type': 'text/plain' },
        }),
      ).toMatchObject({
        status: 400,
        body: { errors: { 'Content-Type': 'expecting application/json' } },
      })
      expect(await call(emu, 'PUT', path, { key: KEY, json: [1] })).toMatchObject({
        status: 400,
        body: { errors: { request: 'expecting a JSON object' } },
      })
    })
  })

  describe('metadata', () => {
    it('applies partial PUTs on resources, keeping protected fields of hosted files', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const stored = { ...emu.getResource(dataset.id, fileId)! }
      const path = `/api/1/datasets/${dataset.id}/resources/${fileId}/`

      const partial = await call(emu, 'PUT', path, {
        key: KEY,
        json: { description: 'new description' },
      })
      expect(partial.status).toBe(200)
      expect(partial.body).toMatchObject({
        title: 'My stable title',
        description: 'new description',
        type: 'documentation',
      })
      expect(partial.body).not.toHaveProperty('success')

      const stale = await call(emu, 'PUT', path, {
        key: KEY,
        json: {
          title: 'Restored',
          url: 'https://example.org/elsewhere.csv',
          checksum: { type: 'md5', value: 'x' },
          filesize: 1,
          mime: 'text/plain',
          format: 'TXT',
          extras: { a: 1 },
        },
      })
      expect(stale.status).toBe(200)
      expect(stale.body).toMatchObject({
        title: 'Restored',
        url: stored.url,
        checksum: stored.checksum,
        filesize: stored.filesize,
        mime: stored.mime,
        format: stored.format,
        extras: { a: 1 },
      })

      expect(await call(emu, 'PUT', path, { key: KEY, json: { title: null } })).toEqual(
        expect.objectContaining({
          status: 400,
          body: { errors: { title: ['This field is required.'] } },
        }),
      )
      expect((await call(emu, 'PUT', path, { key: KEY, json: { title: '' } })).status).toBe(400)
      expect(
        await call(emu, 'PUT', path, { key: KEY, json: { filetype: 'remote' } }),
      ).toMatchObject({
        status: 400,
        body: { message: 'Cannot modify filetype after creation' },
      })
      expect(await call(emu, 'PUT', path, { key: KEY, json: { type: 'bogus' } })).toMatchObject({
        status: 400,
        body: { errors: { type: expect.any(Array) } },
      })
      expect(
        (await call(emu, 'PUT', path, { key: KEY, json: { title: 'x'.repeat(351) } })).status,
      ).toBe(400)

      const before = emu.getResource(dataset.id, fileId)!.lastModifiedInternal.getTime()
      await new Promise((r) => setTimeout(r, 5))
      const touched = await call(emu, 'PUT', path, { key: KEY, json: {} })
      expect(touched.status).toBe(200)
      expect(
        Date.parse((touched.body['internal'] as Json)['last_modified_internal'] as string),
      ).toBeGreaterThan(before)
    })

    it('lets remote resources change url, format, checksum and clears with null', async () => {
      const { dataset, remoteId } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/resources/${remoteId}/`
      const res = await call(emu, 'PUT', path, {
        key: KEY,
        json: {
          url: 'https://example.org/v2.csv',
          format: ' CSV ',
          checksum: { value: 'abc' },
          filesize: 12,
          description: 'd',
        },
      })
      expect(res.body).toMatchObject({
        url: 'https://example.org/v2.csv',
        format: 'csv',
        checksum: { type: 'sha1', value: 'abc' },
        filesize: 12,
        filetype: 'remote',
      })
      const cleared = await call(emu, 'PUT', path, {
        key: KEY,
        json: { checksum: null, description: null },
      })
      expect(cleared.body).toMatchObject({ checksum: null, description: null, title: 'Remote' })
    })

    it('creates remote resources with the form defaults', async () => {
      const { dataset } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/resources/`
      expect(
        await call(emu, 'POST', path, {
          key: KEY,
          json: { title: 'T', url: 'https://example.org/a.csv' },
        }),
      ).toMatchObject({
        status: 400,
        body: { message: 'This endpoint only supports remote resources' },
      })
      expect(
        await call(emu, 'POST', path, { key: KEY, json: { filetype: 'remote' } }),
      ).toMatchObject({
        status: 400,
        body: { errors: { title: ['This field is required.'], url: ['This field is required.'] } },
      })
      const created = await call(emu, 'POST', path, {
        key: KEY,
        json: { filetype: 'remote', title: 'T', url: 'https://example.org/a.csv', id: 'ignored' },
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({
        filetype: 'remote',
        type: 'other',
        title: 'T',
        url: 'https://example.org/a.csv',
      })
      expect(created.body['id']).not.toBe('ignored')
      expect(emu.getDataset(dataset.id)!.resources[0]!.id).toBe(created.body['id'])
    })

    it('updates datasets partially, renames the slug with its title, and validates lists', async () => {
      const { dataset } = setup(emu, owner)
      const oldSlug = dataset.slug
      const res = await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/`, {
        key: KEY,
        json: { title: 'Brand New Title', frequency: 'daily', slug: 'ignored' },
      })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        title: 'Brand New Title',
        slug: 'brand-new-title',
        frequency: 'daily',
        private: false,
      })
      expect(res.body['resources']).toHaveLength(2)
      const redirected = await call(emu, 'GET', `/api/1/datasets/${oldSlug}/`)
      expect(redirected.status).toBe(308)
      expect(redirected.headers.get('location')).toBe('/api/1/datasets/brand-new-title/')
      // v17: an unknown frequency is a ValueError answered before the form; an unknown license is none.
      expect(
        await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/`, {
          key: KEY,
          json: { frequency: 'sometimes', license: 'nope' },
        }),
      ).toMatchObject({
        status: 400,
        body: { message: "'sometimes' is not a valid UpdateFrequency" },
      })
      const unknownLicense = await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/`, {
        key: KEY,
        json: { license: 'nope' },
      })
      expect(unknownLicense.status).toBe(200)
      expect(unknownLicense.body['license']).toBe('notspecified')
      expect(unknownLicense.body['quality']).toMatchObject({ license: false })
      const replaced = await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/`, {
        key: KEY,
        json: { resources: [{ id: dataset.resources[1]!.id }] },
      })
      expect(replaced.body['resources']).toHaveLength(1)
    })

    it('wipes tags and temporal coverage a body leaves out, as the udata form does', async () => {
      const { dataset } = setup(emu, owner)
      const path = `/api/1/datasets/${dataset.id}/`
      const full = await call(emu, 'PUT', path, {
        key: KEY,
        json: {
          tags: ['Eau Potable', 'données', 'a_b.c', 'eau-potable'],
          temporal_coverage: { start: '2020-01-01', end: '2020-12-31' },
          private: true,
          acronym: 'EP',
          frequency: 'monthly',
          frequency_date: '2030-01-02T03:04:05',
        },
      })
      expect(full.body).toMatchObject({
        tags: ['a-b-c', 'donnees', 'eau-potable'],
        temporal_coverage: { start: '2020-01-01', end: '2020-12-31' },
        acronym: 'EP',
        frequency_date: '2030-01-02T03:04:05+00:00',
      })
      expect(full.body['quality']).toMatchObject({
        temporal_coverage: true,
        update_frequency: true,
        update_fulfilled_in_time: true,
      })
      // An empty body is no form data: nothing changes.
      expect((await call(emu, 'PUT', path, { key: KEY, json: {} })).body['tags']).toHaveLength(3)
      const partial = await call(emu, 'PUT', path, { key: KEY, json: { description: 'Again' } })
      expect(partial.body).toMatchObject({
        tags: [],
        temporal_coverage: null,
        private: true,
        acronym: 'EP',
        frequency: 'monthly',
      })
      expect(
        await call(emu, 'PUT', path, { key: KEY, json: { tags: ['ok-tag', 'b'] } }),
      ).toMatchObject({
        status: 400,
        body: { errors: { tags: ['Tag "b" must be between 3 and 96 characters long.'] } },
      })
      expect(await call(emu, 'PUT', path, { key: KEY, json: { frequency: '' } })).toMatchObject({
        status: 400,
        body: { message: "'' is not a valid UpdateFrequency" },
      })
    })

    it('merges extras through API v2 without bumping last_modified, and paginates resources', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const before = emu.getResource(dataset.id, fileId)!.lastModifiedInternal.getTime()
      const merged = await call(
        emu,
        'PUT',
        `/api/2/datasets/${dataset.id}/resources/${fileId}/extras/`,
        { key: KEY, json: { a: 1, b: 2 } },
      )
      expect(merged).toMatchObject({ status: 200, body: { a: 1, b: 2 } })
      await call(emu, 'PUT', `/api/2/datasets/${dataset.id}/resources/${fileId}/extras/`, {
        key: KEY,
        json: { a: null },
      })
      expect(emu.getResource(dataset.id, fileId)!.extras).toEqual({ b: 2 })
      expect(
        (
          await call(emu, 'DELETE', `/api/2/datasets/${dataset.id}/resources/${fileId}/extras/`, {
            key: KEY,
            json: ['b'],
          })
        ).status,
      ).toBe(204)
      expect(emu.getResource(dataset.id, fileId)!.extras).toEqual({})
      expect(emu.getResource(dataset.id, fileId)!.lastModifiedInternal.getTime()).toBe(before)

      const page = await call(
        emu,
        'GET',
        `/api/2/datasets/${dataset.id}/resources/?page=1&page_size=1`,
      )
      expect(page.body).toMatchObject({ page: 1, page_size: 1, total: 2 })
      expect(page.body['data']).toHaveLength(1)
      expect(page.body['next_page']).toContain('page=2')
    })

    it('serves lists, the latest redirect and stored files (HEAD, Range)', async () => {
      const { dataset, fileId } = setup(emu, owner)
      const extensions = await call(emu, 'GET', '/api/1/datasets/extensions/')
      expect(extensions.body).toContain('parquet')
      expect(extensions.body).toEqual([...(extensions.body as unknown as string[])].sort())
      expect((await call(emu, 'GET', '/api/1/datasets/frequencies/')).body).toContainEqual({
        id: 'daily',
        label: 'Daily',
      })
      expect((await call(emu, 'GET', '/api/1/datasets/licenses/')).body).toContainEqual(
        expect.objectContaining({ id: 'lov2' }),
      )
      expect((await call(emu, 'GET', '/api/1/datasets/resource_types/')).body).toContainEqual({
        id: 'main',
        label: 'Main file',
      })

      const latest = await call(emu, 'GET', `/api/1/datasets/r/${fileId}`)
      expect(latest.status).toBe(302)
      const url = emu.getResource(dataset.id, fileId)!.url
      expect(latest.headers.get('location')).toBe(url)
      const head = await fetch(url, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-length')).toBe('8')
      expect(head.headers.get('etag')).toBeTruthy()
      expect(head.headers.get('last-modified')).toBeTruthy()
      const range = await fetch(url, { headers: { range: 'bytes=0-0' } })
      expect(range.status).toBe(206)
      expect(await range.text()).toBe('a')
      expect(range.headers.get('content-range')).toBe('bytes 0-0/8')

      const deleted = await call(
        emu,
        'DELETE',
        `/api/1/datasets/${dataset.id}/resources/${fileId}/`,
        { key: KEY },
      )
      expect(deleted.status).toBe(204)
      expect((await fetch(url)).status).toBe(404)
    })
  })

  describe('recording and faults', () => {
    it('records requests without the key in any URL', async () => {
      const { dataset } = setup(emu, owner)
      emu.resetRequests()
      await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`, { key: KEY })
      await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
        key: KEY,
        body: form({ note: 'n' }, { data: 'a', name: 'r.csv' }),
      })
      expect(emu.requests.map((r) => [r.method, r.status])).toEqual([
        ['GET', 200],
        ['POST', 201],
      ])
      expect(emu.requests[1]!.fields).toEqual({ note: 'n' })
      expect(emu.requests[0]!.headers['x-api-key']).toBe(KEY)
      expect(emu.requests.every((r) => !r.path.includes(KEY))).toBe(true)
    })

    it('answers an injected status with Retry-After on the n-th match only', async () => {
      const { dataset } = setup(emu, owner)
      emu.faults.push({
        method: 'GET',
        path: `/datasets/${dataset.id}/$`,
        nth: 2,
        status: 503,
        retryAfter: '1',
      })
      expect((await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)).status).toBe(200)
      const second = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
      expect(second.status).toBe(503)
      expect(second.headers.get('retry-after')).toBe('1')
      expect(emu.requests.at(-1)!.fault).toBe('status:503')
      expect((await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)).status).toBe(200)
    })

    it('drops the connection after some body bytes without handling the request', async () => {
      const { dataset } = setup(emu, owner)
      emu.faults.push({ method: 'POST', path: '/upload/$', dropAfterBytes: 1000 })
      await expect(
        call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
          key: KEY,
          body: form({}, { data: Buffer.alloc(256 * 1024, 97), name: 'big.csv' }),
        }),
      ).rejects.toThrow()
      expect(emu.getDataset(dataset.id)!.resources).toHaveLength(2)
      expect(emu.requests.at(-1)).toMatchObject({ status: 0, fault: 'dropAfterBytes:1000' })
    })

    it('loses the response of a request whose effect still happens', async () => {
      const { dataset, fileId } = setup(emu, owner)
      emu.faults.push({ method: 'PUT', times: 1, loseResponse: true })
      await expect(
        call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${fileId}/`, {
          key: KEY,
          json: { title: 'changed' },
        }),
      ).rejects.toThrow()
      expect(emu.getResource(dataset.id, fileId)!.title).toBe('changed')
      expect(
        (
          await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/${fileId}/`, {
            key: KEY,
            json: {},
          })
        ).status,
      ).toBe(200)
    })

    it('takes fault rules and serves state through the admin endpoints', async () => {
      const { dataset } = setup(emu, owner)
      const added = await fetch(`${emu.url}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify([{ path: '/extensions/', status: 429, retryAfter: '2', times: 1 }]),
      })
      expect(added.status).toBe(200)
      expect((await call(emu, 'GET', '/api/1/datasets/extensions/')).status).toBe(429)
      expect((await call(emu, 'GET', '/api/1/datasets/extensions/')).status).toBe(200)
      expect((await fetch(`${emu.url}/__emulator/faults`, { method: 'DELETE' })).status).toBe(204)
      expect(emu.faults).toHaveLength(0)
      const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as {
        datasets: Json[]
      }
      expect(state.datasets.map((d) => d['id'])).toContain(dataset.id)
      const recorded = (await (await fetch(`${emu.url}/__emulator/requests`)).json()) as Json[]
      expect(recorded.length).toBeGreaterThan(0)
      expect(JSON.stringify(recorded)).not.toContain(KEY)
    })
  })
})

describe('udata emulator (options)', () => {
  it('uses a suffixed folder instead of FileExists when sameSecondConflict is false', async () => {
    const emu = await startEmulator({ sameSecondConflict: false })
    try {
      const owner = emu.addUser({ apiKey: KEY }).id
      const dataset = emu.addDataset({ owner, slug: 'same' })
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(new Date('2026-08-21T10:15:30.200Z'))
      const urls: unknown[] = []
      for (const data of ['1', '2']) {
        const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/`, {
          key: KEY,
          body: form({}, { data, name: 'same.csv' }),
        })
        expect(res.status).toBe(201)
        urls.push(res.body['url'])
      }
      expect(urls).toEqual([
        `${emu.url}/static/same/20260821-101530/same.csv`,
        `${emu.url}/static/same/20260821-101530-2/same.csv`,
      ])
    } finally {
      vi.useRealTimers()
      await emu.close()
    }
  })

  it('removes its temporary data folder on close', async () => {
    const emu = await startEmulator()
    expect(existsSync(emu.dataDir)).toBe(true)
    await emu.close()
    expect(existsSync(emu.dataDir)).toBe(false)
  })
})

describe('udata emulator (legacy)', () => {
  let emu: Emulator
  let datasetId: string

  beforeAll(async () => {
    emu = await startEmulator({ version: 'legacy' })
    const owner = emu.addUser({ apiKey: KEY }).id
    datasetId = emu.addDataset({ owner, resources: [{ filename: 'data.csv', content: 'a\n' }] }).id
  })
  afterAll(async () => {
    await emu.close()
  })

  it('uses the pre-v16 bad key message', async () => {
    expect(await call(emu, 'GET', `/api/1/datasets/${datasetId}/`, { key: 'bad' })).toMatchObject({
      status: 401,
      body: { message: 'Invalid API Key' },
    })
  })

  it('combines chunks without extension check, deleting them', async () => {
    const uuid = randomUUID()
    const path = `/api/1/datasets/${datasetId}/upload/`
    for (const [index, part] of ['abc', 'de'].entries()) {
      const res = await call(emu, 'POST', path, {
        key: KEY,
        body: form(
          { uuid, filename: 'tool.exe', partindex: index, totalparts: 2, chunksize: part.length },
          { data: part, name: 'blob' },
        ),
      })
      expect(res.status).toBe(200)
    }
    const final = await call(emu, 'POST', path, {
      key: KEY,
      body: form({ uuid, filename: 'tool.exe', totalparts: 2 }),
    })
    expect(final).toMatchObject({
      status: 201,
      body: { title: 'tool.exe', filesize: 5, checksum: { type: 'sha1', value: sha1('abcde') } },
    })
    expect(existsSync(join(emu.dataDir, 'chunks', uuid))).toBe(false)
  })

  it('resets private when a dataset PUT leaves it out, and fails on an empty frequency (v7)', async () => {
    const path = `/api/1/datasets/${datasetId}/`
    await call(emu, 'PUT', path, { key: KEY, json: { private: true } })
    const partial = await call(emu, 'PUT', path, { key: KEY, json: { description: 'd' } })
    expect(partial.body['private']).toBe(false)
    expect((await call(emu, 'PUT', path, { key: KEY, json: { frequency: '' } })).status).toBe(500)
    const frequencies = await call(emu, 'GET', '/api/1/datasets/frequencies/')
    expect(frequencies.body).toContainEqual({ id: 'fourTimesADay', label: 'Four times a day' })
  })

  it('protects only the url of hosted files', async () => {
    const rid = emu.getDataset(datasetId)!.resources.find((r) => r.title === 'data.csv')!.id
    const res = await call(emu, 'PUT', `/api/1/datasets/${datasetId}/resources/${rid}/`, {
      key: KEY,
      json: {
        url: 'https://example.org/x.csv',
        checksum: { type: 'md5', value: 'stale' },
        filesize: 1,
      },
    })
    expect(res.body).toMatchObject({ checksum: { type: 'md5', value: 'stale' }, filesize: 1 })
    expect(res.body['url']).toContain('/static/')
  })
})
