/**
 * The CLI's tables in the terminal's width: columns padded to their widest cell, and when the whole
 * is wider than the terminal (80 columns when unknown), the widest cells give way first, each as
 * its column says: a path loses its start, a reason goes on several lines. Long ids and URLs are
 * shortened before (text output only: `--json` carries them whole).
 */

/** How a column's cells give way when the table is too wide. */
export interface Column {
  /** `keep`: never cut (actions, sizes); `start`: cut at the start (paths); `wrap`: several lines. */
  fit: 'keep' | 'start' | 'wrap'
  align?: 'right'
}

/** Narrowest width a column that gives way is brought to. */
const MIN_WIDTH = { start: 12, wrap: 16 } as const

/**
 * `rows` as lines of at most `width - 1` characters (the last column makes some terminals wrap),
 * each starting with `indent`, unless even the narrowest layout is wider.
 */
export function fitTable(
  rows: readonly (readonly string[])[],
  columns: readonly Column[],
  width: number,
  indent = '',
): string[] {
  const widths = columns.map((_, i) => Math.max(0, ...rows.map((row) => (row[i] ?? '').length)))
  const room = width - 1 - indent.length - 2 * (columns.length - 1)
  for (let excess = sum(widths) - room; excess > 0; excess--) {
    const widest = widestFlexible(widths, columns)
    if (widest === undefined) break
    widths[widest] = (widths[widest] ?? 0) - 1
  }
  return rows.flatMap((row) => renderRow(row, columns, widths, indent))
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

/** The widest column that may still give way, or `undefined`. */
function widestFlexible(widths: readonly number[], columns: readonly Column[]): number | undefined {
  let found: number | undefined
  columns.forEach((column, i) => {
    if (column.fit === 'keep') return
    const current = widths[i] ?? 0
    if (current <= MIN_WIDTH[column.fit]) return
    if (found === undefined || current > (widths[found] ?? 0)) found = i
  })
  return found
}

/** One row as one line, or several when a `wrap` cell needs them. */
function renderRow(
  row: readonly string[],
  columns: readonly Column[],
  widths: readonly number[],
  indent: string,
): string[] {
  const cells = columns.map((column, i) => {
    const text = row[i] ?? ''
    const w = widths[i] ?? 0
    if (column.fit === 'wrap') return wrap(text, w)
    return [column.fit === 'start' ? cutStart(text, w) : text]
  })
  const height = Math.max(...cells.map((lines) => lines.length))
  return Array.from({ length: height }, (_, line) =>
    `${indent}${cells
      .map((lines, i) => {
        const text = lines[line] ?? ''
        const w = widths[i] ?? 0
        return columns[i]?.align === 'right' ? text.padStart(w) : text.padEnd(w)
      })
      .join('  ')}`.trimEnd(),
  )
}

/** `…/end/of/a/long/path.csv` in `width` characters: the start goes, at a `/` when one is near. */
function cutStart(text: string, width: number): string {
  if (text.length <= width) return text
  if (width <= 1) return '…'.slice(0, width)
  const kept = text.slice(text.length - width + 1)
  const slash = kept.indexOf('/')
  return `…${slash > 0 && slash < kept.length / 2 ? kept.slice(slash) : kept}`
}

/** Words into lines of at most `width` characters; a longer word is cut. */
function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text]
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    for (const piece of word.match(new RegExp(`.{1,${Math.max(1, width)}}`, 'g')) ?? ['']) {
      if (line !== '' && line.length + 1 + piece.length > width) {
        lines.push(line)
        line = piece
      } else line = line === '' ? piece : `${line} ${piece}`
    }
  }
  return [...lines, line]
}

/**
 * What text output shows of an id or a URL: a resource id (UUID) or a dataset id (24 hex) by its
 * first 8 characters, a URL longer than 40 characters by its host and the end of its path.
 */
export function shorten(value: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    return `${value.slice(0, 8)}…`
  if (/^[0-9a-f]{24}$/i.test(value)) return `${value.slice(0, 8)}…`
  const url = /^(https?|ftps?):\/\/([^/]+)(\/.*)?$/.exec(value)
  if (url === null || value.length <= 40) return value
  const last = (url[3] ?? '')
    .replace(/[?#].*$/, '')
    .split('/')
    .filter(Boolean)
    .pop()
  return last === undefined ? value : `${url[1]}://${url[2]}/…/${last}`
}
