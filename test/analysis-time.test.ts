/**
 * `wait-for-analysis` on runners whose clock is not UTC. The dates the analyser leaves in a
 * resource's extras come in three shapes: hydra's ISO strings with an offset (`check:date`,
 * `datetime.now(timezone.utc).isoformat()` in hydra's crawl/preprocess_check_data.py), the same
 * check date as udata renders a datetime it stores (no zone, UTC: udata's
 * tests/apiv2/test_datasets.py `test_get_ressource_extras`), and PostgreSQL's text of a
 * timestamptz (`2023-06-04 10:25:23.022766+02`, in udata's fixtures/results.json). Each is judged
 * against the start of the run under UTC, Europe/Paris and America/New_York: the zone is set for
 * the whole file (Node re-reads `TZ` when it is assigned), and each block first checks that the
 * local clock really moved.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Resource } from '../src/datagouv/schemas.js'
import type { Scope } from '../src/datagouv/scope.js'
import { waitForAnalysis } from '../src/engine/analysis.js'
import { instantOf } from '../src/engine/analysis/hydra.js'
import type { Result } from '../src/engine/publish.js'
import { fixture, type Fixture } from './helpers/fixture.js'

/** Minutes east of UTC on 15 January (no summer time anywhere then), for each zone tested. */
const ZONES = { UTC: 0, 'Europe/Paris': 60, 'America/New_York': -300 } as const

const SINCE = Date.UTC(2026, 0, 15, 12, 0, 0)
const silent = { info: () => {}, debug: () => {}, warning: () => {} }

/** `2026-01-15T12:00:05.123456`: a UTC instant as udata renders a stored datetime (no zone). */
const naiveUtc = (ms: number): string => `${new Date(ms).toISOString().slice(0, -1)}456`
/** `2026-01-15T12:00:05.123456+00:00`, as hydra sends it. */
const hydraIso = (ms: number): string => `${naiveUtc(ms)}+00:00`
/** `2026-01-15 13:00:05.123456+01`, PostgreSQL's text of a timestamptz in Paris. */
const postgres = (ms: number): string =>
  `${new Date(ms + 3_600_000).toISOString().slice(0, -1).replace('T', ' ')}456+01`

function resource(extras: Record<string, unknown>, fields: Partial<Resource> = {}): Resource {
  return {
    id: 'r1',
    title: 'data.csv',
    filetype: 'file',
    type: 'main',
    format: 'csv',
    url: 'https://static.example.org/data.csv',
    extras,
    ...fields,
  }
}

/** A run that published `before` and now reads `after` from the dataset. */
async function wait(before: Resource, after: Resource, seconds = 60) {
  const result = {
    step: { kind: 'file', action: 'upload', entry: { source: 'data.csv' } },
    action: 'uploaded',
    resource: before,
    patched: [],
    durationMs: 0,
  } as unknown as Result
  const scope = { kind: 'owner', list: () => Promise.resolve([after]) } as unknown as Scope
  const waited = waitForAnalysis(scope, [result], seconds, new Date(SINCE), silent)
  await vi.runAllTimersAsync()
  const { reports, timedOut } = await waited
  return { ...(reports[0] as (typeof reports)[number]), timedOut }
}

/** What hydra left before the run: an analysis of the previous file, an hour old. */
const previous = {
  'check:id': 7,
  'check:date': hydraIso(SINCE - 3_600_000),
  'check:available': true,
  'check:status': 200,
  'analysis:check_id': 7,
  'analysis:parsing:finished_at': hydraIso(SINCE - 3_590_000),
}

describe.each(Object.entries(ZONES))('wait-for-analysis under TZ=%s', (zone, east) => {
  beforeAll(() => {
    vi.stubEnv('TZ', zone)
  })
  afterAll(() => {
    vi.unstubAllEnvs()
  })
  beforeEach(() => {
    vi.useFakeTimers({ now: SINCE + 1000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs with the local clock of the zone', () => {
    expect(new Date(SINCE).getTimezoneOffset() + east).toBe(0)
    expect(new Date(SINCE).getHours()).toBe((12 + east / 60 + 24) % 24)
  })

  it('reads every shape of date as the same instant', () => {
    const at = SINCE + 5123
    expect(instantOf(hydraIso(at))).toBe(at)
    expect(instantOf(naiveUtc(at))).toBe(at)
    expect(instantOf(postgres(at))).toBe(at)
    expect(instantOf('2026-01-15T07:00:05.123-05:00')).toBe(at)
    expect(instantOf('2026-01-15T12:00:05.123Z')).toBe(at)
    expect(instantOf('2026-01-15')).toBe(Date.UTC(2026, 0, 15))
    for (const bad of ['', 'yesterday', '2026-02-31T00:00:00', '2026-01-15T25:00:00', 42, null])
      expect(instantOf(bad), String(bad)).toBeNaN()
  })

  it('takes a check dated without a zone as UTC: a fresh check is fresh', async () => {
    // A remote resource whose check changed (a new status) and whose content did not: only
    // check:date says the check is new.
    const before = resource(previous, { filetype: 'remote', format: 'json' })
    const after = resource(
      {
        ...previous,
        'check:id': 8,
        'check:date': naiveUtc(SINCE + 5000),
        'check:available': false,
        'check:status': 503,
      },
      { filetype: 'remote', format: 'json' },
    )
    expect(await wait(before, after)).toMatchObject({
      state: 'analysed',
      timedOut: false,
      available: false,
      status: 503,
    })
  })

  it('takes a check dated without a zone as UTC: an old check stays old', async () => {
    const before = resource(previous, { filetype: 'remote', format: 'json' })
    const after = resource(
      { ...previous, 'check:date': naiveUtc(SINCE - 3 * 3_600_000) },
      { filetype: 'remote', format: 'json' },
    )
    expect(await wait(before, after, 5)).toMatchObject({ state: 'pending', timedOut: true })
  })

  it('reads the offsets hydra and PostgreSQL write, before and after the start', async () => {
    const fresh = resource({
      ...previous,
      'check:id': 8,
      'check:date': hydraIso(SINCE + 5000),
      'analysis:check_id': 8,
      'analysis:parsing:started_at': postgres(SINCE + 6000),
      'analysis:parsing:finished_at': postgres(SINCE + 7000),
    })
    expect(await wait(resource(previous), fresh)).toMatchObject({
      state: 'analysed',
      parsing: 'ok',
      timedOut: false,
    })
    // The new analysis is there, its parsing not yet: the parsing that finished is the old file's.
    const parsingOld = resource({
      ...previous,
      'check:id': 8,
      'check:date': hydraIso(SINCE + 5000),
      'analysis:check_id': 8,
      'analysis:parsing:finished_at': postgres(SINCE - 1000),
    })
    expect(await wait(resource(previous), parsingOld, 5)).toMatchObject({
      state: 'pending',
      parsing: 'pending',
      timedOut: true,
    })
  })
})

describe('wait-for-analysis: what hydra parses', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: SINCE + 1000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  const analysedNow = {
    'check:id': 8,
    'check:date': hydraIso(SINCE + 5000),
    'check:available': true,
    'check:status': 200,
    'analysis:check_id': 8,
  }

  it('does not wait for the parsing of a parquet file, which never comes, and says so', async () => {
    const parquet = { format: 'parquet', url: 'https://static.example.org/data.parquet' }
    const after = resource(
      { ...analysedNow, 'check:headers:content-type': 'application/vnd.apache.parquet' },
      parquet,
    )
    expect(await wait(resource({}, parquet), after)).toMatchObject({
      state: 'analysed',
      parsing: 'none',
      timedOut: false,
    })
  })

  it('waits for the parsing of a file served as text/plain (read as CSV), not after a download failure', async () => {
    const text = { format: 'txt', url: 'https://static.example.org/data.txt' }
    const plain = { ...analysedNow, 'check:headers:content-type': 'text/plain; charset=utf-8' }
    expect(await wait(resource({}, text), resource(plain, text), 5)).toMatchObject({
      state: 'pending',
      parsing: 'pending',
      timedOut: true,
    })
    const failed = { ...plain, 'analysis:error': 'File too large to download' }
    expect(await wait(resource({}, text), resource(failed, text))).toMatchObject({
      state: 'analysed',
      parsing: 'none',
      timedOut: false,
    })
  })

  it('waits for the analysis of a file, not only its check', async () => {
    const checkedOnly = resource({
      ...previous,
      'check:id': 8,
      'check:date': hydraIso(SINCE + 5000),
    })
    expect(await wait(resource(previous), checkedOnly, 5)).toMatchObject({
      state: 'pending',
      timedOut: true,
    })
  })
})

describe.each(Object.keys(ZONES))('wait-for-analysis end to end under TZ=%s', (zone) => {
  let f: Fixture | undefined
  beforeAll(() => {
    vi.stubEnv('TZ', zone)
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await f?.close()
  })

  it("reports the emulated analyser's results as analysed, and a log line per resource", async () => {
    f = await fixture()
    await f.write('good.csv', 'a,b\n1,2\n')
    await f.write('table.parquet', 'PAR1')
    f.emulator.analyser.configure({ delayMs: 200, parsingDelayMs: 200 })
    const run = await f.run({
      files: '*.csv\n*.parquet',
      'create-missing': 'true',
      'wait-for-analysis': '1m',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).not.toContain('::warning::')
    expect(run.stdout).toMatch(
      / {2}good\.csv: available \(200\), csv, text\/csv, parsed into a table/,
    )
    expect(run.stdout).toMatch(/ {2}table\.parquet: available \(200\), parquet/)
  })
})
