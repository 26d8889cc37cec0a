/**
 * Dated releases once each step is decided (plan/releases.ts said where each goes): a new release
 * whose file equals the newest one is not released again, a release a stopped run left unrecorded
 * is taken up when its file is the same (else the new release goes), each step says which release
 * it is, and `keep: N` removes the older releases this publication wrote beyond the N newest.
 * Removals run last and only when every other entry succeeded (publish.ts), like `remove` and
 * `prune`.
 */
import { isSupportedChecksum } from '../../files/hash.js'
import { storedNameOf, type Resource } from '../../datagouv/schemas.js'
import type { IfUnchanged } from '../inputs.js'
import type { FileStep, RemovalStep, Step } from '../plan.js'
import { sizeDiffers } from './fields.js'
import { decideFile } from './files.js'
import type { ReleasePlan } from './releases.js'

/** The local checksum of a file (files/hash.ts `hashFile`), asked for equal sizes only. */
export type Hasher = (path: string, type: string) => Promise<string>

export interface Settled {
  steps: Step[]
  /** `keep`: the older releases to remove, after everything else. */
  retention: RemovalStep[]
  /** A release that cannot go (its name taken by another file): nothing is written. */
  problems: string[]
}

/**
 * The release steps settled: reasons that say which release each is, a new release skipped when
 * its file equals the newest one, and the removals `keep` asks for (never one `remove` names).
 */
export async function settleReleases(
  steps: readonly Step[],
  plans: readonly ReleasePlan[],
  options: { ifUnchanged: IfUnchanged; removed: ReadonlySet<string>; hash: Hasher },
): Promise<Settled> {
  const byEntry = new Map(plans.map((p) => [p.entry, p] as const))
  const retention: RemovalStep[] = []
  const settled: Step[] = []
  const problems: string[] = []
  for (const decided of steps) {
    const found =
      decided.kind === 'file' ? byEntry.get(decided.entry as ReleasePlan['entry']) : undefined
    if (found === undefined || decided.kind !== 'file') {
      settled.push(decided)
      continue
    }
    const taken = takenUp(decided, found, options.ifUnchanged)
    if (typeof taken === 'string') {
      problems.push(`${decided.entry.label} (${decided.entry.source}): ${taken}`)
      continue
    }
    const { step, plan } = taken
    const released = await releaseStep(step, plan, options)
    const removals = keepRemovals(released, plan, options.removed)
    settled.push({
      ...released,
      release: {
        name: released.entry.storedName,
        earlier: plan.earlier
          .filter((r) => r.id !== released.resource?.id && !removals.some((x) => x.resource === r))
          .map((r) => r.id),
      },
    })
    retention.push(...removals)
  }
  return { steps: settled, retention, problems }
}

/**
 * A release a stopped run stored without recording it: taken up when its file is the same (the
 * step records what it lacks), else the new release goes instead (or why none can).
 */
function takenUp(
  step: FileStep,
  plan: ReleasePlan,
  ifUnchanged: IfUnchanged,
): { step: FileStep; plan: ReleasePlan } | string {
  if (plan.unrecorded === undefined) return { step, plan }
  if (step.action !== 'upload') {
    const reason =
      `the release '${step.entry.storedName}' a stopped run stored (the same file), without ` +
      `recording it: recorded now`
    return { step: { ...step, reason }, plan }
  }
  const { fresh } = plan.unrecorded
  if (typeof fresh === 'string') return fresh
  return {
    step: decideFile({ entry: fresh }, ifUnchanged),
    plan: { entry: fresh, earlier: plan.earlier },
  }
}

/** The step of one release, its reason saying which release it is. */
async function releaseStep(
  step: FileStep,
  plan: ReleasePlan,
  options: { ifUnchanged: IfUnchanged; hash: Hasher },
): Promise<FileStep> {
  const name = `'${step.entry.storedName}'`
  if (plan.unrecorded !== undefined) return step
  if (plan.current !== undefined) {
    const again = `the release ${name} of this run (${runOf(plan.current)}), published before`
    return {
      ...step,
      reason: step.action === 'skip' ? `${again}: unchanged` : `${again}: ${step.reason}`,
    }
  }
  const newest = plan.earlier[0]
  if (newest !== undefined && (await sameFile(step, newest, options))) {
    return {
      ...step,
      action: 'skip',
      resource: newest,
      title: newest.title,
      patch: {},
      extras: {},
      reason:
        `unchanged since the release '${storedNameOf(newest) ?? newest.title}' (created ` +
        `${dayOf(newest)}): not released again`,
    }
  }
  const count = plan.earlier.length
  const earlier = count === 0 ? 'the first' : `${count} earlier`
  return { ...step, reason: `new release ${name} (${earlier})` }
}

/** The local file equals `newest`: same size and same checksum (computed only then). */
async function sameFile(
  step: FileStep,
  newest: Resource,
  options: { ifUnchanged: IfUnchanged; hash: Hasher },
): Promise<boolean> {
  const type = newest.checksum?.type.toLowerCase()
  if (options.ifUnchanged === 'upload' || type === undefined || !isSupportedChecksum(type))
    return false
  if (newest.filesize === undefined || newest.filesize === null) return false
  if (sizeDiffers(newest, step.entry.size)) return false
  const local = await options.hash(step.entry.path, type)
  return local.toLowerCase() === newest.checksum?.value.toLowerCase()
}

/**
 * `keep: N`: the release this step publishes to counts as one, the N - 1 newest others stay, the
 * rest of what this publication released for the entry is removed (unless `remove` names it).
 */
function keepRemovals(
  step: FileStep,
  plan: ReleasePlan,
  removed: ReadonlySet<string>,
): RemovalStep[] {
  const keep = plan.entry.release.keep
  if (keep === undefined) return []
  const others = plan.earlier.filter((r) => r.id !== step.resource?.id)
  return others.slice(keep - 1).flatMap((resource) =>
    removed.has(resource.id)
      ? []
      : [
          {
            kind: 'remove' as const,
            source: storedNameOf(resource) ?? resource.url,
            label: `${plan.entry.label} keep`,
            resource,
            action: 'remove' as const,
            reason:
              `keep: ${keep}: an older release of ${plan.entry.release.key} (created ` +
              `${dayOf(resource)}), written by this publication`,
          },
        ],
  )
}

function dayOf(resource: Resource): string {
  return resource.created_at?.slice(0, 10) ?? 'on an unknown date'
}

function runOf(resource: Resource): string {
  const run = resource.extras?.['publish:release-run']
  return typeof run === 'string' ? run.replace(/^(tag|run):/, '') : 'this run'
}
