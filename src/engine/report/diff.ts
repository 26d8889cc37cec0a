/**
 * The data diff as people read it: one line per file in the log as it is computed (`diffLine`),
 * the whole diff as text (`diffText`: the log after the results, the CLI's `--diff`) and as
 * Markdown (`diffMarkdown`: the job summary and the pull request's comment), each table's example
 * rows in one compact table.
 */
import type { FileDiff } from '../../diff/file.js'
import type { TableDiff } from '../../diff/table.js'
import { formatBytes } from '../../util/text.js'
import type { Result, ResultAction } from '../publish.js'

/**
 * A diff as a real run reports it: computed before the upload, it says what the server holds
 * only when the upload stored the file as planned. Otherwise `outcome` names what happened and
 * `outcomeNote` says what the diff then is.
 */
export type ReportedDiff = FileDiff & { outcome?: ResultAction; outcomeNote?: string }

/** Each diff with its entry's outcome (a dry run's are all plans: left as they are). */
export function withOutcomes(
  diffs: readonly FileDiff[],
  results: readonly Result[],
  dryRun: boolean,
): ReportedDiff[] {
  if (dryRun) return [...diffs]
  return diffs.map((diff) => {
    const result = results.find(
      (r) => r.step.kind === 'file' && r.step.entry.source === diff.source,
    )
    const outcome = result?.action ?? 'planned'
    if (outcome === 'uploaded' && result?.error === undefined) return { ...diff, outcome }
    const outcomeNote =
      outcome === 'uploaded'
        ? 'the file was stored, but the upload ended in error (the file may have changed while ' +
          'it was sent): this compares the file as planned, not what the server holds'
        : `not published (${outcome}): what the upload would have changed`
    return { ...diff, outcome, outcomeNote }
  })
}

/** Columns shown in the examples: the key's, the changed ones, then the others up to this. */
const SHOWN_COLUMNS = 8
/** A line of text output is cut here (with `…`). */
const LINE_CHARS = 100

/** `out/sales.csv: 1204 -> 1210 rows: +8, -2, ~15 (key id)` */
export function diffLine(diff: FileDiff): string {
  return oneLine(`${diff.source}: ${headline(diff)}`)
}

/** What changes, in one phrase. */
function headline(diff: FileDiff): string {
  const { table } = diff
  if (table === undefined) {
    const sizes = `${sizeText(diff.size.before)} -> ${sizeText(diff.size.after)}`
    const { checksum } = diff
    const sums =
      checksum && checksum.before !== null && checksum.after !== null
        ? checksum.before === checksum.after
          ? `, same ${checksum.type}`
          : `, ${checksum.type} ${checksum.before.slice(0, 8)} -> ${checksum.after.slice(0, 8)}`
        : ''
    return `${sizes}${sums}${diff.note !== undefined ? ` (${diff.note})` : ''}`
  }
  const { rows } = table
  const parts = [`+${rows.added} added`, `-${rows.removed} removed`]
  if (table.key !== null) parts.push(`~${rows.changed} changed`)
  return `${rows.before} -> ${rows.after} rows: ${parts.join(', ')}, ${rows.unchanged} unchanged (${pairing(table)})`
}

function pairing(table: TableDiff): string {
  if (table.key === null) return 'rows compared by content'
  const columns = table.key.columns.join(', ')
  return table.key.from === 'entry' ? `key ${columns}` : `key ${columns}, the first column`
}

function sizeText(size: number | null): string {
  return size === null ? 'unknown size' : formatBytes(size)
}

/** Column changes and format changes, as phrases. */
function tableChanges(table: TableDiff): string[] {
  const lines: string[] = []
  const { added, removed, renamed, reordered } = table.columns
  const columns = [
    ...added.map((c) => `+${c}`),
    ...removed.map((c) => `-${c}`),
    ...renamed.map((r) => `${r.from} -> ${r.to}`),
  ]
  if (columns.length > 0) lines.push(`columns: ${columns.join(', ')}`)
  if (reordered) lines.push('columns reordered')
  if (table.format !== undefined) {
    const { before, after } = table.format
    if (before.separator !== after.separator)
      lines.push(`separator ${quote(before.separator)} -> ${quote(after.separator)}`)
    if (before.encoding !== after.encoding)
      lines.push(`encoding ${before.encoding} -> ${after.encoding}`)
  }
  if (table.note !== undefined) lines.push(table.note)
  else if (table.key === null)
    lines.push(
      "a changed row shows as one removed and one added: give the entry a 'key' (resources) to pair them",
    )
  return lines
}

function quote(separator: string): string {
  return separator === '\t' ? 'tab' : `'${separator}'`
}

/** The whole diff as text; '' when there is none. */
export function diffText(diffs: readonly ReportedDiff[]): string {
  if (diffs.length === 0) return ''
  const lines = ['Data diff:']
  for (const diff of diffs) {
    lines.push(oneLine(`  ${diff.source} -> ${diff.resource.title} (${diff.resource.id})`))
    if (diff.outcomeNote !== undefined) lines.push(oneLine(`    ${diff.outcomeNote}`))
    lines.push(oneLine(`    ${headline(diff)}`))
    if (diff.table === undefined) continue
    for (const change of tableChanges(diff.table)) lines.push(oneLine(`    ${change}`))
    for (const row of exampleRows(diff.table))
      lines.push(cut(oneLine(`    ${row.mark} ${row.text}`)))
  }
  return lines.join('\n')
}

/**
 * A line of the log as one line: the values and column names come from the files, and a line break
 * in one would start a line of its own, which the runner reads as a workflow command when it
 * starts with `::` (`::add-mask::`, `::stop-commands::`).
 */
function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ')
}

function cut(line: string): string {
  return line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS - 1)}…` : line
}

/** The example rows as `+ a=1, b=2`, `- …`, `~ id=2: sales 20 -> 25`. */
function exampleRows(table: TableDiff): Array<{ mark: string; text: string }> {
  const pairs = (row: Record<string, string>) =>
    Object.entries(row)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')
  return [
    ...table.examples.added.map((row) => ({ mark: '+', text: pairs(row) })),
    ...table.examples.removed.map((row) => ({ mark: '-', text: pairs(row) })),
    ...table.examples.changed.map(({ key, changes }) => ({
      mark: '~',
      text: `${pairs(key)}: ${Object.entries(changes)
        .map(([c, v]) => `${c} ${v.before} -> ${v.after}`)
        .join(', ')}`,
    })),
  ]
}

/** The summary's section; '' when there is no diff. */
export function diffMarkdown(diffs: readonly ReportedDiff[], dryRun: boolean): string[] {
  if (diffs.length === 0) return []
  const lines = [
    `#### ${dryRun ? 'What the uploads would change in the data' : 'What the uploads changed in the data'}`,
    '',
  ]
  for (const diff of diffs) {
    lines.push(
      `**\`${cell(diff.source)}\`** → ${cell(diff.resource.title)}: ${cell(headline(diff))}`,
    )
    if (diff.outcomeNote !== undefined) lines.push('', `_${cell(diff.outcomeNote)}._`)
    if (diff.table === undefined) {
      lines.push('')
      continue
    }
    const changes = tableChanges(diff.table)
    if (changes.length > 0) lines.push('', ...changes.map((c) => `- ${cell(c)}`))
    lines.push('', ...examplesTable(diff.table), '')
  }
  return lines
}

/** The example rows in one table: `+` added, `−` removed, `~` changed (`before → after`). */
function examplesTable(table: TableDiff): string[] {
  const { added, removed, changed } = table.examples
  if (added.length + removed.length + changed.length === 0) return []
  const key = table.key?.columns ?? []
  const changedColumns = changed.flatMap((c) => Object.keys(c.changes))
  const all = [...new Set([...added, ...removed].flatMap((r) => Object.keys(r)))]
  const every = [...new Set([...key, ...changedColumns, ...all])]
  const columns = every.slice(0, SHOWN_COLUMNS)
  const hidden = every.length - columns.length
  const extra = hidden > 0 ? [`… ${hidden} more`] : []
  const row = (mark: string, values: (c: string) => string) =>
    `| ${[mark, ...columns.map((c) => cell(values(c))), ...extra.map(() => '')].join(' | ')} |`
  return [
    `| ${['', ...columns.map(cell), ...extra].join(' | ')} |`,
    `| ${['---', ...columns.map(() => '---'), ...extra.map(() => '---')].join(' | ')} |`,
    ...added.map((r) => row('+', (c) => r[c] ?? '')),
    ...removed.map((r) => row('−', (c) => r[c] ?? '')),
    ...changed.map(({ key: k, changes }) =>
      row('~', (c) => {
        const change = changes[c]
        return change !== undefined ? `${change.before} → ${change.after}` : (k[c] ?? '')
      }),
    ),
  ]
}

/** Escapes what would break a table cell or inject markup. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;')
}
