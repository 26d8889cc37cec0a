/**
 * `file-checks`: each tabular file about to be published, checked against what data.gouv.fr does
 * with it (docs/udata-protocol.md §16): its analyser converts CSV, CSV.GZ, XLS, XLSX, ODS, parquet
 * and GeoJSON files into a table for the preview and the tabular API only up to a size per format,
 * and its tables take column names of at most 63 bytes (UTF-8; PostgreSQL's identifiers, hydra's
 * `NAMEDATALEN - 1`: a longer one fails the file's conversion). A CSV is read as a stream
 * (files/csv.ts): its encoding, separator and header, whether it has a row, its bytes decoded to
 * the end. What the platform will not do is a warning (`warn`, the default) or a problem that stops
 * the run before any write (`error`); the separator and a byte order mark are notes only.
 */
import { checkDecoding, CsvReadError, csvRows, sniffCsv, type CsvSniff } from '../files/csv.js'
import { mapConcurrent } from '../util/concurrency.js'
import { toErrorMessage } from '../util/errors.js'
import { formatBytes } from '../util/text.js'
import type { FileEntry } from './manifest.js'
import type { Settings } from './inputs.js'
import type { Step } from './plan.js'

type FileChecksMode = Settings['fileChecks']

/** What a check found of one file, as the plan and the report show it. */
export interface FileCheck {
  /** The format data.gouv.fr's analyser sees. */
  format: TabularFormat
  /** The largest file it converts, in bytes. */
  limit: number
  /**
   * Whether data.gouv.fr will convert it: within the limit and, for a CSV, readable as a table
   * whose column names fit.
   */
  converted: boolean
  /** What data.gouv.fr will and will not do with it. */
  platform: string
  csv?: { encoding: string; bom: boolean; separator: string; columns: number }
  /** What the platform will not do, or will do badly: warnings, or errors with file-checks: error. */
  warnings: string[]
  /** Worth knowing, never a failure (the separator, a byte order mark). */
  notes: string[]
}

type TabularFormat = 'csv' | 'csv.gz' | 'xls' | 'xlsx' | 'ods' | 'parquet' | 'geojson'

const MiB = 1024 * 1024

/** The largest file data.gouv.fr's analyser converts, per format (hydra's `MAX_FILESIZE_ALLOWED`). */
const LIMITS: Readonly<Record<TabularFormat, number>> = {
  csv: 100 * MiB,
  'csv.gz': 100 * MiB,
  xls: 50 * MiB,
  xlsx: 12.5 * MiB,
  ods: 10 * MiB,
  parquet: 50 * MiB,
  geojson: 100 * MiB,
}

/** The longest column name the platform's tables take, in UTF-8 bytes. */
const COLUMN_NAME_MAX = 63

const SEPARATOR_NAMES: Readonly<Record<string, string>> = {
  ',': 'comma',
  ';': 'semicolon',
  '\t': 'tab',
  '|': 'pipe',
}

export function formatOf(storedName: string): TabularFormat | undefined {
  const name = storedName.toLowerCase()
  if (name.endsWith('.csv.gz')) return 'csv.gz'
  const extension = name.slice(name.lastIndexOf('.') + 1)
  return extension in LIMITS ? (extension as TabularFormat) : undefined
}

/**
 * The steps that publish a tabular file, each with its check; the warnings, by file. Steps that
 * send no file (skip, update) are not checked.
 */
export async function checkFiles(
  steps: readonly Step[],
  mode: FileChecksMode,
  concurrency: number,
): Promise<{ steps: Step[]; warnings: string[] }> {
  if (mode === 'off') return { steps: [...steps], warnings: [] }
  const checked = await mapConcurrent(steps, concurrency, async (step): Promise<Step> => {
    if (step.kind !== 'file' || (step.action !== 'upload' && step.action !== 'create')) return step
    const check = await checkFile(step.entry)
    return check === undefined ? step : { ...step, checks: check }
  })
  const warnings = checked.flatMap((s) =>
    s.kind === 'file' && s.checks !== undefined
      ? s.checks.warnings.map((w) => `${s.entry.source}: ${w}`)
      : [],
  )
  return { steps: checked, warnings }
}

/** One file's check; `undefined` when data.gouv.fr does not convert its format at all. */
export async function checkFile(entry: FileEntry): Promise<FileCheck | undefined> {
  const format = formatOf(entry.storedName)
  if (format === undefined) return undefined
  const limit = LIMITS[format]
  const warnings: string[] = []
  const notes: string[] = []
  const within = entry.size <= limit
  if (!within) warnings.push(tooLarge(format, entry.size, limit))
  const csv =
    format === 'csv' || format === 'csv.gz' ? await checkCsv(entry, within, warnings, notes) : {}
  const refused = within ? csv.refused : 'it is too large'
  return {
    format,
    limit,
    converted: refused === undefined,
    platform: platformSays(format, refused),
    ...(csv.facts ? { csv: csv.facts } : {}),
    warnings,
    notes,
  }
}

function tooLarge(format: TabularFormat, size: number, limit: number): string {
  const gz =
    format === 'csv'
      ? '; compress it as .csv.gz, which data.gouv.fr recommends for large files'
      : ''
  // Just beyond the limit, both round to the same figure: the bytes say which is larger.
  const [given, most] =
    formatBytes(size) === formatBytes(limit)
      ? [`${size} bytes`, `${limit} bytes`]
      : [formatBytes(size), formatBytes(limit)]
  return (
    `${given}, beyond the ${most} up to which data.gouv.fr converts a ${format} file: no ` +
    `preview and no tabular API for it${gz}`
  )
}

/** `refused`: why data.gouv.fr will not convert it (none: it will). */
function platformSays(format: TabularFormat, refused: string | undefined): string {
  if (refused === undefined)
    return `data.gouv.fr will convert it into a table: a preview on its page and the tabular API`
  return `data.gouv.fr will store it for download, but will not convert it (${refused}): no preview, no tabular API for this ${format} file`
}

interface CsvFindings {
  facts?: FileCheck['csv']
  /** Why data.gouv.fr will not convert it into a table; none when it will. */
  refused?: string
}

/**
 * A CSV's encoding, separator, header and first row, and (when data.gouv.fr would convert it) its
 * bytes decoded to the end.
 */
async function checkCsv(
  entry: FileEntry,
  within: boolean,
  warnings: string[],
  notes: string[],
): Promise<CsvFindings> {
  let sniffed: CsvSniff
  let hasRow = false
  try {
    sniffed = await sniffCsv(entry.path)
    for await (const _row of csvRows(entry.path, sniffed)) {
      hasRow = true
      break
    }
    if (within) await checkDecoding(entry.path, sniffed)
  } catch (error) {
    const why =
      error instanceof CsvReadError
        ? error.message.slice(entry.path.length + 2)
        : toErrorMessage(error)
    warnings.push(`not readable as CSV: ${why}`)
    return { refused: 'it cannot be read as a table' }
  }
  const { encoding, bom, separator, header } = sniffed
  const facts = { encoding, bom, separator, columns: header.length }
  if (encoding !== 'utf-8')
    warnings.push(
      `encoded in ${encoding}, not UTF-8: data.gouv.fr guesses the encoding, but recommends UTF-8 ` +
        `(accented letters may show wrongly)`,
    )
  if (bom) notes.push(`starts with a byte order mark (${encoding})`)
  if (separator !== ',')
    notes.push(
      `separated by ${SEPARATOR_NAMES[separator] ?? separator}s: data.gouv.fr detects it, but ` +
        `recommends commas`,
    )
  if (header.length === 0) {
    warnings.push('empty: no header, no row; data.gouv.fr has nothing to show')
    return { facts, refused: 'it is empty' }
  }
  if (!hasRow) warnings.push('a header and no row: the preview and the tabular API will be empty')
  warnings.push(...headerProblems(header))
  return header.some(tooLong)
    ? { facts, refused: `a column name is longer than ${COLUMN_NAME_MAX} bytes` }
    : { facts }
}

/** Longer than PostgreSQL's identifiers, which count UTF-8 bytes (`é` is two). */
function tooLong(name: string): boolean {
  return Buffer.byteLength(name, 'utf8') > COLUMN_NAME_MAX
}

/** Column names too long, duplicated or empty. */
export function headerProblems(header: readonly string[]): string[] {
  const problems: string[] = []
  const long = header.filter(tooLong)
  if (long.length > 0)
    problems.push(
      `column names longer than ${COLUMN_NAME_MAX} bytes (UTF-8; an accented letter takes two), ` +
        `which data.gouv.fr's tables do not take, so it will not convert the file: ` +
        long.map((n) => `'${[...n].slice(0, 20).join('')}…' (${Buffer.byteLength(n)})`).join(', '),
    )
  const seen = new Set<string>()
  const named = header.map((name) => name.trim()).filter((name) => name !== '')
  const twice = new Set(named.filter((name) => seen.size === seen.add(name).size))
  if (twice.size > 0)
    problems.push(
      `duplicated column names: ${[...twice].map((n) => `'${n}'`).join(', ')} (the tabular API ` +
        `names each column once)`,
    )
  const empty = header.filter((name) => name.trim() === '').length
  if (empty > 0) problems.push(`${empty} column${empty > 1 ? 's' : ''} without a name`)
  if (named.length > 0 && named.every(looksLikeData))
    problems.push(
      `the first row looks like data (${named
        .slice(0, 3)
        .map((n) => `'${n}'`)
        .join(', ')}${named.length > 3 ? ', …' : ''}), not a header: data.gouv.fr names the ` +
        `columns after the first row; add a header row`,
    )
  return problems
}

/** A number or a date (`12`, `-3,5`, `2026-10`, `31/12/2025`, `12:30`), not a column's name. */
function looksLikeData(cell: string): boolean {
  return /^[-+]?[\d\s.,:/-]+$/.test(cell) && /\d/.test(cell)
}
