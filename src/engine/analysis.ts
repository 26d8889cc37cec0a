/**
 * `wait-for-analysis`: after publishing, data.gouv.fr's analyser (hydra) checks each resource
 * (availability: `check:*` extras) and analyses its file (`analysis:*`; tabular files are parsed
 * into a table, `analysis:parsing:*`), minutes later (docs/udata-protocol.md §7). This polls the
 * dataset until every resource published by the run shows an analysis newer than the publication,
 * or the time is up, and says per resource what the analyser made of it. A timeout is a warning.
 *
 * Newer than the publication: hydra writes `check:*` only when the check differs from the last one,
 * so `check:date` alone may stay old; a new `analysis:check_id`, or a parsing finished after the
 * publication, tell a fresh analysis too.
 */
import type { Logger } from '../datagouv/client.js'
import type { Resource } from '../datagouv/schemas.js'
import { sleep } from '../datagouv/retry.js'
import type { Scope } from '../datagouv/scope.js'
import { toErrorMessage } from '../util/errors.js'
import type { Result } from './publish.js'

export interface AnalysisReport {
  id: string
  source: string
  /** `analysed`, or `pending` when the time was up first. */
  state: 'analysed' | 'pending'
  available: boolean | null
  status: number | null
  format: string | null
  mime: string | null
  /** Tabular files: `ok` (parsed into a table), `error`, `pending`; others: `none`. */
  parsing: 'ok' | 'error' | 'pending' | 'none'
  parsing_error: string | null
  preview: string | null
}

/** Formats hydra parses into a table. */
const TABULAR = new Set(['csv', 'csv.gz', 'xls', 'xlsx', 'parquet'])

/**
 * Results whose resource the analyser looks at again: a new or replaced file, a created or
 * signalled link.
 */
export function analysable(
  results: readonly Result[],
): Array<{ result: Result; resource: Resource }> {
  return results.flatMap((result) =>
    ['uploaded', 'created', 'signalled'].includes(result.action) && result.resource !== undefined
      ? [{ result, resource: result.resource }]
      : [],
  )
}

export async function waitForAnalysis(
  scope: Scope,
  results: readonly Result[],
  seconds: number,
  since: Date,
  logger: Logger,
): Promise<{ reports: AnalysisReport[]; timedOut: boolean }> {
  const watched = analysable(results)
  const before = new Map(watched.map(({ resource }) => [resource.id, resource.extras ?? {}]))
  const until = Date.now() + seconds * 1000
  let latest = new Map(watched.map(({ resource }) => [resource.id, resource]))
  for (let poll = 0; ; poll++) {
    const done = watched.every(({ resource }) =>
      analysed(latest.get(resource.id) ?? resource, before.get(resource.id) ?? {}, since),
    )
    if (done || Date.now() >= until) {
      const reports = watched.map(({ result, resource }) =>
        report(result, latest.get(resource.id) ?? resource, before.get(resource.id) ?? {}, since),
      )
      return { reports, timedOut: !done }
    }
    await sleep(Math.min(2000 * 2 ** Math.min(poll, 4), Math.max(0, until - Date.now())))
    try {
      latest = new Map((await scope.list()).map((r) => [r.id, r]))
    } catch (error) {
      logger.warning(
        `reading the dataset to see the analysis failed: ${toErrorMessage(error)}; trying again`,
      )
    }
  }
}

function time(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN
}

function parsingState(resource: Resource, since: Date): AnalysisReport['parsing'] {
  const extras = resource.extras ?? {}
  if (!TABULAR.has((resource.format ?? '').toLowerCase())) return 'none'
  const finished = time(extras['analysis:parsing:finished_at'])
  if (!(finished >= since.getTime())) return 'pending'
  return typeof extras['analysis:parsing:error'] === 'string' ? 'error' : 'ok'
}

/**
 * Whether the resource shows an analysis newer than the publication, parsing included for tabular
 * files.
 */
function analysed(resource: Resource, before: Record<string, unknown>, since: Date): boolean {
  const extras = resource.extras ?? {}
  const checked = time(extras['check:date']) >= since.getTime()
  const newAnalysis =
    extras['analysis:check_id'] !== undefined &&
    extras['analysis:check_id'] !== before['analysis:check_id']
  const unavailable = extras['check:available'] === false && checked
  if (!checked && !newAnalysis) return false
  return (
    unavailable || resource.filetype === 'remote' || parsingState(resource, since) !== 'pending'
  )
}

function report(
  result: Result,
  resource: Resource,
  before: Record<string, unknown>,
  since: Date,
): AnalysisReport {
  const extras = resource.extras ?? {}
  const source =
    result.step.kind === 'remove'
      ? result.step.source
      : result.step.kind === 'url'
        ? result.step.entry.url
        : result.step.entry.source
  const status = extras['check:status']
  return {
    id: resource.id,
    source,
    state: analysed(resource, before, since) ? 'analysed' : 'pending',
    available: typeof extras['check:available'] === 'boolean' ? extras['check:available'] : null,
    status: typeof status === 'number' ? status : null,
    format: resource.format ?? null,
    mime:
      typeof extras['analysis:mime-type'] === 'string'
        ? extras['analysis:mime-type']
        : (resource.mime ?? null),
    parsing: parsingState(resource, since),
    parsing_error:
      typeof extras['analysis:parsing:error'] === 'string'
        ? extras['analysis:parsing:error']
        : null,
    preview: typeof resource['preview_url'] === 'string' ? resource['preview_url'] : null,
  }
}
