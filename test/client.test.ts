/**
 * The client's creations against the emulator (src/datagouv/recovery.ts `createOnce`): a dataset,
 * a remote resource and a remote community resource whose answer is lost are looked for, found and
 * never created twice; every recovery is logged; a look that fails fails the creation, saying so.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { DatagouvClient } from '../src/datagouv/client.js'
import type { Logger } from '../src/datagouv/transport.js'

let emulator: Emulator | undefined
let client: DatagouvClient | undefined
afterEach(async () => {
  await client?.close()
  await emulator?.close()
})

async function setUp(timeoutMs = 10_000) {
  emulator = await startEmulator({ sameSecondConflict: false })
  const user = emulator.addUser()
  const dataset = emulator.addDataset({ owner: user.id, slug: 'mine' })
  const log: string[] = []
  const logger: Logger = {
    info: (m) => log.push(`info: ${m}`),
    debug: () => {},
    warning: (m) => log.push(`warning: ${m}`),
  }
  client = new DatagouvClient({
    apiUrl: emulator.url,
    apiKey: user.apiKey,
    env: {},
    timeoutMs,
    retry: { baseDelayMs: 10, maxRetries: 2 },
    logger,
  })
  const posts = () =>
    (emulator as Emulator).requests
      .filter((r) => r.method === 'POST')
      .map((r) => r.fault ?? r.status)
  return { emulator, client, user, dataset, log, posts }
}

const datasetBody = { title: 'Sales 2024', description: 'Sales by year' }

describe('a creation whose answer is lost', () => {
  it('dataset: read by its slug, found, not created again', async () => {
    const { emulator, client, log, posts } = await setUp()
    emulator.faults.push({ method: 'POST', path: '^/api/1/datasets/$', nth: 1, loseResponse: true })

    const created = await client.createDataset(datasetBody, 'sales-2024')

    expect(created.slug).toBe('sales-2024')
    expect(posts()).toEqual(['loseResponse'])
    expect(emulator.getDataset('sales-2024')?.id).toBe(created.id)
    expect(log).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: POST ${emulator.url}/api/1/datasets/ failed: .*; the server holds the dataset 'sales-2024' ` +
            `all the same \\(dataset ${created.id}\\), not sending it again$`,
        ),
      ),
    ])
  })

  it('remote resource: the dataset read, found, not created again', async () => {
    const { emulator, client, dataset, log, posts } = await setUp()
    emulator.faults.push({ method: 'POST', path: '/resources/$', nth: 1, loseResponse: true })
    const url = 'https://example.org/sales.csv'

    const created = await client.createRemoteResource(
      dataset.id,
      { url, title: 'Sales' },
      () => true,
    )

    expect(posts()).toEqual(['loseResponse'])
    expect(emulator.getDataset(dataset.id)?.resources.map((r) => r.id)).toEqual([created.id])
    expect(log).toEqual([
      expect.stringContaining(
        `the server holds the remote resource ${url} all the same (resource ${created.id})`,
      ),
    ])
  })

  it('remote community resource: the owner’s community resources read, found, not created again', async () => {
    const { emulator, client, dataset, log, posts } = await setUp()
    emulator.faults.push({
      method: 'POST',
      path: 'community_resources/$',
      nth: 1,
      loseResponse: true,
    })
    const url = 'https://example.org/reuse.csv'

    const created = await client.createRemoteCommunityResource(
      dataset.id,
      { url, title: 'Reuse' },
      () => true,
    )

    expect(posts()).toEqual(['loseResponse'])
    expect(emulator.getCommunityResource(created.id)?.url).toBe(url)
    expect(log).toEqual([expect.stringContaining('all the same (resource ')])
  })

  it('a resource the run saw before is not taken for the new one: sent again', async () => {
    const { emulator, client, dataset, posts } = await setUp()
    emulator.faults.push({ method: 'POST', path: '/resources/$', nth: 1, status: 503 })
    const url = 'https://example.org/sales.csv'
    const before = emulator.addRemoteResource(dataset.id, { url, title: 'Old' })

    const created = await client.createRemoteResource(
      dataset.id,
      { url, title: 'Sales' },
      (r) => r.id !== before.id,
    )

    expect(posts()).toEqual(['status:503', 201])
    expect(created.id).not.toBe(before.id)
  })
})

describe('a creation slower than the timeout', () => {
  it('the slug is read again and again until the late original shows: one dataset', async () => {
    // undici's timers are coarse below a second: 1 s, and a server that acts after 1.5 s.
    const { emulator, client, log, posts } = await setUp(1000)
    emulator.faults.push({ method: 'POST', path: '^/api/1/datasets/$', nth: 1, delayMs: 1500 })

    const created = await client.createDataset(datasetBody, 'sales-2024')

    expect(posts()).toEqual(['delayMs:1500'])
    expect(created.slug).toBe('sales-2024')
    expect(log[0]).toMatch(
      /^info: POST http:\/\/[\d.:]+\/api\/1\/datasets\/ failed: .*; looking for the dataset 'sales-2024' for up to 4 s before sending again$/,
    )
    expect(log[log.length - 1]).toContain('all the same')
  })
})

describe('a look that fails', () => {
  it('fails the creation, saying that the server may hold it, and sends nothing again', async () => {
    const { emulator, client, posts } = await setUp()
    emulator.faults.push(
      { method: 'POST', path: '^/api/1/datasets/$', nth: 1, loseResponse: true },
      { method: 'GET', path: '/datasets/sales-2024/$', status: 503, body: { message: 'Down' } },
    )

    const creating = client.createDataset(datasetBody, 'sales-2024')

    await expect(creating).rejects.toThrow(
      /^POST http:\/\/[\d.:]+\/api\/1\/datasets\/ failed: .*; then reading the dataset 'sales-2024', to see whether the server stored the dataset 'sales-2024' all the same, failed: GET http:\/\/[\d.:]+\/api\/1\/datasets\/sales-2024\/ answered 503: Down$/,
    )
    expect(posts()).toEqual(['loseResponse'])
  })
})
