import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { WERKZEUG } from '../emulator/constants.js'
import { applySeed } from '../emulator/seed.js'
import {
  startEmulator,
  type DatasetState,
  type Emulator,
  type OrganizationState,
} from '../emulator/server.js'

import { call, type Json } from './helpers/emulator-call.js'

/**
 * Community resources as udata serves them (`CommunityResourcesAPI`, `CommunityResourceAPI`,
 * `UploadNewCommunityResources`, `ReuploadCommunityResource` in udata/core/dataset/api.py).
 */

function file(data: string, name: string, fields: Record<string, string | number> = {}): FormData {
  const fd = new FormData()
  for (const [key, value] of Object.entries(fields)) fd.append(key, String(value))
  fd.append('file', new Blob([data]), name)
  return fd
}

const sha1 = (data: string): string => createHash('sha1').update(data).digest('hex')
const CR = '/api/1/datasets/community_resources'

describe('community resources', () => {
  let emu: Emulator
  let producer: string
  let reuser: string
  let editor: string
  let org: OrganizationState
  let dataset: DatasetState

  beforeAll(async () => {
    emu = await startEmulator()
    producer = emu.addUser({ apiKey: 'producer' }).id
    reuser = emu.addUser({ apiKey: 'reuser' }).id
    editor = emu.addUser({ apiKey: 'editor' }).id
    const partial = emu.addUser({ apiKey: 'partial-member' }).id
    emu.addUser({ apiKey: 'outsider' })
    org = emu.addOrganization({
      name: 'Collectif Réutilisateurs',
      members: [
        { user: reuser, role: 'admin' },
        { user: editor, role: 'editor' },
        { user: partial, role: 'partial_editor' },
      ],
    })
    dataset = emu.addDataset({
      owner: producer,
      title: 'Budget 2024',
      resources: [{ filename: 'budget.csv', content: 'a\n1\n' }],
    })
  })
  afterAll(async () => {
    await emu.close()
  })

  it('uploads a new community resource owned by the caller on a dataset it does not own (201)', async () => {
    const res = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
      key: 'reuser',
      body: file('x,y\n1,2\n', 'Dérivé Final.csv'),
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      success: true,
      title: 'derive-final.csv',
      filetype: 'file',
      type: 'main',
      format: 'csv',
      mime: 'text/csv',
      filesize: 8,
      checksum: { type: 'sha1', value: sha1('x,y\n1,2\n') },
      dataset: {
        id: dataset.id,
        class: 'Dataset',
        title: 'Budget 2024',
        uri: `${emu.url}/api/1/datasets/budget-2024/`,
        page: `${emu.url}/datasets/budget-2024/`,
      },
      organization: null,
      owner: { id: reuser, class: 'User' },
      permissions: { delete: true, edit: true },
      preview_url: null,
    })
    expect(res.body['url']).toMatch(
      new RegExp(`^${emu.url}/static/budget-2024/\\d{8}-\\d{6}/derive-final\\.csv$`),
    )
    expect(res.body['latest']).toBe(`${emu.url}/api/1/datasets/r/${res.body['id'] as string}`)
    // Not a resource of the dataset, and udata's default mask leaves `community_resources` out of the dataset.
    const ds = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    expect((ds.body['resources'] as Json[]).map((r) => r['id'])).not.toContain(res.body['id'])
    expect(ds.body).not.toHaveProperty('community_resources')
    // The permalink and the v2 lookup resolve it.
    const latest = await call(emu, 'GET', `/api/1/datasets/r/${res.body['id'] as string}`)
    expect(latest.status).toBe(302)
    expect(latest.headers.get('location')).toBe(res.body['url'])
    expect(
      (await call(emu, 'GET', `/api/2/datasets/resources/${res.body['id'] as string}/`)).body,
    ).toMatchObject({
      resource: { id: res.body['id'], title: 'derive-final.csv' },
      dataset_id: dataset.id,
    })
  })

  it('needs only a key: 401 without, no check of the dataset (private, someone else’s)', async () => {
    expect(
      (
        await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
          body: file('a', 'a.csv'),
        })
      ).status,
    ).toBe(401)
    const hidden = emu.addDataset({ owner: producer, title: 'Hidden', private: true })
    expect(
      (await call(emu, 'GET', `/api/1/datasets/${hidden.id}/`, { key: 'outsider' })).status,
    ).toBe(404)
    const res = await call(emu, 'POST', `/api/1/datasets/${hidden.slug}/upload/community/`, {
      key: 'outsider',
      body: file('a', 'a.csv'),
    })
    expect(res.status).toBe(201)
    expect(res.body['dataset']).toMatchObject({ id: hidden.id })
    expect(
      (
        await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
          key: 'outsider',
          body: file('<html>', 'page.html'),
        })
      ).status,
    ).toBe(400)
  })

  it('takes the chunked protocol', async () => {
    const uuid = crypto.randomUUID()
    const parts = ['id,v\n', '1,2\n']
    const path = `/api/1/datasets/${dataset.id}/upload/community/`
    for (const [index, part] of parts.entries()) {
      const fields = {
        uuid,
        filename: 'parts.csv',
        partindex: index,
        partbyteoffset: index * 5,
        totalparts: 2,
        chunksize: part.length,
      }
      expect(
        await call(emu, 'POST', path, { key: 'reuser', body: file(part, 'blob', fields) }),
      ).toMatchObject({
        status: 200,
        body: { success: true, error: null },
      })
    }
    const done = new FormData()
    for (const [key, value] of Object.entries({ uuid, filename: 'parts.csv', totalparts: 2 }))
      done.append(key, String(value))
    const res = await call(emu, 'POST', path, { key: 'reuser', body: done })
    expect(res).toMatchObject({
      status: 201,
      body: {
        title: 'parts.csv',
        filesize: 9,
        checksum: { value: sha1(parts.join('')) },
        success: true,
      },
    })
  })

  it('reads one without a key; 404 for an unknown id of any shape', async () => {
    const cr = emu.addCommunityResource({
      dataset: dataset.slug,
      owner: reuser,
      url: 'https://example.org/x.json',
      title: 'X',
      format: 'JSON',
    })
    expect(await call(emu, 'GET', `${CR}/${cr.id}/`)).toMatchObject({
      status: 200,
      body: { id: cr.id, filetype: 'remote', format: 'json', owner: { id: reuser } },
    })
    expect((await call(emu, 'GET', `${CR}/${cr.id.toUpperCase()}/`)).status).toBe(200)
    expect((await call(emu, 'GET', `${CR}/${cr.id}/`)).body['permissions']).toEqual({
      delete: false,
      edit: false,
    })
    expect(await call(emu, 'GET', `${CR}/${crypto.randomUUID()}/`)).toMatchObject({
      status: 404,
      body: { message: WERKZEUG.notFound },
    })
    expect((await call(emu, 'GET', `${CR}/not-an-id/`)).status).toBe(404)
    expect((await call(emu, 'GET', `${CR}/${cr.id}`)).status).toBe(308)
  })

  it('updates partially (hosted fields protected, no filetype change), for the owner only', async () => {
    const created = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
      key: 'reuser',
      body: file('a\n', 'agg.csv'),
    })
    const id = created.body['id'] as string
    const before = emu.getCommunityResource(id)!.lastModifiedInternal.getTime()
    const put = await call(emu, 'PUT', `${CR}/${id}/`, {
      key: 'reuser',
      json: {
        description: 'Aggregated',
        type: 'documentation',
        url: 'https://evil.example/',
        filesize: 1,
        format: 'pdf',
        filetype: 'remote',
        checksum: null,
      },
    })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({
      title: 'agg.csv',
      description: 'Aggregated',
      type: 'documentation',
      filetype: 'file',
      format: 'csv',
      filesize: 2,
      url: created.body['url'],
    })
    expect(put.body['checksum']).toEqual(created.body['checksum'])
    expect(put.body).not.toHaveProperty('success')
    expect(emu.getCommunityResource(id)!.lastModifiedInternal.getTime()).toBeGreaterThanOrEqual(
      before,
    )
    // The whole GET answer sent back is accepted (owner, dataset, organization as objects).
    expect((await call(emu, 'PUT', `${CR}/${id}/`, { key: 'reuser', json: put.body })).status).toBe(
      200,
    )
    expect((await call(emu, 'PUT', `${CR}/${id}/`, { json: { title: 'x' } })).status).toBe(401)
    expect(
      await call(emu, 'PUT', `${CR}/${id}/`, { key: 'producer', json: { title: 'x' } }),
    ).toMatchObject({
      status: 403,
      body: { message: 'You do not have the permission to modify that object.' },
    })
    expect(
      await call(emu, 'PUT', `${CR}/${id}/`, { key: 'reuser', json: { title: '' } }),
    ).toMatchObject({
      status: 400,
      body: { errors: { title: ['This field is required.'] } },
    })
    expect(
      await call(emu, 'PUT', `${CR}/${id}/`, { key: 'reuser', json: { owner: producer } }),
    ).toMatchObject({
      status: 400,
      body: {
        errors: { owner: ['Cannot change owner after creation. Please use transfer feature.'] },
      },
    })
  })

  it('moves to an organization the owner belongs to; its admins and editors then edit it', async () => {
    const cr = emu.addCommunityResource({
      dataset: dataset.id,
      owner: reuser,
      url: 'https://example.org/org.csv',
      title: 'Org',
    })
    expect(
      await call(emu, 'PUT', `${CR}/${cr.id}/`, {
        key: 'reuser',
        json: { organization: emu.addOrganization({ name: 'Elsewhere' }).id },
      }),
    ).toMatchObject({
      status: 400,
      body: { errors: { organization: ['Permission denied for this organization'] } },
    })
    expect(
      await call(emu, 'PUT', `${CR}/${cr.id}/`, {
        key: 'reuser',
        json: { organization: 'some-slug' },
      }),
    ).toMatchObject({
      status: 400,
      body: { errors: { organization: ['Unsupported identifier: some-slug'] } },
    })
    const moved = await call(emu, 'PUT', `${CR}/${cr.id}/`, {
      key: 'reuser',
      json: { organization: org.id },
    })
    expect(moved).toMatchObject({
      status: 200,
      body: { owner: null, organization: { id: org.id, slug: org.slug } },
    })
    expect(
      await call(emu, 'PUT', `${CR}/${cr.id}/`, {
        key: 'editor',
        json: { title: 'By the editor' },
      }),
    ).toMatchObject({
      status: 200,
      body: { title: 'By the editor', organization: { id: org.id } },
    })
    expect(
      (await call(emu, 'PUT', `${CR}/${cr.id}/`, { key: 'partial-member', json: { title: 'no' } }))
        .status,
    ).toBe(403)
    expect(
      (
        await call(emu, 'PUT', `${CR}/${cr.id}/`, {
          key: 'reuser',
          json: {
            organization: emu.addOrganization({ name: 'Third', members: [{ user: reuser }] }).id,
          },
        })
      ).body,
    ).toEqual({
      errors: {
        organization: ['Cannot change owner after creation. Please use transfer feature.'],
      },
    })
  })

  it('creates remote community resources (JSON), as an organization if asked', async () => {
    const remote = {
      title: 'API dérivée',
      url: 'https://example.org/api',
      filetype: 'remote',
      dataset: dataset.id,
    }
    expect(await call(emu, 'POST', `${CR}/`, { key: 'reuser', json: remote })).toMatchObject({
      status: 201,
      body: {
        filetype: 'remote',
        type: 'other',
        owner: { id: reuser },
        organization: null,
        dataset: { id: dataset.id },
      },
    })
    expect(
      await call(emu, 'POST', `${CR}/`, {
        key: 'reuser',
        json: { ...remote, organization: org.id },
      }),
    ).toMatchObject({
      status: 201,
      body: { owner: null, organization: { id: org.id } },
    })
    expect((await call(emu, 'POST', `${CR}/`, { json: remote })).status).toBe(401)
    expect(
      await call(emu, 'POST', `${CR}/`, { key: 'reuser', json: { ...remote, filetype: 'file' } }),
    ).toMatchObject({
      status: 400,
      body: { message: 'This endpoint only supports remote community resources' },
    })
    const { dataset: _d, ...withoutDataset } = remote
    expect(
      await call(emu, 'POST', `${CR}/`, { key: 'reuser', json: withoutDataset }),
    ).toMatchObject({
      status: 400,
      body: { errors: { dataset: 'A dataset identifier is required' } },
    })
    expect(
      await call(emu, 'POST', `${CR}/`, { key: 'reuser', json: { ...remote, dataset: 'xxx' } }),
    ).toMatchObject({
      status: 400,
      body: { errors: { dataset: ['Unsupported identifier: xxx'] } },
    })
    expect(
      await call(emu, 'POST', `${CR}/`, {
        key: 'reuser',
        json: { ...remote, dataset: 'a'.repeat(24) },
      }),
    ).toMatchObject({
      status: 400,
      body: { errors: { dataset: ['Dataset does not exists'] } },
    })
  })

  it('replaces the file in place (200): normalised title, old file deleted', async () => {
    const created = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
      key: 'reuser',
      body: file('v1\n', 'v.csv'),
    })
    const id = created.body['id'] as string
    const oldPath = `${emu.dataDir}/static/${(created.body['url'] as string).split('/static/')[1]!}`
    expect(existsSync(oldPath)).toBe(true)
    await call(emu, 'PUT', `${CR}/${id}/`, {
      key: 'reuser',
      json: { title: 'Kept? no', description: 'kept' },
    })
    expect(
      (
        await call(emu, 'POST', `${CR}/${id}/upload/`, {
          key: 'producer',
          body: file('v2\n', 'v.csv'),
        })
      ).status,
    ).toBe(403)
    // Another storage second (udata names stored files by the second): wait for the clock's.
    const second = Math.floor(Date.now() / 1000)
    while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 20))
    const res = await call(emu, 'POST', `${CR}/${id}/upload/`, {
      key: 'reuser',
      body: file('version 2\n', 'New Name.csv'),
    })
    expect(res).toMatchObject({
      status: 200,
      body: {
        id,
        success: true,
        title: 'new-name.csv',
        description: 'kept',
        filesize: 10,
        checksum: { value: sha1('version 2\n') },
      },
    })
    expect(res.body['url']).not.toBe(created.body['url'])
    expect(existsSync(oldPath)).toBe(false)
  })

  it('lists with udata’s page shape and filters (ids only), newest first', async () => {
    const other = emu.addDataset({ owner: producer, title: 'Other data' })
    const mine = [1, 2, 3].map((n) =>
      emu.addCommunityResource({
        dataset: other.id,
        owner: editor,
        url: `https://example.org/${n}`,
        title: `E${n}`,
      }),
    )
    mine.forEach((c, n) => (c.createdAt = new Date(Date.now() - (3 - n) * 1000)))
    expect((await call(emu, 'GET', `${CR}/?dataset=${other.id}`)).body['data']).toMatchObject([
      { title: 'E3' },
      { title: 'E2' },
      { title: 'E1' },
    ])
    const page1 = await call(emu, 'GET', `${CR}/?dataset=${other.id}&page_size=2`)
    expect(page1.body).toMatchObject({ page: 1, page_size: 2, total: 3, previous_page: null })
    expect(page1.body['data']).toHaveLength(2)
    expect(page1.body['next_page']).toBe(`${emu.url}${CR}/?dataset=${other.id}&page_size=2&page=2`)
    const page2 = await call(emu, 'GET', `${CR}/?dataset=${other.id}&page_size=2&page=2`)
    const titles = [...(page1.body['data'] as Json[]), ...(page2.body['data'] as Json[])].map(
      (c) => c['title'],
    )
    expect(new Set(titles)).toEqual(new Set(['E1', 'E2', 'E3']))
    expect(
      (await call(emu, 'GET', `${CR}/?dataset=${other.id}&sort=title`)).body['data'],
    ).toMatchObject([{ title: 'E1' }, { title: 'E2' }, { title: 'E3' }])
    expect((await call(emu, 'GET', `${CR}/?owner=${editor}`)).body['total']).toBe(3)
    expect(
      (await call(emu, 'GET', `${CR}/?owner=${editor}&dataset=${dataset.id}`)).body['total'],
    ).toBe(0)
    expect((await call(emu, 'GET', `${CR}/?organization=${org.id}`)).body['total']).toBeGreaterThan(
      0,
    )
    expect((await call(emu, 'GET', `${CR}/?dataset=${other.id}&page=3&page_size=2`)).status).toBe(
      404,
    )
    expect(await call(emu, 'GET', `${CR}/?dataset=${other.slug}`)).toMatchObject({
      status: 400,
      body: {
        errors: {},
        message: `'${other.slug}' is not a valid ObjectId, it must be a 12-byte input or a 24-character hex string`,
      },
    })
    expect(await call(emu, 'GET', `${CR}/?page=0`)).toMatchObject({
      status: 400,
      body: {
        errors: { page: 'The page to fetch Invalid page: 0. page must be a positive integer' },
        message: 'Input payload validation failed',
      },
    })
  })

  it('deletes (204) with its file, for the owner only', async () => {
    const created = await call(emu, 'POST', `/api/1/datasets/${dataset.id}/upload/community/`, {
      key: 'reuser',
      body: file('gone\n', 'gone.csv'),
    })
    const id = created.body['id'] as string
    const path = `${emu.dataDir}/static/${(created.body['url'] as string).split('/static/')[1]!}`
    expect((await call(emu, 'DELETE', `${CR}/${id}/`, { key: 'producer' })).status).toBe(403)
    expect((await call(emu, 'DELETE', `${CR}/${id}/`, { key: 'reuser' })).status).toBe(204)
    expect(existsSync(path)).toBe(false)
    expect((await call(emu, 'GET', `${CR}/${id}/`)).status).toBe(404)
    expect((await call(emu, 'GET', `/api/1/datasets/r/${id}`)).status).toBe(404)
  })

  it('seeds community resources in process and from a seed file', async () => {
    const seeded = emu.addCommunityResource({
      dataset: dataset.slug,
      organization: org.slug,
      filename: 'Seeded File.csv',
      content: 'a\n',
    })
    expect(seeded).toMatchObject({
      dataset: dataset.id,
      owner: null,
      organization: org.id,
      title: 'seeded-file.csv',
      filetype: 'file',
      filesize: 2,
    })
    expect(() =>
      emu.addCommunityResource({
        dataset: 'nope',
        owner: reuser,
        url: 'https://example.org',
        title: 't',
      }),
    ).toThrow(/Unknown dataset/)
    expect(() =>
      emu.addCommunityResource({ dataset: dataset.id, url: 'https://example.org', title: 't' }),
    ).toThrow(/Unknown owner/)

    const other = await startEmulator()
    try {
      const summary = applySeed(other, {
        users: [{ apiKey: 'seed-key' }],
        organizations: [{ name: 'Seed Org', members: [{ user: 'seed-key', role: 'admin' }] }],
        datasets: [{ slug: 'seeded', title: 'Seeded' }],
        communityResources: [
          { dataset: 'seeded', filename: 'derived.csv', content: 'x\n' },
          {
            dataset: 'seeded',
            organization: 'seed-org',
            url: 'https://example.org/api',
            title: 'API',
          },
        ],
      })
      expect(summary.communityResources).toMatchObject([
        { dataset: summary.datasets[0]!.id, title: 'derived.csv', filetype: 'file' },
        { title: 'API', filetype: 'remote' },
      ])
      const list = await call(other, 'GET', `${CR}/?dataset=${summary.datasets[0]!.id}`)
      expect(list.body['total']).toBe(2)
      expect(() =>
        applySeed(other, { communityResources: [{ dataset: 'seeded', title: 'x' }] }),
      ).toThrow(/Invalid seed/)
    } finally {
      await other.close()
    }
  })
})
