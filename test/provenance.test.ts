/**
 * Provenance, pruning and order, through the action against the emulator: each shows in the
 * plan and in dry-run, and a second identical run writes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readSettings, type InputName } from '../src/engine/inputs.js'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

/** What the runner sets for a workflow run. */
const RUNNER = {
  GITHUB_REPOSITORY: 'example/publisher',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW: 'Publish data',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.com',
}
const withProvenance = { provenance: 'true' }

describe('provenance', () => {
  it('an unchanged file: a resource left by a stopped creation gets it once, one titled by a person is left untouched', async () => {
    f = await fixture()
    // As udata leaves an upload whose run stopped before its title and provenance: titled with
    // its stored name, no extras.
    const orphan = f.emulator.addFileResource(f.dataset.id, {
      filename: 'left.csv',
      content: 'same l',
      title: 'left.csv',
    })
    // Made by hand, titled by a person: not this publication's to claim.
    const hand = f.emulator.addFileResource(f.dataset.id, {
      filename: 'hand.csv',
      content: 'same h',
      title: 'Uploaded by hand',
    })
    await f.write('left.csv', 'same l')
    await f.write('hand.csv', 'same h')

    const run = await f.run({ files: '*.csv', ...withProvenance }, RUNNER)

    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run).map((x) => [x.id, x.action])).toEqual(
      expect.arrayContaining([
        [orphan.id, 'updated'],
        [hand.id, 'skipped'],
      ]),
    )
    expect(f.emulator.getResource(f.dataset.id, orphan.id)?.extras).toMatchObject({
      'publish:workflow': 'Publish data',
    })
    expect(f.emulator.getResource(f.dataset.id, hand.id)?.extras ?? {}).toEqual({})
    expect(f.writes().filter((w) => w.path.includes(hand.id))).toEqual([])
    // Once: the next run writes nothing.
    const writes = f.writes().length
    const again = await f.run({ files: '*.csv', ...withProvenance }, RUNNER)
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toHaveLength(writes)
  })

  it('records where each written resource comes from, merged into its extras; a second run writes nothing', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'old',
      title: 'A',
      extras: { 'analysis:checksum': 'kept' },
    })
    await f.write('a.csv', 'new')

    const before = Date.now()
    const run = await f.run({ files: 'a.csv', ...withProvenance }, RUNNER)
    const after = Date.now()

    expect(run.code, run.stdout).toBe(0)
    const extras = f.emulator.getResource(f.dataset.id, r.id)?.extras ?? {}
    expect(extras).toMatchObject({
      'analysis:checksum': 'kept',
      'publish:repository': 'example/publisher',
      'publish:commit': RUNNER.GITHUB_SHA,
      'publish:ref': 'refs/heads/main',
      'publish:workflow': 'Publish data',
      'publish:run-url': 'https://github.com/example/publisher/actions/runs/4242',
      'publish:tool': expect.stringMatching(/^datagouv-publish-action\/\d+\.\d+\.\d+/),
    })
    // Stamped during this run.
    const publishedAt = Date.parse(String(extras['publish:published-at']))
    expect(publishedAt).toBeGreaterThanOrEqual(before)
    expect(publishedAt).toBeLessThanOrEqual(after)
    expect(
      f.writes().map((w) => w.method + ' ' + w.path.replace(/\/[0-9a-f-]{36}\//, '/<rid>/')),
    ).toEqual([
      // Recorded before the upload (with the title to put back), so a run stopped after it
      // leaves them for the next one.
      `PUT /api/2/datasets/${f.dataset.id}/resources/<rid>/extras/`,
      `POST /api/1/datasets/${f.dataset.id}/resources/<rid>/upload/`,
      `PUT /api/1/datasets/${f.dataset.id}/resources/<rid>/`,
    ])
    expect(run.summary).toContain(
      '[this run](https://github.com/example/publisher/actions/runs/4242)',
    )
    expect(run.summary).toContain('example/publisher @ 0123456789ab')

    f.emulator.requests.length = 0
    const again = await f.run({ files: 'a.csv', ...withProvenance }, RUNNER)
    expect(again.code, again.stdout).toBe(0)
    expect(resourcesOutput(again)[0]?.action).toBe('skipped')
    expect(f.writes()).toEqual([])
  })

  it('provenance: false records nothing', async () => {
    f = await fixture()
    await f.write('b.csv', 'b')
    const run = await f.run(
      { files: 'b.csv', 'create-missing': 'true', provenance: 'false' },
      RUNNER,
    )
    expect(run.code, run.stdout).toBe(0)
    const created = f.emulator.getDataset(f.dataset.id)?.resources[0]
    expect(Object.keys(created?.extras ?? {}).filter((k) => k.startsWith('publish:'))).toEqual([])
  })
})

describe('prune', () => {
  it('deletes only what this publication wrote before and no longer publishes, last, shown in dry-run', async () => {
    f = await fixture()
    const foreign = f.emulator.addFileResource(f.dataset.id, {
      filename: 'manual.csv',
      content: 'm',
      title: 'By hand',
    })
    const other = f.emulator.addFileResource(f.dataset.id, {
      filename: 'other.csv',
      content: 'o',
      title: 'Other workflow',
      extras: { 'publish:repository': 'example/publisher', 'publish:workflow': 'Another workflow' },
    })
    await f.write('out/a.csv', 'a')
    await f.write('out/b.csv', 'b')
    const first = await f.run(
      { files: 'out/*.csv', 'create-missing': 'true', ...withProvenance },
      RUNNER,
    )
    expect(first.code, first.stdout).toBe(0)
    const b = resourcesOutput(first).find((x) => x.source === 'out/b.csv')

    // b.csv is gone from the publication.
    const { rm } = await import('node:fs/promises')
    await rm(`${f.workspace}/out/b.csv`)
    const dry = await f.run(
      {
        files: 'out/*.csv',
        'create-missing': 'true',
        prune: 'true',
        'dry-run': 'true',
        ...withProvenance,
      },
      RUNNER,
    )
    expect(dry.code, dry.stdout).toBe(0)
    expect(dry.stdout).toMatch(
      new RegExp(
        `remove\\s+b\\.csv\\s+${b?.id}\\s+pruned: written by example/publisher \\(Publish data\\) and no longer published`,
      ),
    )
    expect(resourcesOutput(dry).map((x) => [x.source, x.action, x.planned])).toEqual([
      ['out/a.csv', 'planned', 'skip'],
      ['b.csv', 'planned', 'remove'],
    ])

    f.emulator.requests.length = 0
    const pruned = await f.run(
      { files: 'out/*.csv', 'create-missing': 'true', prune: 'true', ...withProvenance },
      RUNNER,
    )
    expect(pruned.code, pruned.stdout).toBe(0)
    expect(f.writes()).toEqual([
      { method: 'DELETE', path: `/api/1/datasets/${f.dataset.id}/resources/${b?.id}/` },
    ])
    const left = f.emulator.getDataset(f.dataset.id)?.resources.map((r) => r.id) ?? []
    expect(left).toContain(foreign.id)
    expect(left).toContain(other.id)
    expect(left).not.toContain(b?.id)
    expect(pruned.outputs['removed-count']).toBe('1')

    f.emulator.requests.length = 0
    const again = await f.run(
      { files: 'out/*.csv', 'create-missing': 'true', prune: 'true', ...withProvenance },
      RUNNER,
    )
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toEqual([])
  })

  it('prunes nothing when another entry failed, and refuses to run without provenance', async () => {
    f = await fixture()
    const old = f.emulator.addFileResource(f.dataset.id, {
      filename: 'old.csv',
      content: 'o',
      title: 'Old',
      extras: { 'publish:repository': 'example/publisher', 'publish:workflow': 'Publish data' },
    })
    const kept = f.emulator.addFileResource(f.dataset.id, {
      filename: 'kept.csv',
      content: 'k',
      title: 'Kept',
    })
    await f.write('kept.csv', 'changed')
    f.emulator.faults.push({
      method: 'POST',
      path: '/upload/$',
      status: 400,
      body: { message: 'refused' },
    })
    const run = await f.run({ files: 'kept.csv', prune: 'true', ...withProvenance }, RUNNER)
    expect(run.code).toBe(1)
    expect(resourcesOutput(run).map((x) => [x.id, x.action])).toEqual([
      [kept.id, 'failed'],
      [old.id, 'held-back'],
    ])
    expect(f.emulator.getResource(f.dataset.id, old.id)).toBeDefined()

    f.emulator.faults.length = 0
    f.emulator.requests.length = 0
    const off = await f.run({ files: 'kept.csv', prune: 'true', provenance: 'false' }, RUNNER)
    expect(off.code).toBe(1)
    expect(off.stdout).toContain("input 'prune': provenance is off")
    expect(f.writes()).toEqual([])
  })
})

describe('order: as-listed', () => {
  it('puts the published resources in the order of the entries, the others after them; sends nothing when right', async () => {
    f = await fixture()
    const x = f.emulator.addFileResource(f.dataset.id, {
      filename: 'x.csv',
      content: 'x',
      title: 'X',
    })
    const y = f.emulator.addFileResource(f.dataset.id, {
      filename: 'y.csv',
      content: 'y',
      title: 'Y',
    })
    const z = f.emulator.addFileResource(f.dataset.id, {
      filename: 'z.csv',
      content: 'z',
      title: 'Z',
    })
    await f.write('z.csv', 'z2')
    await f.write('x.csv', 'x')
    await f.write('new.csv', 'n')
    const resources = '- z.csv\n- x.csv\n- new.csv'

    const dry = await f.run({
      resources,
      'create-missing': 'true',
      order: 'as-listed',
      'dry-run': 'true',
    })
    expect(dry.stdout).toMatch(/order\s+as-listed\s+\(dataset\)\s+checked last/)
    expect(f.writes()).toEqual([])

    const run = await f.run({ resources, 'create-missing': 'true', order: 'as-listed' })
    expect(run.code, run.stdout).toBe(0)
    const created = resourcesOutput(run)[2]?.id
    expect(f.emulator.getDataset(f.dataset.id)?.resources.map((r) => r.id)).toEqual([
      z.id,
      x.id,
      created,
      y.id,
    ])
    expect(f.writes().at(-1)).toEqual({
      method: 'PUT',
      path: `/api/1/datasets/${f.dataset.id}/resources/`,
    })
    expect(run.summary).toContain('Order: **reordered**')
    expect(run.outputs.changed).toBe('true')

    f.emulator.requests.length = 0
    const again = await f.run({ resources, 'create-missing': 'true', order: 'as-listed' })
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(again.summary).toContain('already in the order of the entries')
  })
})

describe('instances by name', () => {
  const settings = (apiUrl: string) =>
    readSettings(
      (name: InputName) =>
        ({ dataset: 'd', files: 'x', 'dry-run': 'true', 'api-url': apiUrl })[name as string] ?? '',
    )
  it('www, demo and dev name the public instances, as the official Python client does', () => {
    expect(settings('www').apiUrl).toBe('https://www.data.gouv.fr')
    expect(settings('demo').apiUrl).toBe('https://demo.data.gouv.fr')
    expect(settings('dev').apiUrl).toBe('https://dev.data.gouv.fr')
    expect(settings('').apiUrl).toBe('https://www.data.gouv.fr')
    expect(settings('https://data.example.org/api/1').apiUrl).toBe('https://data.example.org')
    expect(() => settings('staging')).toThrow(/input 'api-url'/)
  })
})
