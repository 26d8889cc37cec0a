/** "Did you mean": the candidate nearest a mistyped word, for flags, keys, values and slugs. */

/**
 * The candidate nearest `word` (case aside): the only one it starts, else the nearest by edit distance if close
 * enough (a third of the longer word, at least one edit); `undefined` when none is.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  return nearest(word, candidates, 1)[0]
}

/**
 * Up to `count` candidates near `word`, nearest first: those it starts or that contain it, and
 * those within the edit distance of `closest`.
 */
export function nearest(word: string, candidates: Iterable<string>, count: number): string[] {
  const typed = word.toLowerCase()
  if (typed === '') return []
  const all = [...new Set(candidates)]
  const prefixed = all.filter((c) => c.toLowerCase().startsWith(typed))
  if (prefixed.length === 1) return prefixed
  const scored = all.flatMap((candidate) => {
    const known = candidate.toLowerCase()
    const distance = editDistance(typed, known)
    const allowed = Math.max(1, Math.floor(Math.max(typed.length, known.length) / 3))
    const contains = typed.length >= 4 && (known.includes(typed) || typed.includes(known))
    return distance <= allowed || contains ? [{ candidate, distance }] : []
  })
  return scored
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map((s) => s.candidate)
}

/** `; did you mean 'monthly'?`, or `''` when nothing is near. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const found = closest(word, candidates)
  return found === undefined ? '' : `; did you mean '${found}'?`
}

/**
 * Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions,
 * swaps of neighbours.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = value
    }
  }
  return at(a.length, b.length)
}
