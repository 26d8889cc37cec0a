/**
 * What data.gouv.fr's guides ask beyond replacing files, against real udata: dated releases (a
 * rerun adds nothing, `keep` removes only what this publication released), the quality score as
 * udata computes it, and a temporal coverage whose end follows the publications.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, storedName, writesOf, type UdataDataset } from './kit.js'
import { context, outputResources, provenanceEnv, scenarioWorkspace, useUdata } from './scenario.js'

const today = (): string => new Date().toISOString().slice(0, 10)

/** The release entry of these scenarios. */
const RELEASE = '- path: out/ventes.csv\n  release: dated\n  name: ventes-{date}-{seq}\n'

function names(dataset: UdataDataset): string[] {
  return dataset.resources.map(storedName)
}

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

  it('temporal_coverage end: today keeps the start udata holds, and a run that publishes nothing new sends nothing', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id, {
      temporal_coverage: { start: '2018-01-01', end: '2018-12-31' },
    })
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
    expect((await u.api.dataset(ds.id))['temporal_coverage']).toMatchObject({
      start: '2018-01-01',
      end: today(),
    })
    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(JSON.parse(again.outputs.quality ?? '{}')).toMatchObject({ when: 'before' })
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
