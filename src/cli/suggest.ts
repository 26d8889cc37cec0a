/**
 * What to say for a flag that does not exist: why, for the ones people expect (the key, the
 * positive form of a switch that is on by default), else the nearest flag that does.
 */
import { KEY_VARIABLE, OPTIONS } from './flags.js'

/**
 * The message for a flag that does not exist: why, for the ones people expect, else the closest
 * one.
 */
export function unknownOption(flag: string, name: string): string {
  if (
    name === 'api-key' ||
    name === 'key' ||
    name === 'apikey' ||
    name === 'api_key' ||
    name === 'token'
  ) {
    return (
      `there is no ${flag} option: a key given on the command line stays in the shell history and ` +
      `is visible to every user of the machine in the process list (ps). ` +
      `Put it in the environment instead: export ${KEY_VARIABLE}=<your key> (or ${KEY_VARIABLE}="$(cat ` +
      `~/.datagouv-key)" datagouv-publish ...); in CI, a masked or secret variable of that name`
    )
  }
  if (name === 'check-urls')
    return (
      `unknown option '${flag}': remote URLs are checked by default; --no-check-urls turns the check ` +
      `off`
    )
  const suggestion = closest(name.replace(/_/g, '-').toLowerCase(), Object.keys(OPTIONS))
  return `unknown option '${flag}'${suggestion ? `; did you mean '--${suggestion}'?` : ''} (datagouv-publish --help lists them)`
}

/**
 * The option nearest `name`: the only one it starts, else the nearest by edit distance if close
 * enough.
 */
function closest(name: string, candidates: readonly string[]): string | undefined {
  if (name === '') return undefined
  const prefixed = candidates.filter((c) => c.startsWith(name))
  if (prefixed.length === 1) return prefixed[0]
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (best === undefined || distance < best.distance) best = { candidate, distance }
  }
  const allowed = Math.max(1, Math.floor(Math.max(name.length, best?.candidate.length ?? 0) / 3))
  return best !== undefined && best.distance <= allowed ? best.candidate : undefined
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
