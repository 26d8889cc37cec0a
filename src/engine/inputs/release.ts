/**
 * The keys of a `resources` entry that make it a dated release (`release: dated`): each publication
 * adds a new resource named from a template (`name`), and `keep` bounds how many this publication
 * keeps. Parsed here from what the entry's schema accepted; every problem names the entry.
 */
import { z } from 'zod'

/** How a file entry is published when it is a release: a new resource each publication. */
export interface ReleaseSpec {
  mode: 'dated'
  /**
   * The stored name and title of each release: `{name}` (the local file's name without its
   * extension), `{date}` (the run's date, UTC), `{tag}` (the tag the run is for), `{seq}` (1, 2…
   * the first number that gives a name the dataset does not hold). The local file's extension is
   * added when the name does not end with it.
   */
  name: string
  /** Keep only the newest N releases of this entry that this publication wrote. */
  keep?: number
  /** What identifies the entry across runs: its `path` as written (a glob stays the same). */
  key: string
}

const PLACEHOLDERS = ['name', 'date', 'tag', 'seq'] as const

/** The template when an entry gives none. */
const DEFAULT_RELEASE_NAME = '{name}-{date}'

/** The keys of a file entry this module reads (added to the entry's schema). */
export const releaseFields = {
  release: z
    .enum(['dated'], { error: "must be 'dated' (a new resource each publication)" })
    .optional(),
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .optional(),
  keep: z
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int('must be a whole number from 1 to 1000')
    .min(1, 'must be a whole number from 1 to 1000')
    .max(1000, 'must be a whole number from 1 to 1000')
    .optional(),
}

interface ReleaseKeys {
  /** Absent for a remote entry, which takes no release keys. */
  path?: string | undefined
  id?: string | undefined
  title?: string | undefined
  release?: 'dated' | undefined
  name?: string | undefined
  keep?: number | undefined
}

/**
 * The entry's release, or the problems of its release keys: `name` and `keep` only with
 * `release: dated`, no `id` (a release is a new resource), placeholders known, and a name that
 * changes from one publication to the next.
 */
function releaseOf(
  where: string,
  entry: ReleaseKeys,
): { release?: ReleaseSpec; problems: string[] } {
  if (entry.release === undefined) {
    const stray = (['name', 'keep'] as const).filter((k) => entry[k] !== undefined)
    return {
      problems: stray.map(
        (k) => `${where}.${k}: only with 'release: dated' (a new resource each publication)`,
      ),
    }
  }
  const name = entry.name ?? DEFAULT_RELEASE_NAME
  const problems = [
    ...(entry.id !== undefined
      ? [
          `${where}: 'release: dated' publishes a new resource each time, so it takes no 'id'; ` +
            `drop 'id', or 'release' to replace that resource in place`,
        ]
      : []),
    ...placeholderProblems(`${where}.name`, name),
    ...(entry.title !== undefined ? placeholderProblems(`${where}.title`, entry.title) : []),
  ]
  if (/[/\\]/.test(name)) problems.push(`${where}.name: must be a file name, without '/'`)
  if (!/\{(date|tag|seq)\}/.test(name))
    problems.push(
      `${where}.name: '${name}' would be the same at every publication; include {date}, {tag} or ` +
        `{seq}`,
    )
  if (problems.length > 0) return { problems }
  const release: ReleaseSpec = { mode: 'dated', name, key: entry.path ?? '' }
  if (entry.keep !== undefined) release.keep = entry.keep
  return { release, problems }
}

function placeholderProblems(where: string, template: string): string[] {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((m) => m[1] ?? '')
    .filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p))
  if (unknown.length === 0) return []
  return [
    `${where}: unknown placeholder ${unknown.map((p) => `{${p}}`).join(', ')} (accepted: ` +
      `${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
  ]
}

/**
 * An entry as parsed (`where`: the entry in messages), its release keys turned into its `release`
 * (or its problems added to `problems`, and `undefined`); a remote entry has none.
 */
export function withRelease<T extends ReleaseKeys>(
  where: string,
  data: T,
  problems: string[],
): (Omit<T, 'release' | 'name' | 'keep'> & { release?: ReleaseSpec }) | undefined {
  const found = releaseOf(where, data)
  if (found.problems.length > 0) {
    problems.push(...found.problems)
    return undefined
  }
  const { release: _release, name: _name, keep: _keep, ...rest } = data
  return found.release ? { ...rest, release: found.release } : rest
}
