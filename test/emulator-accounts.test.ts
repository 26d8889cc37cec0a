import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { call, type Json } from './helpers/emulator-call.js'

import { startEmulator, type Emulator, type OrganizationState } from '../emulator/server.js'

/** Dataset creation, organizations and membership (udata DatasetListAPI.post, OrganizationAPI, /me/). */

describe('dataset creation and organizations', () => {
  let emu: Emulator
  let admin: string
  let partial: string
  let org: OrganizationState

  beforeAll(async () => {
    emu = await startEmulator()
    admin = emu.addUser({ apiKey: 'admin' }).id
    const editor = emu.addUser({ apiKey: 'editor' }).id
    partial = emu.addUser({ apiKey: 'partial' }).id
    emu.addUser({ apiKey: 'outsider' })
    org = emu.addOrganization({
      name: 'Ministère des Données',
      members: [
        { user: admin, role: 'admin' },
        { user: editor, role: 'editor' },
        { user: partial, role: 'partial_editor' },
      ],
    })
  })
  afterAll(async () => {
    await emu.close()
  })

  it('creates a dataset as its owner: 201, slug from the title, private honoured', async () => {
    const res = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'outsider',
      json: { title: 'Ventes 2024 (brut)', description: 'd', private: true, tags: ['ventes'] },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      slug: 'ventes-2024-brut',
      private: true,
      organization: null,
      license: 'notspecified',
      frequency: 'unknown',
      tags: ['ventes'],
      resources: [],
    })
    expect((res.body['owner'] as Json)['id']).toBeDefined()
    expect(res.body['permissions']).toEqual({ delete: true, edit: true, edit_resources: true })
    const again = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'outsider',
      json: { title: 'Ventes 2024 (brut)', description: 'd' },
    })
    expect(again.body['slug']).toBe('ventes-2024-brut-1')
    expect(
      (await call(emu, 'GET', `/api/1/datasets/${res.body['id'] as string}/`, { key: 'admin' }))
        .status,
    ).toBe(404)
  })

  it('validates like DatasetForm', async () => {
    expect(
      (await call(emu, 'POST', '/api/1/datasets/', { json: { title: 't', description: 'd' } }))
        .status,
    ).toBe(401)
    expect(await call(emu, 'POST', '/api/1/datasets/', { key: 'admin', json: {} })).toEqual(
      expect.objectContaining({
        status: 400,
        body: {
          errors: { title: ['This field is required.'], description: ['This field is required.'] },
        },
      }),
    )
    const wrongOrg = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'outsider',
      json: { title: 't', description: 'd', organization: org.id },
    })
    expect(wrongOrg).toEqual(
      expect.objectContaining({
        status: 400,
        body: { errors: { organization: ['Permission denied for this organization'] } },
      }),
    )
    const unknown = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'admin',
      json: { title: 't', description: 'd', organization: '0123456789abcdef01234567' },
    })
    expect(unknown.body).toEqual({ errors: { organization: ['Organization does not exists'] } })
    const bySlug = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'admin',
      json: { title: 't', description: 'd', organization: org.slug },
    })
    expect(bySlug.body).toEqual({
      errors: { organization: [`Unsupported identifier: ${org.slug}`] },
    })
    const otherOwner = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'admin',
      json: { title: 't', description: 'd', owner: partial },
    })
    expect(otherOwner.body).toEqual({ errors: { owner: ['You can only set yourself as owner'] } })
  })

  it('creates a dataset for an organization, which its editors edit and its partial editors only read', async () => {
    const res = await call(emu, 'POST', '/api/1/datasets/', {
      key: 'editor',
      json: { title: 'Budget', description: 'd', organization: { id: org.id }, private: true },
    })
    expect(res.status).toBe(201)
    expect(res.body['owner']).toBeNull()
    expect(res.body['organization']).toMatchObject({
      id: org.id,
      slug: 'ministere-des-donnees',
      name: 'Ministère des Données',
    })
    const id = res.body['id'] as string
    const fd = new FormData()
    fd.append('file', new Blob(['a\n1\n']), 'budget.csv')
    expect(
      (await call(emu, 'POST', `/api/1/datasets/${id}/upload/`, { key: 'admin', body: fd })).status,
    ).toBe(201)
    const read = await call(emu, 'GET', `/api/1/datasets/${id}/`, { key: 'partial' })
    expect(read.status).toBe(200)
    expect(read.body['permissions']).toEqual({ delete: false, edit: false, edit_resources: false })
    expect(
      (await call(emu, 'PUT', `/api/1/datasets/${id}/`, { key: 'partial', json: { title: 'x' } }))
        .status,
    ).toBe(403)
    expect((await call(emu, 'GET', `/api/1/datasets/${id}/`, { key: 'outsider' })).status).toBe(404)
  })

  it('serves the organization, its datasets, /me/ with organizations, and no /me/organizations/', async () => {
    const byslug = await call(emu, 'GET', `/api/1/organizations/${org.slug}/`, { key: 'admin' })
    expect(byslug.status).toBe(200)
    expect(byslug.body).toMatchObject({
      id: org.id,
      slug: org.slug,
      permissions: { edit: true, private: true },
    })
    expect((byslug.body['members'] as Json[]).map((m) => m['role']).sort()).toEqual([
      'admin',
      'editor',
      'partial_editor',
    ])
    expect(
      (await call(emu, 'GET', `/api/1/organizations/${org.id}/`)).body['permissions'],
    ).toMatchObject({ edit: false, private: false })
    expect((await call(emu, 'GET', '/api/1/organizations/nope/')).status).toBe(404)
    const publicList = await call(emu, 'GET', `/api/1/organizations/${org.id}/datasets/`)
    const memberList = await call(emu, 'GET', `/api/1/organizations/${org.id}/datasets/`, {
      key: 'partial',
    })
    expect(publicList.body['total']).toBe(0)
    expect(memberList.body['total']).toBe(1)
    const me = await call(emu, 'GET', '/api/1/me/', { key: 'editor' })
    expect((me.body['organizations'] as Json[]).map((o) => o['id'])).toEqual([org.id])
    expect(
      (await call(emu, 'GET', '/api/1/me/', { key: 'outsider' })).body['organizations'],
    ).toEqual([])
    expect(await call(emu, 'GET', '/api/1/me/organizations/', { key: 'admin' })).toMatchObject({
      status: 404,
      body: { status: 404 },
    })
    const mine = await call(emu, 'GET', '/api/1/me/datasets/', { key: 'outsider' })
    expect((mine.body as unknown as Json[]).length).toBe(2)
  })

  it('hides a deleted organization (410) except from its members', async () => {
    const gone = emu.addOrganization({
      name: 'Gone',
      deleted: true,
      members: [{ user: admin, role: 'admin' }],
    })
    expect((await call(emu, 'GET', `/api/1/organizations/${gone.id}/`)).status).toBe(410)
    expect(
      (await call(emu, 'GET', `/api/1/organizations/${gone.id}/`, { key: 'admin' })).status,
    ).toBe(200)
  })
})
