/**
 * Everything checked before the first write: the dataset and the key, every pattern, entry and
 * removal, every match and extension, the dataset metadata against the instance's lists, every
 * remote URL; then the local checksums that decide skips. All problems are reported together, and
 * nothing has been written when this throws. What it reads is in preflight/reads.ts, the facts
 * the plan asks for in preflight/facts.ts, the error that stops a run in preflight/blocked.ts.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import type { Dataset } from '../datagouv/schemas.js'
import type { UrlProbe } from '../datagouv/probe.js'
import { inputName, type Settings } from './inputs.js'
import type { Entry, FileEntry } from './manifest.js'
import type { DatasetStep, Plan, RemovalStep, Target, WithProblems } from './plan.js'
import {
  datasetProblems,
  datasetStepWarnings,
  datasetWarnings,
  extrasOnly,
  planDataset,
} from './plan/dataset.js'
import { followGuides, type Guided } from './guides.js'
import { dayOf, resolveCoverage, withCreationCoverage } from './plan/coverage.js'
import { duplicateListings, matchEntries } from './plan/match.js'
import { isRelease, planReleases, type ReleasePlan } from './plan/releases.js'
import { planPrune, planRemovals } from './plan/removals.js'
import { blockedEntries, PreflightError } from './preflight/blocked.js'
import { decideAll, probeAll } from './preflight/facts.js'
import { readability } from './preflight/local.js'
import { ownership, readAll, type Reads } from './preflight/reads.js'
import { provenanceExtras, publicationOf, withProvenance, type Provenance } from './provenance.js'
import { formatBytes } from '../util/text.js'

export { PreflightError } from './preflight/blocked.js'

/** What the run knows of itself: where it comes from, and when it started. */
export interface RunContext {
  cwd: string
  provenance?: Provenance
  startedAt: Date
}

/** Where each entry goes, and what `remove` and `prune` delete. */
interface EntryPlan extends WithProblems {
  targets: Target[]
  /** Each entry that cannot go anywhere, with its own problem. */
  blocked: Map<Entry, string>
  removals: RemovalStep[]
  pruned: RemovalStep[]
  /** The dated releases (plan/releases.ts), settled once their steps are decided. */
  releases: ReleasePlan[]
  /** What the plan keeps but says (duplicates of this publication, plan/match.ts). */
  warnings: string[]
}

export async function preflight(
  client: DatagouvClient,
  settings: Settings,
  context: RunContext,
): Promise<Plan> {
  const today = dayOf(context.startedAt)
  const read = await readAll(client, withCreationCoverage(settings, today), context.cwd)
  const { dataset, manifest } = read
  const coverage = resolveCoverage(settings.datasetMetadata, read.found, today, true)
  const metadata = coverage.metadata
  const entries = planEntries(settings, context, read)
  const planned = metadata === undefined ? undefined : planDataset(metadata, dataset, read.known)
  const probed = settings.checkUrls ? await probeAll(client, settings, entries.targets) : undefined
  const unreadable = await readability(manifest.entries, settings.concurrency)
  // A reuser needs no right on the dataset; a dry run writes nothing.
  const writing = {
    resources: !settings.dryRun && read.community === undefined,
    dataset: !settings.dryRun && settings.datasetMetadata !== undefined,
  }
  const problems = [
    ...read.problems,
    ...datasetProblems(dataset, writing),
    ...ownership(settings, read.found),
    ...manifest.problems,
    ...entries.problems,
    ...(planned?.problems ?? []),
    ...coverage.problems,
    ...(probed?.problems ?? []),
    ...unreadable.problems,
  ]
  if (problems.length > 0) {
    const blocked = new Map([...entries.blocked, ...(probed?.blocked ?? []), ...unreadable.blocked])
    const known = blockedEntries(manifest, entries.targets, blocked, entries.removals)
    throw new PreflightError(problems, known, read.found)
  }
  const decided = await decideAll(
    entries.targets,
    settings,
    dataset,
    probed?.probes ?? new Map<string, UrlProbe>(),
  )
  const guided = await followGuides(decided, {
    settings,
    found: read.found,
    known: read.known,
    releases: entries.releases,
    removals: entries.removals,
    planned: planned?.step,
    startedAt: context.startedAt,
    community: read.community !== undefined,
  })
  if (guided.problems.length > 0) {
    const known = blockedEntries(manifest, entries.targets, new Map(), entries.removals)
    throw new PreflightError(guided.problems, known, read.found)
  }
  return planOf(settings, context, read, entries, guided)
}

/** The plan: the steps (removals last, `keep`'s after the others), the dataset's, the warnings. */
function planOf(
  settings: Settings,
  context: RunContext,
  read: Reads,
  entries: EntryPlan,
  guided: Guided,
): Plan {
  const { dataset, manifest, creation } = read
  const written =
    settings.provenance && context.provenance
      ? provenanceExtras(context.provenance, context.startedAt)
      : undefined
  return {
    dataset,
    steps: [
      ...withProvenance(guided.steps, written),
      ...entries.removals,
      ...entries.pruned,
      ...guided.retention,
    ],
    ...datasetSteps(creation, guided.datasetStep, settings.dataset),
    ...(read.community ? { communityOwner: read.community.ownerId } : {}),
    warnings: [
      ...manifest.warnings,
      ...entries.warnings,
      ...warningsOf(dataset, creation === undefined ? guided.datasetStep : undefined),
      ...guided.warnings,
      ...partSizeWarnings(settings.chunkSize, manifest.entries),
    ],
    hiddenLeftOut: manifest.hiddenLeftOut,
  }
}

/** Where each entry goes, what `remove` and `prune` delete. */
function planEntries(settings: Settings, context: RunContext, read: Reads): EntryPlan {
  const { dataset, manifest } = read
  // A dataset about to be created holds nothing to match: every entry creates its resource.
  const createMissing = settings.createMissing || read.creation !== undefined
  const provenance = settings.provenance ? context.provenance : undefined
  const files = manifest.entries.filter((e): e is FileEntry => e.kind === 'file')
  const releases = planReleases(files.filter(isRelease), dataset, {
    provenance,
    startedAt: context.startedAt,
    extensions: read.extensions,
  })
  const others = manifest.entries.filter((e) => e.kind !== 'file' || !isRelease(e))
  // This publication, when known, keeps the oldest of the resources it wrote under one name.
  const publication = publicationOf(provenance)
  const ours = typeof publication === 'object' ? publication : undefined
  const matched = matchEntries(others, dataset, read.extensions, createMissing, ours)
  const targets = inEntryOrder(manifest.entries, [...matched.targets, ...releases.targets])
  const removals = planRemovals(settings.remove, dataset, targets)
  // Earlier releases are `keep`'s to remove, not prune's.
  const released = releases.plans.flatMap((p) => p.earlier.map((r) => r.id))
  const pruned = settings.prune
    ? planPrune(dataset, targets, removals.steps, provenance, released)
    : { steps: [], problems: [] }
  return {
    targets,
    blocked: new Map([...matched.blocked, ...releases.blocked]),
    removals: removals.steps,
    pruned: pruned.steps,
    releases: releases.plans,
    problems: [...matched.problems, ...releases.problems, ...removals.problems, ...pruned.problems],
    warnings: matched.warnings,
  }
}

/**
 * The dataset's steps: with create-dataset, the creation carries the fields, and what is left for
 * the dataset step is the extras merge.
 */
function datasetSteps(
  creation: { body: Record<string, unknown> } | undefined,
  step: DatasetStep | undefined,
  slug: string,
): Pick<Plan, 'datasetStep' | 'creation'> {
  const datasetStep = creation !== undefined && step !== undefined ? extrasOnly(step) : step
  return {
    ...(datasetStep ? { datasetStep } : {}),
    ...(creation ? { creation: { body: creation.body, slug } } : {}),
  }
}

/** What the dataset's state, and the change of its metadata, tolerate but the user should know. */
function warningsOf(dataset: Dataset, step: DatasetStep | undefined): string[] {
  return [
    ...datasetWarnings(dataset),
    ...duplicateListings(dataset),
    ...datasetStepWarnings(step, dataset),
  ]
}

/**
 * Parts above 32 MiB: udata 17 puts the parts together at the final request by slicing a copy of
 * what is left of each part at every read, a time that grows with the square of the part's size
 * (docs/udata-protocol.md §5.3: a 64 MiB part costs about a minute of the server's CPU, against
 * 0.4 s for a 20 MB one). Said once, with the largest file that goes in such parts.
 */
export function partSizeWarnings(chunkSize: number, entries: readonly Entry[]): string[] {
  if (chunkSize <= MAX_SAFE_PART) return []
  const inParts = entries.filter((e): e is FileEntry => e.kind === 'file' && e.size > chunkSize)
  const largest = inParts.sort((a, b) => b.size - a.size)[0]
  if (largest === undefined) return []
  return [
    `${inputName('chunk-size')} is ${formatBytes(chunkSize)}: ${largest.source} ` +
      `(${formatBytes(largest.size)}) goes in parts larger than 32 MiB, which udata 17 puts back ` +
      `together at the final request in a time that grows with the square of the part's size ` +
      `(a 64 MiB part: about a minute of the server's CPU); the final request may then outlast ` +
      `the timeout. Use 32MiB or less (the default, 20MB, is what data.gouv.fr's web front sends)`,
  ]
}

/** The largest part udata 17 puts back together in a time still proportional to its size. */
const MAX_SAFE_PART = 32 * 1024 * 1024

/** Targets in the order of the entries they come from (a release's entry is renamed). */
function inEntryOrder(entries: readonly Entry[], targets: readonly Target[]): Target[] {
  const index = new Map(entries.map((e, i) => [`${e.label}\u0000${e.source}`, i]))
  const at = (t: Target): number => index.get(`${t.entry.label}\u0000${t.entry.source}`) ?? 0
  return [...targets].sort((a, b) => at(a) - at(b))
}
