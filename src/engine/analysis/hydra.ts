/**
 * What the analyser's keys in a resource's extras say (docs/udata-protocol.md §7): when it last
 * checked and analysed the resource, and whether it will parse the file into a table at all.
 * Pure: extras in, facts out.
 */
import type { Resource } from '../../datagouv/schemas.js'

/**
 * An instant as the analyser's keys hold it, in ms since the epoch; NaN for anything else. Three
 * shapes reach udata's API:
 * - `2026-01-15T12:00:05.123456+00:00`: hydra's `isoformat()` of an aware UTC datetime (`check:date`
 *   in crawl/preprocess_check_data.py, the parsing dates in analysis/helpers.py);
 * - `2026-01-15T12:00:05.123456`: udata's rendering of a datetime it stores (`check:date` is a
 *   registered `DateTimeField` extra; MongoDB keeps UTC and gives it back without a zone), so UTC;
 * - `2026-01-15 13:00:05.123456+01`: PostgreSQL's text of a timestamptz, sent by older hydras.
 * Never the runner's local time: `Date.parse` reads a date-time without a zone as local time, which
 * on a runner in Paris makes a fresh check an hour old.
 */
export function instantOf(value: unknown): number {
  if (typeof value !== 'string') return Number.NaN
  const match = INSTANT.exec(value.trim())
  if (match === null) return Number.NaN
  const [, year, month, day, hours = '0', minutes = '0', seconds = '0', fraction = '', zone] = match
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hours),
    Number(minutes),
    Number(seconds),
    Number(fraction.padEnd(3, '0').slice(0, 3)),
  )
  // Date.UTC carries 2026-02-31 over into March: such a date is not one.
  if (new Date(utc).getUTCDate() !== Number(day) || Number(hours) > 23) return Number.NaN
  return utc - offsetMinutes(zone) * 60_000
}

const INSTANT =
  /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/i

/** `Z` -> 0, `+01` -> 60, `-05:00` -> -300; none (UTC, as udata renders it) -> 0. */
function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0
  const digits = zone.slice(1).replace(':', '')
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')
  return zone.startsWith('-') ? -minutes : minutes
}

/**
 * Formats hydra parses into a table, by the resource's format (its catalogue's `format`:
 * data_formats/detect.py tries Csv, Csvgz, Xls, Xlsx before anything else). Parquet is not among
 * them: hydra's Parquet reader, off unless `PARQUET_TO_DB` is set, sends udata no parsing result
 * at all, so a parquet file never gets `analysis:parsing:*`.
 */
export const PARSED_FORMATS: readonly string[] = ['csv', 'csv.gz', 'xls', 'xlsx']

/**
 * Content types of the check that send a file to the same readers (data_formats/csv_like:
 * `text/plain` is read as CSV, and `application/octet-stream` as gzipped CSV, which then usually
 * ends in a parsing error).
 */
const PARSED_TYPES = [
  'text/csv',
  'application/csv',
  'text/plain',
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
]

/**
 * Whether hydra will parse the resource's file into a table once it has analysed it: by format,
 * by the content type its check saw, or a `csv.gz` URL; not when the analysis could not download
 * the file (`analysis:error`: too large for its format, or unreachable).
 */
export function parsingExpected(resource: Resource, freshAnalysis: boolean): boolean {
  const extras = resource.extras ?? {}
  if (freshAnalysis && typeof extras['analysis:error'] === 'string') return false
  if (PARSED_FORMATS.includes((resource.format ?? '').toLowerCase())) return true
  if (resource.url.includes('csv.gz')) return true
  const type = extras['check:headers:content-type']
  return typeof type === 'string' && PARSED_TYPES.some((t) => type.toLowerCase().startsWith(t))
}

/** The analyser's judgement of a resource since `since`, against its extras before the run. */
export interface Freshness {
  /** A check dated after the start of the run (written only when it differs from the last). */
  checked: boolean
  /** An analysis of a new check (`analysis:check_id` changed): written on a first check or a change. */
  analysed: boolean
  /** A parsing that finished after the start of the run. */
  parsed: boolean
}

export function freshness(
  resource: Resource,
  before: Readonly<Record<string, unknown>>,
  since: Date,
): Freshness {
  const extras = resource.extras ?? {}
  const after = (key: string) => instantOf(extras[key]) >= since.getTime()
  const checkId = extras['analysis:check_id']
  return {
    checked: after('check:date'),
    analysed: checkId !== undefined && checkId !== null && checkId !== before['analysis:check_id'],
    parsed: after('analysis:parsing:finished_at'),
  }
}
