import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { call, type Json } from './helpers/emulator-call.js'

import { startEmulator, type DatasetState, type Emulator } from '../emulator/server.js'

/** Reordering (`ResourcesAPI.put`) and datasets with very many resources. */

const KEY = 'order-owner'

describe('resources: order and size', () => {
  let emu: Emulator
  let owner: string

  beforeAll(async () => {
    emu = await startEmulator()
    owner = emu.addUser({ apiKey: KEY }).id
    emu.addUser({ apiKey: 'other' })
  })
  afterAll(async () => {
    await emu.close()
  })

  const three = (): DatasetState =>
    emu.addDataset({
      owner,
      title: `Ordered ${crypto.randomUUID().slice(0, 8)}`,
      resources: [
        { url: 'https://example.org/a', title: 'A' },
        { url: 'https://example.org/b', title: 'B' },
        { filename: 'c.csv', content: 'c\n', title: 'C' },
      ],
    })

  it('reorders with the complete list, ids or objects, leaving last_modified alone', async () => {
    const dataset = three()
    const [a, b, c] = dataset.resources.map((r) => r.id) as [string, string, string]
    const before = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    await new Promise((r) => setTimeout(r, 5))
    const res = await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/`, {
      key: KEY,
      json: [c, { id: a }, b],
    })
    expect(res.status).toBe(200)
    expect((res.body as unknown as Json[]).map((r) => r['id'])).toEqual([c, a, b])
    const after = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    expect((after.body['resources'] as Json[]).map((r) => r['title'])).toEqual(['C', 'A', 'B'])
    expect(after.body['last_modified']).toBe(before.body['last_modified'])
    expect(after.body['internal']).toEqual(before.body['internal'])
    // Objects go through ResourcesListForm: their other fields update the resource.
    const renamed = await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/`, {
      key: KEY,
      json: [{ id: a, title: 'A renamed' }, b, c],
    })
    expect((renamed.body as unknown as Json[]).map((r) => r['title'])).toEqual([
      'A renamed',
      'B',
      'C',
    ])
  })

  it('refuses a partial, padded, duplicated or foreign list with udata’s messages', async () => {
    const dataset = three()
    const ids = dataset.resources.map((r) => r.id)
    const put = (json: unknown, key = KEY) =>
      call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/`, { key, json })
    expect(await put(ids.slice(0, 2))).toMatchObject({
      status: 400,
      body: { message: 'All resources must be reordered, you provided 2 out of 3' },
    })
    expect(await put([...ids, crypto.randomUUID()])).toMatchObject({
      status: 400,
      body: { message: 'All resources must be reordered, you provided 4 out of 3' },
    })
    const mismatch = `Resource ids must match existing ones in dataset, ie: {${ids.map((i) => `'${i}'`).join(', ')}}`
    expect(await put([ids[0], ids[0], ids[0]])).toMatchObject({
      status: 400,
      body: { message: mismatch },
    })
    expect(await put(ids.map(() => crypto.randomUUID()))).toMatchObject({
      status: 400,
      body: { message: mismatch },
    })
    expect(await put(ids.map((i) => i.toUpperCase()))).toMatchObject({
      status: 400,
      body: { message: mismatch },
    })
    expect(await put([{ title: 'x' }, { title: 'y' }, { title: 'z' }])).toMatchObject({
      status: 400,
      body: { message: "Each resource must have an 'id' field" },
    })
    expect(await put([{ id: ids[0], title: '' }, ids[1], ids[2]])).toMatchObject({
      status: 400,
      body: { errors: [{ title: ['This field is required.'] }, {}, {}] },
    })
    expect((await put(ids, 'other')).status).toBe(403)
    expect(
      (await call(emu, 'PUT', `/api/1/datasets/${dataset.id}/resources/`, { json: ids })).status,
    ).toBe(401)
    expect(emu.getDataset(dataset.id)!.resources.map((r) => r.id)).toEqual(ids)
  })

  it('seeds 20,000 resources quickly and still serves the dataset and its pages', async () => {
    const count = 20_000
    let started = performance.now()
    const dataset = emu.addDataset({
      owner,
      title: 'Very big',
      resources: Array.from({ length: count }, (_, i) => ({
        url: `https://example.org/files/${i}.csv`,
        title: `File ${i}`,
        format: 'csv',
        filesize: i,
      })),
    })
    const seedMs = performance.now() - started
    expect(dataset.resources).toHaveLength(count)
    expect(dataset.resources[0]!.title).toBe('File 0')

    started = performance.now()
    const full = await call(emu, 'GET', `/api/1/datasets/${dataset.id}/`)
    const getMs = performance.now() - started
    expect((full.body['resources'] as Json[]).length).toBe(count)

    started = performance.now()
    const page = await call(
      emu,
      'GET',
      `/api/2/datasets/${dataset.id}/resources/?page=150&page_size=100`,
    )
    const pageMs = performance.now() - started
    expect(page.body).toMatchObject({ page: 150, page_size: 100, total: count })
    expect((page.body['data'] as Json[])[0]!['title']).toBe('File 14900')
    console.info(
      `20,000 remote resources: seeded in ${seedMs.toFixed(0)} ms; GET dataset ${(JSON.stringify(full.body).length / 1e6).toFixed(1)} MB in ${getMs.toFixed(0)} ms; v2 page in ${pageMs.toFixed(0)} ms`,
    )
    // Generous bounds for a shared CI machine: the point is "seconds, not minutes".
    expect(seedMs).toBeLessThan(10_000)
    expect(getMs).toBeLessThan(20_000)
  })
})
