/**
 * What data.gouv.fr's guides ask beyond replacing files, against real udata: dated releases (a
 * rerun adds nothing, `keep` removes only what this publication released), the quality score as
 * udata computes it, and a temporal coverage whose end follows the publications.
 */
import { describe, expect, it } from 'vitest'
import { startEmulator } from '../../emulator/server.js'
import { runInProcess } from '../helpers/runner.js'
import { kitVersions, storedName, writesOf, type UdataDataset } from './kit.js'
import { context, outputResources, provenanceEnv, scenarioWorkspace, useUdata } from './scenario.js'

const today = (): string => new Date().toISOString().slice(0, 10)

/** The release entry of these scenarios. */
const RELEASE = '- path: out/ventes.csv\n  release: dated\n  name: ventes-{date}-{seq}\n'

function names(dataset: UdataDataset): string[] {
  return dataset.resources.map(storedName)
}

/** One server's API with a key: a JSON call that must succeed, its answer's body. */
function caller(origin: string, key: string) {
  return async (
    method: string,
    apiPath: string,
    json?: unknown,
  ): Promise<Record<string, unknown>> => {
    const response = await fetch(new URL(apiPath, origin), {
      method,
      headers: {
        accept: 'application/json',
        'x-api-key': key,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    })
    const text = await response.text()
    if (!response.ok)
      throw new Error(`${origin}: ${method} ${apiPath} answered ${response.status}: ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
}

/**
 * The states of a dataset the quality scenario walks through, each a request (`{ds}`: the
 * dataset's id), and the criteria it moves.
 */
const QUALITY_STEPS: ReadonlyArray<[string, string, string, Record<string, unknown>]> = [
  // 60 code points, 120 UTF-16 units: udata's len() counts the code points.
  ['a description of 60 emoji', 'PUT', '/api/1/datasets/{ds}/', { description: '😀'.repeat(60) }],
  [
    'a description of 101 letters',
    'PUT',
    '/api/1/datasets/{ds}/',
    { description: 'é'.repeat(101) },
  ],
  [
    'license, frequency without delay, coverages',
    'PUT',
    '/api/1/datasets/{ds}/',
    {
      license: 'lov2',
      frequency: 'irregular',
      temporal_coverage: { start: '2019-01-01', end: '2026-10-31' },
      spatial: { granularity: 'other', zones: [] },
    },
  ],
  [
    'a closed format only',
    'POST',
    '/api/1/datasets/{ds}/resources/',
    { title: 'Rapport', url: 'https://example.org/rapport.pdf', filetype: 'remote', format: 'pdf' },
  ],
  [
    'an open, documented, unavailable remote',
    'POST',
    '/api/1/datasets/{ds}/resources/',
    {
      title: 'Ventes',
      url: 'https://example.org/ventes.csv',
      filetype: 'remote',
      format: 'csv',
      description: 'Une ligne par mois',
      extras: { 'check:available': false },
    },
  ],
  ['a frequency with a delay', 'PUT', '/api/1/datasets/{ds}/', { frequency: 'monthly' }],
  ['the frequency unknown', 'PUT', '/api/1/datasets/{ds}/', { frequency: 'unknown' }],
]

describe.each(kitVersions())('udata $name: the guides', (version) => {
  const udata = useUdata(version)

  it('dated releases: a new resource per run, a rerun adds nothing, keep removes only what this publication released', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const manual = await u.api.addFile(ds.id, 'ventes-manuelles.csv', 'm\n', 'Déposé à la main')
    const ws = await scenarioWorkspace()
    const run = (id: number, keep = '') =>
      ws.run(
        u,
        { dataset: ds.id, resources: `${RELEASE}${keep}` },
        { ...provenanceEnv('monthly'), GITHUB_RUN_ID: String(id) },
      )
    await ws.write('out/ventes.csv', 'mois,total\n2026-09,1\n')
    const first = await run(1)
    expect.soft(first.code, context(first, u)).toBe(0)

    // The same run again (a re-run of its jobs): nothing is written.
    const mark = u.mark()
    const rerun = await run(1)
    expect.soft(rerun.code, context(rerun, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])

    await ws.write('out/ventes.csv', 'mois,total\n2026-10,2\n')
    expect((await run(2)).code).toBe(0)
    const two = await u.api.dataset(ds.id)
    expect(names(two)).toEqual([
      `ventes-${today()}-2.csv`,
      `ventes-${today()}-1.csv`,
      'ventes-manuelles.csv',
    ])
    const [second, oldest] = two.resources
    expect(second?.extras).toMatchObject({
      'publish:release': 'out/ventes.csv',
      'publish:release-run': 'run:https://github.com/example/conformance/actions/runs/2',
      'publish:workflow': 'monthly',
    })

    await ws.write('out/ventes.csv', 'mois,total\n2026-11,3\n')
    const third = await run(3, '  keep: 2\n')
    expect.soft(third.code, context(third, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(names(after)).toEqual([
      `ventes-${today()}-3.csv`,
      `ventes-${today()}-2.csv`,
      'ventes-manuelles.csv',
    ])
    expect(after.resources.map((r) => r.id)).not.toContain(oldest?.id)
    expect(after.resources.find((r) => r.id === manual.id)?.title).toBe('Déposé à la main')
    expect(outputResources(third)).toEqual([
      expect.objectContaining({ action: 'created', release: `ventes-${today()}-3.csv` }),
      expect.objectContaining({ id: oldest?.id, kind: 'remove', action: 'removed' }),
    ])
  })

  it('a release stored by a stopped run, unrecorded, is taken up by the next run when its file is the same', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const content = 'mois,total\n2026-10,12\n'
    // What a run stopped between the upload and the extras merge leaves: the file, no provenance.
    const left = await u.api.addFile(ds.id, `ventes-${today()}-1.csv`, content)
    const ws = await scenarioWorkspace()
    await ws.write('out/ventes.csv', content)
    // The source in process (the suite's other scenarios run the bundle, built from it).
    const run = await runInProcess(
      { 'api-url': u.url, 'api-key': u.seed.api_key, dataset: ds.id, resources: RELEASE },
      { cwd: ws.dir, env: { ...provenanceEnv('monthly'), GITHUB_RUN_ID: '7' } },
    )
    expect.soft(run.code, context(run, u)).toBe(0)
    const after = await u.api.dataset(ds.id)
    expect(after.resources.map((r) => r.id)).toEqual([left.id])
    expect(after.resources[0]?.extras).toMatchObject({
      'publish:release': 'out/ventes.csv',
      'publish:release-run': 'run:https://github.com/example/conformance/actions/runs/7',
    })
    expect(outputResources(run)).toEqual([
      expect.objectContaining({
        id: left.id,
        reason: expect.stringContaining('a stopped run stored (the same file)'),
      }),
    ])
  })

  it('the quality output is the score udata computes after the run, each criterion not met named', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id, {
      description:
        'Ventes mensuelles par région depuis 2019 : une ligne par mois et par région, le total des ' +
        'ventes en euros, mis à jour chaque mois.',
    })
    const ws = await scenarioWorkspace()
    await ws.write('out/ventes.csv', 'mois,total\n2026-10,12\n')

    const run = await ws.run(u, {
      dataset: ds.id,
      files: 'out/ventes.csv',
      'create-missing': 'true',
      'dataset-metadata':
        'license: lov2\nfrequency: monthly\ntemporal_coverage: {start: 2019-01-01, end: today}',
    })

    expect.soft(run.code, context(run, u)).toBe(0)
    const held = await u.api.dataset(ds.id)
    const quality = held['quality'] as Record<string, unknown>
    const output = JSON.parse(run.outputs.quality ?? '') as {
      score: number
      when: string
      met: string[]
      not_met: Array<{ criterion: string }>
    }
    expect(output.when).toBe('after')
    expect(output.score).toBeCloseTo(quality['score'] as number, 3)
    const criteria = [
      'dataset_description_quality',
      'license',
      'update_frequency',
      'update_fulfilled_in_time',
      'temporal_coverage',
      'spatial',
      'resources_documentation',
      'has_open_format',
      'all_resources_available',
    ]
    expect(output.met).toEqual(criteria.filter((c) => quality[c] === true))
    expect(output.not_met.map((c) => c.criterion)).toEqual(
      criteria.filter((c) => quality[c] !== true),
    )
    expect(output.met).toEqual(
      expect.arrayContaining([
        'license',
        'update_frequency',
        'temporal_coverage',
        'has_open_format',
      ]),
    )
    expect(output.not_met.map((c) => c.criterion)).toEqual(['spatial', 'resources_documentation'])
    expect(held['temporal_coverage']).toMatchObject({ start: '2019-01-01', end: today() })
  })

  it('temporal_coverage end: today keeps the start udata holds and the other fields, and a run that publishes nothing new sends nothing', async () => {
    const u = udata()
    const others = {
      license: 'lov2',
      frequency: 'monthly',
      spatial: { granularity: 'other', zones: [] },
      tags: ['ventes', 'mensuel'],
    }
    const ds = await u.api.createDataset(u.seed.org_id, {
      temporal_coverage: { start: '2018-01-01', end: '2018-12-31' },
      ...others,
    })
    const before = await u.api.dataset(ds.id)
    const ws = await scenarioWorkspace()
    await ws.write('out/ventes.csv', 'mois,total\n2026-10,12\n')
    const inputs = {
      dataset: ds.id,
      files: 'out/ventes.csv',
      'create-missing': 'true',
      'dataset-metadata': 'temporal_coverage: {end: today}',
    }
    const run = await ws.run(u, inputs)
    expect.soft(run.code, context(run, u)).toBe(0)
    const held = await u.api.dataset(ds.id)
    expect(held['temporal_coverage']).toMatchObject({ start: '2018-01-01', end: today() })
    // The dataset's other fields are left as they were.
    const fields = ['license', 'frequency', 'spatial', 'tags', 'description', 'title'] as const
    const pick = (d: UdataDataset) => Object.fromEntries(fields.map((k) => [k, d[k]]))
    expect(pick(held)).toEqual(pick(before))
    expect(held).toMatchObject({
      license: 'lov2',
      frequency: 'monthly',
      spatial: { granularity: 'other' },
    })
    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(JSON.parse(again.outputs.quality ?? '{}')).toMatchObject({ when: 'before' })
  })

  it('the emulator computes the quality object as udata does, state by state', async () => {
    const u = udata()
    const emulator = await startEmulator(version.name === 'v7' ? { version: 'legacy' } : {})
    try {
      const user = emulator.addUser({ apiKey: 'guides-quality-key-0123456789' })
      const org = emulator.addOrganization({
        name: 'Guides',
        members: [{ user: user.id, role: 'admin' }],
      })
      const sides = [
        { call: caller(u.url, u.seed.api_key), org: u.seed.org_id, id: '' },
        { call: caller(emulator.url, user.apiKey), org: org.id, id: '' },
      ]
      for (const side of sides) {
        const created = await side.call('POST', '/api/1/datasets/', {
          title: 'Qualité',
          description: 'Court',
          organization: side.org,
        })
        side.id = String(created['id'])
      }
      const canonical = (quality: Record<string, unknown> | undefined): string =>
        JSON.stringify(Object.entries(quality ?? {}).sort(([a], [b]) => a.localeCompare(b)))
      const differences: string[] = []
      const held = new Map<string, Record<string, unknown>>()
      for (const [name, method, apiPath, body] of [
        ['created', 'GET', '/api/1/datasets/{ds}/', undefined] as const,
        ...QUALITY_STEPS,
      ]) {
        const [real, emulated] = await Promise.all(
          sides.map(async (side) => {
            const at = apiPath.replace('{ds}', side.id)
            if (method !== 'GET') await side.call(method, at, body)
            const dataset = await side.call('GET', `/api/1/datasets/${side.id}/`)
            return dataset['quality'] as Record<string, unknown>
          }),
        )
        if (canonical(real) !== canonical(emulated))
          differences.push(`${name}: udata ${canonical(real)} / emulator ${canonical(emulated)}`)
        held.set(name, real ?? {})
      }
      expect(differences).toEqual([])
      // What the walk reached on udata's side: each criterion both ways.
      expect(held.get('a description of 60 emoji')).toMatchObject({
        dataset_description_quality: false,
      })
      expect(held.get('a description of 101 letters')).toMatchObject({
        dataset_description_quality: true,
      })
      expect(held.get('license, frequency without delay, coverages')).toMatchObject({
        license: true,
        update_frequency: true,
        update_fulfilled_in_time: true,
        temporal_coverage: true,
        spatial: true,
      })
      expect(held.get('a closed format only')).toMatchObject({
        has_resources: true,
        has_open_format: false,
        resources_documentation: false,
        all_resources_available: true,
      })
      expect(held.get('an open, documented, unavailable remote')).toMatchObject({
        has_open_format: true,
        resources_documentation: true,
        all_resources_available: false,
        score: 8 / 9,
      })
      expect(held.get('the frequency unknown')).not.toHaveProperty('update_fulfilled_in_time')
    } finally {
      await emulator.close()
    }
  })

  it('file-checks: error stops the run before any write', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const ws = await scenarioWorkspace()
    await ws.write('out/vide.csv', 'a,b,a\n')
    const mark = u.mark()
    const run = await ws.run(u, {
      dataset: ds.id,
      files: 'out/vide.csv',
      'create-missing': 'true',
      'file-checks': 'error',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "out/vide.csv: duplicated column names: 'a' (the tabular API names each column once) (input 'file-checks' is 'error'; 'warn' lets it go)",
    )
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect((await u.api.dataset(ds.id)).resources).toEqual([])
  })
})
