/**
 * The local files checked before the first write: each must open for reading. A file the runner
 * cannot read (its permissions, a file removed since it was listed) would otherwise fail
 * mid-publish, after other entries were written.
 */
import { whyUnreadable } from '../../files/readable.js'
import { mapConcurrent } from '../../util/concurrency.js'
import type { Entry, FileEntry } from '../manifest.js'
import type { WithProblems } from '../plan.js'

/** The entries whose file cannot be read, each with its problem. */
export interface Unreadable extends WithProblems {
  blocked: Map<Entry, string>
}

export async function readability(
  entries: readonly Entry[],
  concurrency: number,
): Promise<Unreadable> {
  const found: Unreadable = { problems: [], blocked: new Map() }
  const files = entries.filter((e): e is FileEntry => e.kind === 'file')
  const reasons = await mapConcurrent(files, concurrency, (entry) => whyUnreadable(entry.path))
  files.forEach((entry, index) => {
    const reason = reasons[index]
    if (reason === undefined) return
    const problem = `the file cannot be read (${reason})`
    found.problems.push(`${entry.label} (${entry.source}): ${problem}`)
    found.blocked.set(entry, problem)
  })
  return found
}
