/**
 * A preflight that found problems: the error that stops the run before any write, with every
 * problem and every entry known then, so that the report can say what each would have done.
 */
import type { Dataset, Resource } from '../../datagouv/schemas.js'
import { plural } from '../../util/text.js'
import type { Entry, Manifest } from '../manifest.js'
import type { RemovalStep, Target } from '../plan.js'

/** What is known of one entry when the preflight stops: where it would go, and its own problem. */
export interface BlockedEntry {
  kind: 'file' | 'url' | 'remove'
  source: string
  label: string
  /** The resource it targets, when matched. */
  resource?: { id: string; title: string }
  /**
   * `create` for a new resource, `remove`, `publish` for an existing one (not yet decided: no
   * checksum was computed).
   */
  planned?: 'create' | 'publish' | 'remove'
  problem?: string
}

export class PreflightError extends Error {
  override readonly name = 'PreflightError'
  constructor(
    readonly problems: string[],
    /** Every entry known when the preflight stopped. */
    readonly entries: BlockedEntry[] = [],
    /** The dataset, when it could be read. */
    readonly dataset?: Dataset,
  ) {
    super(
      `${plural(problems.length, 'problem')} found before publishing; nothing was written:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    )
  }
}

/** Every entry and removal known when the preflight stopped, with its own problem if it has one. */
export function blockedEntries(
  manifest: Manifest,
  targets: readonly Target[],
  blocked: ReadonlyMap<Entry, string>,
  removals: readonly RemovalStep[],
): BlockedEntry[] {
  const matched = new Map(targets.map((t) => [t.entry, t.resource]))
  const entries: BlockedEntry[] = manifest.entries.map((entry) => {
    const resource = matched.get(entry)
    const known: BlockedEntry = { kind: entry.kind, source: entry.source, label: entry.label }
    if (resource !== undefined) known.resource = titled(resource)
    if (matched.has(entry)) known.planned = resource === undefined ? 'create' : 'publish'
    const problem = blocked.get(entry)
    if (problem !== undefined) known.problem = problem
    return known
  })
  for (const step of removals) {
    entries.push({
      kind: 'remove',
      source: step.source,
      label: step.label,
      resource: titled(step.resource),
      planned: 'remove',
    })
  }
  return entries
}

function titled(resource: Resource): { id: string; title: string } {
  return { id: resource.id, title: resource.title }
}
