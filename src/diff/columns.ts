/**
 * The columns of two versions of a table, matched by name from their headers: the same name, then
 * the same name but for case and spaces around it, then a column left alone on each side at the
 * same place (after the same column, else at the same index: a header renamed in place). The rows are compared on the matched columns, so a
 * new column does not make every row "changed": it is reported as a column.
 */

export interface ColumnMatch {
  /** Matched columns, in the new header's order: the index in the old file and in the new one. */
  shared: Array<{ name: string; before: number; after: number }>
  added: string[]
  removed: string[]
  renamed: Array<{ from: string; to: string }>
  /** The matched columns are not in the same order in both headers. */
  reordered: boolean
}

/** Header cells as names: blank ones named by position, repeated ones numbered. */
export function columnNames(header: readonly string[]): string[] {
  const seen = new Map<string, number>()
  return header.map((cell, i) => {
    const base = cell.trim() === '' ? `(column ${i + 1})` : cell
    const n = (seen.get(base) ?? 0) + 1
    seen.set(base, n)
    return n === 1 ? base : `${base} (${n})`
  })
}

export function matchColumns(before: readonly string[], after: readonly string[]): ColumnMatch {
  const pairs = new Map<number, number>() // new index -> old index
  const taken = new Set<number>()
  const pair = (test: (old: string, neu: string) => boolean): void => {
    after.forEach((name, a) => {
      if (pairs.has(a)) return
      const b = before.findIndex((old, i) => !taken.has(i) && test(old, name))
      if (b === -1) return
      pairs.set(a, b)
      taken.add(b)
    })
  }
  pair((old, neu) => old === neu)
  pair((old, neu) => loose(old) === loose(neu))
  // Left alone on both sides: the old column at the same place (after the same matched column,
  // else at the same index) is taken as renamed.
  const renamed: ColumnMatch['renamed'] = []
  after.forEach((name, a) => {
    if (pairs.has(a)) return
    const left = [...Array(a).keys()].reverse().find((i) => pairs.has(i))
    const candidates = [left === undefined ? 0 : (pairs.get(left) as number) + 1, a]
    const b = candidates.find((i) => i < before.length && !taken.has(i))
    if (b === undefined) return
    pairs.set(a, b)
    taken.add(b)
    renamed.push({ from: before[b] as string, to: name })
  })
  const shared = [...pairs]
    .sort(([a], [b]) => a - b)
    .map(([a, b]) => ({ name: after[a] as string, before: b, after: a }))
  const oldOrder = shared.map((c) => c.before)
  return {
    shared,
    added: after.filter((_, a) => !pairs.has(a)),
    removed: before.filter((_, b) => !taken.has(b)),
    renamed,
    reordered: oldOrder.some((b, i) => i > 0 && b < (oldOrder[i - 1] as number)),
  }
}

function loose(name: string): string {
  return name.trim().toLowerCase()
}

/** How rows are paired: by the values of key columns, or by their whole content. */
export type KeyChoice =
  | { by: 'key'; columns: string[]; from: 'entry' | 'first column' }
  | { by: 'content'; note?: string }

/**
 * The key: the entry's (every column must be in both files), else the first column when both files
 * have it (kept only if its values are unique in both: `uniqueKeys`, after the first pass), else
 * the rows' content.
 */
export function chooseKey(entryKey: readonly string[] | undefined, match: ColumnMatch): KeyChoice {
  const names = match.shared.map((c) => c.name)
  if (entryKey !== undefined && entryKey.length > 0) {
    const missing = entryKey.filter((k) => !names.includes(k))
    if (missing.length === 0) return { by: 'key', columns: [...entryKey], from: 'entry' }
    return {
      by: 'content',
      note:
        `key ${missing.map((k) => `'${k}'`).join(', ')} is not a column of both files ` +
        `(shared: ${names.map((n) => `'${n}'`).join(', ') || 'none'}): rows compared by content`,
    }
  }
  const first = match.shared.find((c) => c.after === 0)
  return first === undefined
    ? { by: 'content' }
    : { by: 'key', columns: [first.name], from: 'first column' }
}
