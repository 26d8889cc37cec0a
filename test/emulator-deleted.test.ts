import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { call } from './helpers/emulator-call.js'

import { startEmulator, type DatasetState, type Emulator } from '../emulator/server.js'

/** Deleted and archived datasets, as udata's views treat them (emulator/README.md). */

const KEY = 'deleted-owner'
const OTHER = 'deleted-other'

function upload(name: string): FormData {
  const fd = new FormData()
  fd.append('file', new Blob(['id\n1\n']), name)
  return fd
}

describe('deleted and archived datasets', () => {
  let emu: Emulator
  let owner: string
  let deleted: DatasetState
  let rid: string

  beforeAll(async () => {
    emu = await startEmulator()
    owner = emu.addUser({ apiKey: KEY }).id
    emu.addUser({ apiKey: OTHER })
    deleted = emu.addDataset({
      owner,
      title: 'Gone',
      deleted: true,
      resources: [{ filename: 'a.csv', content: 'a\n' }],
    })
    rid = deleted.resources[0]!.id
  })
  afterAll(async () => {
    await emu.close()
  })

  it('is read by its owner (200, deleted set) and 410 to anyone else', async () => {
    const mine = await call(emu, 'GET', `/api/1/datasets/${deleted.id}/`, { key: KEY })
    expect(mine.status).toBe(200)
    expect(mine.body['deleted']).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/)
    expect((await call(emu, 'GET', `/api/1/datasets/${deleted.id}/`, { key: OTHER })).body).toEqual(
      { message: 'Dataset has been deleted' },
    )
    expect((await call(emu, 'GET', `/api/1/datasets/${deleted.id}/`)).status).toBe(410)
    expect((await call(emu, 'GET', `/api/1/datasets/${deleted.id}/resources/${rid}/`)).status).toBe(
      410,
    )
    expect(
      (await call(emu, 'GET', `/api/1/datasets/${deleted.id}/resources/${rid}/`, { key: KEY }))
        .status,
    ).toBe(200)
    expect((await call(emu, 'GET', `/api/2/datasets/resources/${rid}/`)).status).toBe(410)
    expect((await call(emu, 'GET', `/api/2/datasets/${deleted.id}/resources/`)).status).toBe(410)
  })

  it('is 404 to others when it is also private', async () => {
    const hidden = emu.addDataset({ owner, title: 'Hidden and gone', deleted: true, private: true })
    expect((await call(emu, 'GET', `/api/1/datasets/${hidden.id}/`, { key: OTHER })).status).toBe(
      404,
    )
    expect((await call(emu, 'GET', `/api/1/datasets/${hidden.id}/`, { key: KEY })).status).toBe(200)
  })

  it('refuses a dataset PUT (410) unless it restores, and v2 extras writes even for the owner', async () => {
    expect(
      (await call(emu, 'PUT', `/api/1/datasets/${deleted.id}/`, { key: KEY, json: { title: 'x' } }))
        .status,
    ).toBe(410)
    expect(
      (
        await call(emu, 'PUT', `/api/2/datasets/${deleted.id}/extras/`, {
          key: KEY,
          json: { a: 1 },
        })
      ).status,
    ).toBe(410)
    expect(
      (
        await call(emu, 'PUT', `/api/2/datasets/${deleted.id}/resources/${rid}/extras/`, {
          key: KEY,
          json: { a: 1 },
        })
      ).status,
    ).toBe(410)
    expect(
      (
        await call(emu, 'DELETE', `/api/2/datasets/${deleted.id}/resources/${rid}/extras/`, {
          key: KEY,
          json: ['a'],
        })
      ).status,
    ).toBe(410)
    // payload shape is checked first
    expect(
      (await call(emu, 'PUT', `/api/2/datasets/${deleted.id}/extras/`, { key: KEY, json: [] }))
        .status,
    ).toBe(400)
  })

  it('takes uploads and resource writes from its owner, as udata does (no deleted check there)', async () => {
    const created = await call(emu, 'POST', `/api/1/datasets/${deleted.id}/upload/`, {
      key: KEY,
      body: upload('late.csv'),
    })
    expect(created.status).toBe(201)
    expect(emu.getDataset(deleted.id)!.resources.map((r) => r.title)).toContain('late.csv')
    expect(
      (
        await call(emu, 'POST', `/api/1/datasets/${deleted.id}/resources/${rid}/upload/`, {
          key: KEY,
          body: upload('again.csv'),
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await call(emu, 'PUT', `/api/1/datasets/${deleted.id}/resources/${rid}/`, {
          key: KEY,
          json: { title: 'Kept' },
        })
      ).status,
    ).toBe(200)
    expect(emu.getDataset(deleted.id)!.deleted).not.toBeNull()
    expect(
      (
        await call(emu, 'POST', `/api/1/datasets/${deleted.id}/upload/`, {
          key: OTHER,
          body: upload('intruder.csv'),
        })
      ).status,
    ).toBe(403)
  })

  it('restores with deleted: null', async () => {
    const other = emu.addDataset({ owner, title: 'Back', deleted: true })
    const res = await call(emu, 'PUT', `/api/1/datasets/${other.id}/`, {
      key: KEY,
      json: { deleted: null },
    })
    expect(res.status).toBe(200)
    expect(res.body['deleted']).toBeNull()
  })

  it('renders archived from the seed and through PUT, and stays readable and writable', async () => {
    const now = emu.addDataset({ owner, title: 'Archived now', archived: true })
    const then = emu.addDataset({
      owner,
      title: 'Archived then',
      archived: new Date('2024-01-02T03:04:05Z'),
    })
    const plain = emu.addDataset({ owner, title: 'Not archived' })
    expect((await call(emu, 'GET', `/api/1/datasets/${now.id}/`)).body['archived']).toMatch(
      /^\d{4}-/,
    )
    expect(
      (await call(emu, 'GET', `/api/1/datasets/${then.id}/`, { key: OTHER })).body['archived'],
    ).toBe('2024-01-02T03:04:05+00:00')
    expect((await call(emu, 'GET', `/api/1/datasets/${plain.id}/`)).body['archived']).toBeNull()
    expect(
      (
        await call(emu, 'POST', `/api/1/datasets/${then.id}/upload/`, {
          key: KEY,
          body: upload('still.csv'),
        })
      ).status,
    ).toBe(201)
    const unarchived = await call(emu, 'PUT', `/api/1/datasets/${then.id}/`, {
      key: KEY,
      json: { archived: null },
    })
    expect(unarchived.body['archived']).toBeNull()
    const archived = await call(emu, 'PUT', `/api/1/datasets/${plain.id}/`, {
      key: KEY,
      json: { archived: '2025-05-06T07:08:09+00:00' },
    })
    expect(archived.body['archived']).toBe('2025-05-06T07:08:09+00:00')
  })
})
