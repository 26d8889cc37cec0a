/**
 * The quality score (engine/quality.ts), the declared frequency's deadline (plan/frequency.ts) and
 * `temporal_coverage.end: today` (plan/coverage.ts): units, then through the action against the
 * emulator, whose `quality` is udata's (emulator/quality.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Dataset } from '../src/datagouv/schemas.js'
import { resolveCoverage } from '../src/engine/plan/coverage.js'
import { missedFrequency } from '../src/engine/plan/frequency.js'
import { qualityOf, qualityOutput } from '../src/engine/quality.js'
import { fixture, type Fixture } from './helpers/fixture.js'

let f: Fixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

const DAY = 86_400_000
const LONG =
  'Ventes mensuelles par région depuis 2019 : une ligne par mois et par région, le total des ventes en euros.'

function dataset(fields: Record<string, unknown>): Dataset {
  return { id: 'd', slug: 'ventes', title: 'Ventes', resources: [], ...fields }
}

describe('qualityOf', () => {
  it('reads the score and every criterion, with what to do for each one not met', () => {
    const report = qualityOf(
      dataset({
        quality: {
          license: true,
          temporal_coverage: false,
          spatial: false,
          update_frequency: true,
          update_fulfilled_in_time: false,
          dataset_description_quality: true,
          has_resources: true,
          has_open_format: true,
          all_resources_available: true,
          resources_documentation: false,
          score: 5 / 9,
        },
      }),
      'after',
    )
    expect(report?.score).toBeCloseTo(0.556, 3)
    expect(report?.criteria.filter((c) => !c.met).map((c) => c.id)).toEqual([
      'update_fulfilled_in_time',
      'temporal_coverage',
      'spatial',
      'resources_documentation',
    ])
    expect(JSON.parse(qualityOutput(report))).toMatchObject({
      score: 0.556,
      when: 'after',
      not_met: expect.arrayContaining([
        {
          criterion: 'temporal_coverage',
          label: 'A temporal coverage',
          advice: expect.stringContaining('`end: today` follows the publications'),
        },
      ]),
    })
  })

  it('criteria udata leaves out count as not met, and say what comes first', () => {
    const report = qualityOf(
      dataset({
        quality: {
          license: false,
          temporal_coverage: false,
          spatial: false,
          update_frequency: false,
          dataset_description_quality: false,
          score: 0,
        },
      }),
      'before',
    )
    const advice = Object.fromEntries(report?.criteria.map((c) => [c.id, c.advice]) ?? [])
    expect(report?.criteria.every((c) => !c.met)).toBe(true)
    expect(advice['update_fulfilled_in_time']).toMatch(/declare an update frequency first/)
    expect(advice['has_open_format']).toBe('publish a resource first')
  })

  it('a server that answers no quality: none', () => {
    expect(qualityOf(dataset({}), 'after')).toBeUndefined()
    expect(qualityOutput(undefined)).toBe('')
  })
})

describe('missedFrequency', () => {
  const now = new Date('2026-11-30T12:00:00Z')
  it.each([
    ['monthly', 31, false],
    ['monthly', 32, false], // one day of tolerance, as udata v17
    ['monthly', 33, true],
    ['daily', 3, true],
    ['irregular', 400, false],
    ['unknown', 400, false],
  ])('%s, last updated %i days before: late %s', (frequency, days, late) => {
    const last = new Date(now.getTime() - days * DAY).toISOString()
    const warnings = missedFrequency(dataset({ frequency, last_update: last }), now, false)
    expect(warnings.length > 0).toBe(late)
  })

  it('says when the last update was and whether this run brings it up to date', () => {
    const last = new Date(now.getTime() - 92 * DAY).toISOString()
    const [warning] = missedFrequency(
      dataset({ frequency: 'monthly', last_update: last }),
      now,
      true,
    )
    expect(warning).toBe(
      "dataset 'ventes' declares the frequency 'monthly' (an update at least every 31 days), and " +
        "its last update was on 2026-08-30, 92 days before this run: data.gouv.fr's quality score " +
        'counts it as not updated in time; this run publishes a file, which brings it up to date',
    )
  })
})

describe('resolveCoverage (end: today)', () => {
  const live = dataset({ temporal_coverage: { start: '2019-01-01', end: '2026-10-31' } })
  const wanted = { temporal_coverage: { end: 'today' } }

  it('keeps the start the dataset has, and sends the whole object', () => {
    expect(resolveCoverage(wanted, live, '2026-11-30', true).metadata).toEqual({
      temporal_coverage: { start: '2019-01-01', end: '2026-11-30' },
    })
  })

  it('a run that publishes no file keeps the end', () => {
    expect(resolveCoverage(wanted, live, '2026-11-30', false).metadata).toEqual({
      temporal_coverage: { start: '2019-01-01', end: '2026-10-31' },
    })
  })

  it('no start anywhere is a problem naming the input', () => {
    const found = resolveCoverage(wanted, dataset({ temporal_coverage: null }), '2026-11-30', true)
    expect(found.metadata).toBeUndefined()
    expect(found.problems).toEqual([
      "input 'dataset-metadata'.temporal_coverage: end: today keeps the dataset's start, and dataset 'ventes' has none: give temporal_coverage.start",
    ])
  })
})

describe('through the action', () => {
  it('reports the score after the run and each criterion not met, in the summary, the log and the output', async () => {
    f = await fixture({ description: LONG, license: 'lov2', frequency: 'monthly' })
    await f.write('ventes.csv', 'mois,total\n2026-10,12\n')

    const run = await f.run({ files: 'ventes.csv', 'create-missing': 'true' })

    expect(run.code, run.stdout).toBe(0)
    const quality = JSON.parse(run.outputs.quality ?? '') as Record<string, unknown>
    expect(quality).toEqual({
      score: 0.667,
      when: 'after',
      met: [
        'dataset_description_quality',
        'license',
        'update_frequency',
        'update_fulfilled_in_time',
        'has_open_format',
        'all_resources_available',
      ],
      not_met: [
        expect.objectContaining({ criterion: 'temporal_coverage' }),
        expect.objectContaining({ criterion: 'spatial' }),
        expect.objectContaining({ criterion: 'resources_documentation' }),
      ],
    })
    expect(run.stdout).toContain(
      'Quality score: 67 %; not met: temporal_coverage, spatial, resources_documentation',
    )
    expect(run.summary).toContain('#### Quality score: 67 % (6 of 9 criteria met)')
    expect(run.summary).toContain(
      '| A spatial coverage (`spatial`) | `spatial: {zones, granularity}` in dataset-metadata |',
    )
  })

  it('end: today moves the end to the run date when a file is published, keeping the start; a rerun sends nothing', async () => {
    f = await fixture({ description: LONG })
    const state = f.emulator.getDataset(f.dataset.id)
    if (state === undefined) throw new Error('no dataset')
    state.temporalCoverage = { start: '2019-01-01', end: '2026-01-31' }
    await f.write('ventes.csv', 'mois,total\n2026-10,12\n')
    const inputs = {
      files: 'ventes.csv',
      'create-missing': 'true',
      'dataset-metadata': 'temporal_coverage: {end: today}',
    }

    const run = await f.run(inputs)

    expect(run.code, run.stdout).toBe(0)
    const today = new Date().toISOString().slice(0, 10)
    expect(state.temporalCoverage).toEqual({ start: '2019-01-01', end: today })
    const put = f.emulator.requests.find(
      (r) => r.method === 'PUT' && r.path.endsWith(`/datasets/${f?.dataset.id}/`),
    )
    expect(put).toBeDefined()
    expect(JSON.parse(run.outputs.quality ?? '{}')).toMatchObject({
      met: expect.arrayContaining(['temporal_coverage']),
    })

    f.emulator.requests.length = 0
    const again = await f.run(inputs)
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(JSON.parse(again.outputs.quality ?? '{}')).toMatchObject({ when: 'before' })
    expect(again.summary).toContain('criteria met, as the dataset stands (this run wrote nothing))')
  })

  it('end: today with an unchanged file keeps the end the dataset has', async () => {
    f = await fixture({ description: LONG })
    await f.write('ventes.csv', 'a\n1\n')
    expect((await f.run({ files: 'ventes.csv', 'create-missing': 'true' })).code).toBe(0)
    const state = f.emulator.getDataset(f.dataset.id)
    if (state === undefined) throw new Error('no dataset')
    state.temporalCoverage = { start: '2019-01-01', end: '2026-01-31' }
    f.emulator.requests.length = 0
    const run = await f.run({
      files: 'ventes.csv',
      'dataset-metadata': 'temporal_coverage: {end: today}',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(state.temporalCoverage).toEqual({ start: '2019-01-01', end: '2026-01-31' })
  })

  it('warns in the plan when the declared frequency was missed before this run', async () => {
    f = await fixture({ description: LONG, frequency: 'weekly' })
    await f.write('ventes.csv', 'a\n1\n')
    expect((await f.run({ files: 'ventes.csv', 'create-missing': 'true' })).code).toBe(0)
    const state = f.emulator.getDataset(f.dataset.id)
    if (state === undefined) throw new Error('no dataset')
    const old = new Date(Date.now() - 20 * DAY)
    state.lastModifiedInternal = old
    for (const r of state.resources) r.lastModifiedInternal = old
    const dry = await f.run({ files: 'ventes.csv', 'dry-run': 'true' })
    expect(dry.code, dry.stdout).toBe(0)
    expect(dry.stdout).toMatch(
      /::warning::dataset 'test-dataset' declares the frequency 'weekly' \(an update at least every 7 days\), and its last update was on \d{4}-\d{2}-\d{2}, 20 days before this run: data.gouv.fr's quality score counts it as not updated in time; this run publishes no file: publish one, or declare a frequency the updates keep/,
    )
    expect(JSON.parse(dry.outputs.quality ?? '{}')).toMatchObject({
      when: 'before',
      not_met: expect.arrayContaining([
        expect.objectContaining({ criterion: 'update_fulfilled_in_time' }),
      ]),
    })
    expect(dry.summary).toContain('before this run (a dry run writes nothing)')
  })

  it('the emulator as udata v7 counts a late update without the day of tolerance', async () => {
    f = await fixture({ frequency: 'daily' }, { version: 'legacy' })
    await f.write('a.csv', 'a\n1\n')
    expect((await f.run({ files: 'a.csv', 'create-missing': 'true' })).code).toBe(0)
    const state = f.emulator.getDataset(f.dataset.id)
    if (state === undefined) throw new Error('no dataset')
    const late = new Date(Date.now() - 1.5 * DAY)
    for (const r of state.resources) r.lastModifiedInternal = late
    const legacy = await f.run({ files: 'a.csv', 'dry-run': 'true' })
    expect(JSON.parse(legacy.outputs.quality ?? '{}')).toMatchObject({
      not_met: expect.arrayContaining([
        expect.objectContaining({ criterion: 'update_fulfilled_in_time' }),
      ]),
    })
    await f.close()
    f = await fixture({ frequency: 'daily' })
    await f.write('a.csv', 'a\n1\n')
    expect((await f.run({ files: 'a.csv', 'create-missing': 'true' })).code).toBe(0)
    const current = f.emulator.getDataset(f.dataset.id)
    for (const r of current?.resources ?? []) r.lastModifiedInternal = late
    const v17 = await f.run({ files: 'a.csv', 'dry-run': 'true' })
    expect(JSON.parse(v17.outputs.quality ?? '{}')).toMatchObject({
      met: expect.arrayContaining(['update_fulfilled_in_time']),
    })
  })

  it("community resources: no quality reported (the dataset is its owner's)", async () => {
    f = await fixture()
    await f.write('derive.csv', 'a\n1\n')
    const run = await f.run({ files: 'derive.csv', as: 'community', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.quality).toBe('')
    expect(run.summary).not.toContain('Quality score')
  })
})
