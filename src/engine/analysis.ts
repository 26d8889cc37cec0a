/**
 * `wait-for-analysis`: after publishing, data.gouv.fr's analyser (hydra) checks each resource
 * (availability: `check:*` extras) and analyses its file (`analysis:*`; csv, csv.gz, xls and xlsx
 * files are parsed into a table, `analysis:parsing:*`), minutes later (docs/udata-protocol.md §7).
 * This polls the dataset until every resource published by the run shows an analysis newer than
 * the publication, or the time is up, and says per resource what the analyser made of it. A
 * timeout is a warning.
 *
 * Newer than the publication: hydra writes `check:*` only when the check differs from the last one,
 * so `check:date` alone may stay old; a new `analysis:check_id`, or a parsing finished after the
 * publication, tell a fresh analysis too. Its dates are read as analysis/hydra.ts says, never in
 * the runner's time zone. A file hydra does not parse (parquet, json...) is not waited for beyond
 * its analysis.
 */
import type { Logger } from '../datagouv/client.js'
import type { Resource } from '../datagouv/schemas.js'
import { sleep } from '../datagouv/retry.js'
import type { Scope } from '../datagouv/scope.js'
import { toErrorMessage } from '../util/errors.js'
import { freshness, parsingExpected, PARSED_FORMATS } from './analysis/hydra.js'
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
  /**
   * Files hydra parses: `ok` (parsed into a table), `error`, `pending`; others (parquet, json,
   * remote resources not parsed yet): `none`.
   */
  parsing: 'ok' | 'error' | 'pending' | 'none'
  parsing_error: string | null
  preview: string | null
}

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

function parsingState(
  resource: Resource,
  before: Record<string, unknown>,
  since: Date,
): AnalysisReport['parsing'] {
  const extras = resource.extras ?? {}
  const fresh = freshness(resource, before, since)
  if (fresh.parsed) return typeof extras['analysis:parsing:error'] === 'string' ? 'error' : 'ok'
  return parsingExpected(resource, fresh.analysed) ? 'pending' : 'none'
}

/**
 * Whether the resource shows an analysis newer than the publication, and for a file that hydra
 * parses, its parsing. A file is analysed after each change (hydra sees a new Last-Modified), so
 * its fresh check alone is not enough, unless the check says it cannot be read. A remote resource
 * is done once checked: whether its content changed, and so whether hydra analyses and parses it
 * again, cannot be known from here.
 */
function analysed(resource: Resource, before: Record<string, unknown>, since: Date): boolean {
  const fresh = freshness(resource, before, since)
  if (resource.extras?.['check:available'] === false && fresh.checked) return true
  if (resource.filetype === 'remote') return fresh.checked || fresh.analysed
  if (!fresh.analysed && !fresh.parsed) return false
  return parsingState(resource, before, since) !== 'pending'
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
    parsing: parsingState(resource, before, since),
    parsing_error:
      typeof extras['analysis:parsing:error'] === 'string'
        ? extras['analysis:parsing:error']
        : null,
    preview: typeof resource['preview_url'] === 'string' ? resource['preview_url'] : null,
  }
}

/**
 * One resource's analysis in words, for the log: `data.csv: available (200), csv, text/csv, parsed
 * into a table`, or `data.csv: pending (...)`.
 */
export function analysisLine(r: AnalysisReport): string {
  if (r.state === 'pending')
    return `${r.source}: pending (no analysis${r.parsing === 'pending' ? ' or parsing' : ''} of the new version yet)`
  const parts: string[] = []
  if (r.available !== null)
    parts.push(`${r.available ? 'available' : 'unavailable'} (${r.status ?? 'no answer'})`)
  parts.push(...[r.format, r.mime].filter((v): v is string => v !== null && v !== ''))
  parts.push(
    r.parsing === 'ok'
      ? 'parsed into a table'
      : r.parsing === 'error'
        ? `parsing failed: ${r.parsing_error ?? 'no message'}`
        : r.parsing === 'pending'
          ? 'parsing not finished'
          : `not parsed into a table (data.gouv.fr parses ${PARSED_FORMATS.join(', ')})`,
  )
  if (r.preview !== null) parts.push(`preview ${r.preview}`)
  return `${r.source}: ${parts.join(', ')}`
}
