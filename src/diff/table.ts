/**
 * Two versions of a CSV table compared as streams. The published file is read once and kept as
 * hashes (rows.ts: no text); the local file is then read once, each row looked up as it comes, by
 * key and by content at the same time (the key is kept when it is unique in both files, else the
 * rows' content pairs them); last, the published file is read again only as far as the few
 * example rows shown of it. Encoding, separator and header come from files/csv.ts, so a file
 * re-encoded or with another separator compares by its values.
 *
 * Why not daff, a table diff library: daff compares two tables held in memory (`TableView`s of
 * arrays of rows) and aligns them with indexes of its own, so its memory grows with the text of
 * both files. Measured with daff 1.4.2 by scripts/bench/diff.ts --daff (BENCHMARKS.md, "Data
 * diff"): 890 MiB and minutes for a 10 MB pair, and 1.3 GiB only to parse a 100 MB pair into its
 * tables; this module peaks at 148 MiB on the 100 MB pair (75 of them the bare process). The
 * default diff-max-size (100MB) must fit a runner with room to spare, so the rows are parsed as
 * streams with csv-parse (files/csv.ts) and kept only as hashes (rows.ts).
 */
import { csvRows, sniffCsv, type CsvSniff } from '../files/csv.js'
import { chooseKey, columnNames, matchColumns, type ColumnMatch } from './columns.js'
import { hashFields, Hashes, HashIndex, type Hash64 } from './rows.js'

/** A row as the diff shows it: column name -> value. */
type RowView = Record<string, string>

interface TableFormat {
  encoding: string
  separator: string
}

export interface TableDiff {
  /** Present when the encoding or the separator changed. */
  format?: { before: TableFormat; after: TableFormat }
  /** The columns that pair rows; `null`: rows paired by their whole content. */
  key: { columns: string[]; from: 'entry' | 'first column' } | null
  /** Why the entry's key was not used, when it was not. */
  note?: string
  rows: {
    before: number
    after: number
    added: number
    removed: number
    /** Same key, other values (always 0 without a key: a changed row is one removed, one added). */
    changed: number
    unchanged: number
  }
  columns: Omit<ColumnMatch, 'shared'>
  examples: {
    added: RowView[]
    removed: RowView[]
    /** The key's values, and each changed column's value before and after. */
    changed: Array<{ key: RowView; changes: Record<string, { before: string; after: string }> }>
  }
}

export interface TableDiffOptions {
  /** The entry's key columns (names of the local file's header). */
  key?: readonly string[]
  /** Example rows of each kind (default 3). */
  examples?: number
}

/** A shown value longer than this is cut (with `…`). */
const SHOWN_CHARS = 60

/** `before`: the published file; `after`: the local one. Throws CsvReadError on a bad file. */
export async function diffTables(
  before: string,
  after: string,
  options: TableDiffOptions = {},
): Promise<TableDiff> {
  const sniffs = { before: await sniffCsv(before), after: await sniffCsv(after) }
  const names = {
    before: columnNames(sniffs.before.header),
    after: columnNames(sniffs.after.header),
  }
  const match = matchColumns(names.before, names.after)
  const choice = chooseKey(options.key, match)
  const keyNames = choice.by === 'key' ? choice.columns : []
  const keyed = match.shared.filter((c) => keyNames.includes(c.name))
  const columns = (which: 'before' | 'after'): Columns => ({
    compared: match.shared.map((c) => c[which]),
    key: keyed.map((c) => c[which]),
  })
  const published = await indexPublished(before, sniffs.before, columns('before'))
  const local = await walkLocal(
    after,
    sniffs.after,
    columns('after'),
    published,
    options.examples ?? 3,
  )
  const pairing = choosePairing(choice, published, local)
  const counted = counts(pairing, published, local, options.examples ?? 3)
  const examples = await exampleViews(before, sniffs.before, names, match, counted, pairing)
  const { shared: _shared, ...columnChanges } = match
  const format = formatChange(sniffs.before, sniffs.after)
  return {
    ...(format !== undefined ? { format } : {}),
    key: pairing.key,
    ...(pairing.note !== undefined ? { note: pairing.note } : {}),
    rows: {
      before: published.rows.count,
      after: local.count,
      added: counted.added,
      removed: counted.removed,
      changed: counted.changed,
      unchanged: counted.unchanged,
    },
    columns: columnChanges,
    examples,
  }
}

interface Columns {
  /** The fields compared (the columns both files have). */
  compared: number[]
  /** The key's fields; none: no key is tried. */
  key: number[]
}

interface Published {
  rows: Hashes
  byContent: HashIndex
  /** By key, when the key is unique in the published file. */
  byKey?: HashIndex
}

/** The published file's pass: each row's hashes, then the lookups. */
async function indexPublished(path: string, sniff: CsvSniff, columns: Columns): Promise<Published> {
  const rows = new Hashes()
  const keys = columns.key.length > 0 ? new Hashes() : undefined
  for await (const row of csvRows(path, sniff)) {
    rows.push(hashFields(row, columns.compared))
    keys?.push(hashFields(row, columns.key))
  }
  const byKey = keys === undefined ? undefined : new HashIndex(keys, false)
  return {
    rows,
    byContent: new HashIndex(rows),
    ...(byKey?.unique === true ? { byKey } : {}),
  }
}

interface Local {
  count: number
  /** The first rows found nowhere in the published file, by content. */
  addedByContent: string[][]
  /** By key, while the key holds (unique in both files). */
  byKey?: {
    added: number
    changed: number
    unchanged: number
    /** A key seen twice in the local file: the key cannot pair rows. */
    duplicate: boolean
    addedKeys: Hashes
    firstAdded: string[][]
    firstChanged: Array<{ row: string[]; published: number }>
  }
}

/** The local file's pass: each row looked up by content and, while it holds, by key. */
async function walkLocal(
  path: string,
  sniff: CsvSniff,
  columns: Columns,
  published: Published,
  examples: number,
): Promise<Local> {
  const local: Local = { count: 0, addedByContent: [] }
  const byKey = published.byKey
  const keyed = byKey && {
    added: 0,
    changed: 0,
    unchanged: 0,
    duplicate: false,
    addedKeys: new Hashes(),
    firstAdded: [] as string[][],
    firstChanged: [] as Array<{ row: string[]; published: number }>,
  }
  if (keyed !== undefined) local.byKey = keyed
  for await (const row of csvRows(path, sniff)) {
    local.count++
    const content = hashFields(row, columns.compared)
    if (published.byContent.take(content) === -1 && local.addedByContent.length < examples)
      local.addedByContent.push(row)
    if (byKey === undefined || keyed === undefined || keyed.duplicate) continue
    const key = hashFields(row, columns.key)
    const found = byKey.take(key)
    if (found === -2) keyed.duplicate = true
    else if (found === -1) {
      keyed.added++
      keyed.addedKeys.push(key)
      if (keyed.firstAdded.length < examples) keyed.firstAdded.push(row)
    } else if (sameHash(published.rows, found, content)) keyed.unchanged++
    else {
      keyed.changed++
      if (keyed.firstChanged.length < examples) keyed.firstChanged.push({ row, published: found })
    }
  }
  return local
}

function sameHash(hashes: Hashes, row: number, hash: Hash64): boolean {
  return hashes.hi[row] === hash.hi && hashes.lo[row] === hash.lo
}

interface Pairing {
  key: TableDiff['key']
  note?: string
}

/** The key when it held in both files, else the content (with a note if the entry named a key). */
function choosePairing(
  choice: ReturnType<typeof chooseKey>,
  published: Published,
  local: Local,
): Pairing {
  if (choice.by === 'content')
    return choice.note !== undefined ? { key: null, note: choice.note } : { key: null }
  const { by: _by, ...key } = choice
  const localUnique =
    local.byKey !== undefined &&
    !local.byKey.duplicate &&
    new HashIndex(local.byKey.addedKeys, false).unique
  if (published.byKey !== undefined && localUnique) return { key }
  if (choice.from === 'first column') return { key: null }
  const where = published.byKey === undefined ? 'published' : 'local'
  const names = choice.columns.map((c) => `'${c}'`).join(', ')
  return {
    key: null,
    note: `key ${names} is not unique in the ${where} file: rows compared by content`,
  }
}

interface Counted {
  added: number
  removed: number
  changed: number
  unchanged: number
  added_rows: string[][]
  removed_rows: number[]
  changed_rows: Array<{ row: string[]; published: number }>
}

function counts(pairing: Pairing, published: Published, local: Local, examples: number): Counted {
  const before = published.rows.count
  if (pairing.key !== null && local.byKey !== undefined && published.byKey !== undefined) {
    const k = local.byKey
    return {
      added: k.added,
      removed: before - published.byKey.takenCount,
      changed: k.changed,
      unchanged: k.unchanged,
      added_rows: k.firstAdded,
      removed_rows: published.byKey.taken.firstClear(examples),
      changed_rows: k.firstChanged,
    }
  }
  const unchanged = published.byContent.takenCount
  return {
    added: local.count - unchanged,
    removed: before - unchanged,
    changed: 0,
    unchanged,
    added_rows: local.addedByContent,
    removed_rows: published.byContent.taken.firstClear(examples),
    changed_rows: [],
  }
}

/** The example rows as shown; the published ones read back (only as far as the last one). */
async function exampleViews(
  path: string,
  sniff: CsvSniff,
  names: { before: string[]; after: string[] },
  match: ColumnMatch,
  counted: Counted,
  pairing: Pairing,
): Promise<TableDiff['examples']> {
  const old = await readRows(path, sniff, [
    ...counted.removed_rows,
    ...counted.changed_rows.map((c) => c.published),
  ])
  const view = (row: readonly string[] | undefined, header: string[]): RowView =>
    Object.fromEntries(header.map((name, i) => [name, shown(row?.[i] ?? '')]))
  const keyNames = pairing.key?.columns ?? []
  return {
    added: counted.added_rows.map((row) => view(row, names.after)),
    removed: counted.removed_rows.map((i) => view(old.get(i), names.before)),
    changed: counted.changed_rows.map(({ row, published }) => {
      const was = old.get(published) ?? []
      const changes: Record<string, { before: string; after: string }> = {}
      for (const c of match.shared) {
        const [b, a] = [was[c.before] ?? '', row[c.after] ?? '']
        if (b !== a) changes[c.name] = { before: shown(b), after: shown(a) }
      }
      const key = Object.fromEntries(
        keyNames.map((name) => [name, shown(row[names.after.indexOf(name)] ?? '')]),
      )
      return { key, changes }
    }),
  }
}

/** The rows at `indexes` (0 = the first after the header), reading no further than the last. */
async function readRows(
  path: string,
  sniff: CsvSniff,
  indexes: readonly number[],
): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>()
  if (indexes.length === 0) return found
  const wanted = new Set(indexes)
  const last = Math.max(...indexes)
  let i = 0
  for await (const row of csvRows(path, sniff)) {
    if (wanted.has(i)) found.set(i, row)
    if (i++ >= last) break
  }
  return found
}

function shown(value: string): string {
  return value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS - 1)}…` : value
}

function formatChange(before: CsvSniff, after: CsvSniff): TableDiff['format'] {
  if (before.encoding === after.encoding && before.separator === after.separator) return undefined
  const format = (s: CsvSniff): TableFormat => ({ encoding: s.encoding, separator: s.separator })
  return { before: format(before), after: format(after) }
}
