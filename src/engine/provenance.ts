/**
 * Where a written resource comes from, recorded in its extras (merged through the v2 endpoint, so
 * the platform's own keys stay), and read back to recognise what this publication wrote before
 * (`prune`). The edges say what they know: the action from the workflow's context, the CLI from
 * the git repository it runs in.
 */
import { bearsStoredName, type Resource } from '../datagouv/schemas.js'
import type { Step } from './plan.js'

export interface Provenance {
  /** `owner/name` on GitHub, or the repository's remote URL for the CLI. */
  repository?: string
  commit?: string
  ref?: string
  /** The workflow's name (or the CLI's): with `repository`, what identifies one publication. */
  workflow?: string
  runUrl?: string
  /** `datagouv-publish-action/0.2.0` or `datagouv-publish-cli/0.2.0`. */
  tool: string
}

const PROVENANCE_KEYS = {
  repository: 'publish:repository',
  commit: 'publish:commit',
  ref: 'publish:ref',
  workflow: 'publish:workflow',
  runUrl: 'publish:run-url',
  tool: 'publish:tool',
  at: 'publish:published-at',
} as const

/** The extras a write records: what is known, and the time. */
export function provenanceExtras(provenance: Provenance, at: Date): Record<string, string> {
  const extras: Record<string, string> = {}
  for (const key of ['repository', 'commit', 'ref', 'workflow', 'runUrl', 'tool'] as const) {
    const value = provenance[key]
    if (value !== undefined && value !== '') extras[PROVENANCE_KEYS[key]] = value
  }
  extras[PROVENANCE_KEYS.at] = at.toISOString()
  return extras
}

/** The identity of one publication (repository and workflow), or why it is unknown. */
export function publicationOf(
  provenance: Provenance | undefined,
): { repository: string; workflow: string } | string {
  if (provenance === undefined)
    return 'provenance is off (provenance: false), so nothing tells which resources this publication wrote'
  const { repository, workflow } = provenance
  if (repository === undefined || repository === '' || workflow === undefined || workflow === '') {
    return 'the repository or the workflow of this publication is unknown (outside GitHub Actions, run the CLI in a git repository with a remote)'
  }
  return { repository, workflow }
}

/** Whether a resource was written by this publication, as its recorded provenance says. */
export function writtenBy(
  resource: Resource,
  publication: { repository: string; workflow: string },
): boolean {
  const extras = resource.extras ?? {}
  return (
    extras[PROVENANCE_KEYS.repository] === publication.repository &&
    extras[PROVENANCE_KEYS.workflow] === publication.workflow
  )
}

/** Whether a resource records any provenance (`publish:*` keys of this module). */
function hasProvenance(resource: Resource): boolean {
  const extras = resource.extras ?? {}
  return Object.values(PROVENANCE_KEYS).some((key) => extras[key] !== undefined)
}

/**
 * Whether a resource looks as a stopped creation leaves it: no provenance, and the title udata
 * gives every upload (its stored file name), never changed since.
 */
function leftByStoppedCreation(resource: Resource): boolean {
  return !hasProvenance(resource) && bearsStoredName(resource)
}

/**
 * The provenance extras added to every step that writes a resource (a skipped one writes nothing,
 * so a second identical run sends nothing). An unchanged file whose resource records no
 * provenance and still bears the title udata gave its upload is not skipped: a run stopped after
 * the server created it, before its title and provenance were written, leaves it so (a resource
 * replaced in place has both recorded before its upload: publish/title-record.ts), and they are
 * what is left to write. Any other resource without provenance (made by hand, titled by a person)
 * is skipped untouched: recording provenance on it would make `prune` take it for this
 * publication's. A resource that records another publication keeps it until its file changes.
 */
export function withProvenance(
  steps: readonly Step[],
  extras: Record<string, string> | undefined,
): Step[] {
  if (extras === undefined) return [...steps]
  return steps.map((step) => {
    if (step.kind === 'remove') return step
    const unrecorded =
      step.kind === 'file' &&
      step.action === 'skip' &&
      step.resource !== undefined &&
      leftByStoppedCreation(step.resource)
    if (step.action === 'skip' && !unrecorded) return step
    const due = unrecorded
      ? {
          ...step,
          action: 'update' as const,
          reason: 'unchanged file; its provenance is not recorded',
        }
      : step
    return { ...due, extras: { ...due.extras, ...extras } }
  })
}
