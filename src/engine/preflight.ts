/**
 * Everything checked before the first write: the dataset and the key, every pattern, entry and
 * removal, every match and extension, the dataset metadata against the instance's lists, every
 * remote URL; then the local checksums that decide skips. All problems are reported together, and
 * nothing has been written when this throws. What it reads is in preflight/reads.ts, the facts
 * the plan asks for in preflight/facts.ts, the error that stops a run in preflight/blocked.ts.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import type { Dataset } from '../datagouv/schemas.js'
import type { UrlProbe } from '../files/probe.js'
import type { Settings } from './inputs.js'
import type { Entry } from './manifest.js'
import type { DatasetStep, Plan, RemovalStep, Target, WithProblems } from './plan.js'
import {
  datasetProblems,
  datasetStepWarnings,
  datasetWarnings,
  extrasOnly,
  planDataset,
} from './plan/dataset.js'
import { duplicateListings, matchEntries } from './plan/match.js'
import { planPrune, planRemovals } from './plan/removals.js'
import { blockedEntries, PreflightError } from './preflight/blocked.js'
import { decideAll, probeAll } from './preflight/facts.js'
import { ownership, readAll, type Reads } from './preflight/reads.js'
import { provenanceExtras, withProvenance, type Provenance } from './provenance.js'

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
}

export async function preflight(
  client: DatagouvClient,
  settings: Settings,
  context: RunContext,
): Promise<Plan> {
  const read = await readAll(client, settings, context.cwd)
  const { dataset, manifest, creation } = read
  const metadata = settings.datasetMetadata
  const entries = planEntries(settings, context, read)
  const planned = metadata === undefined ? undefined : planDataset(metadata, dataset, read.known)
  const probed = settings.checkUrls ? await probeAll(client, settings, entries.targets) : undefined
  // A reuser needs no right on the dataset; a dry run writes nothing.
  const writing = {
    resources: !settings.dryRun && read.community === undefined,
    dataset: !settings.dryRun && !!metadata,
  }
  const problems = [
    ...read.problems,
    ...datasetProblems(dataset, writing),
    ...ownership(settings, read.found),
    ...manifest.problems,
    ...entries.problems,
    ...(planned?.problems ?? []),
    ...(probed?.problems ?? []),
  ]
  if (problems.length > 0) {
    const blocked = new Map([...entries.blocked, ...(probed?.blocked ?? [])])
    const known = blockedEntries(manifest, entries.targets, blocked, entries.removals)
    throw new PreflightError(problems, known, read.found)
  }
  const decided = await decideAll(
    entries.targets,
    settings,
    dataset,
    probed?.probes ?? new Map<string, UrlProbe>(),
  )
  const written =
    settings.provenance && context.provenance
      ? provenanceExtras(context.provenance, context.startedAt)
      : undefined
  return {
    dataset,
    steps: [...withProvenance(decided, written), ...entries.removals, ...entries.pruned],
    ...datasetSteps(creation, planned?.step, settings.dataset),
    ...(read.community ? { communityOwner: read.community.ownerId } : {}),
    warnings: [
      ...manifest.warnings,
      ...warningsOf(dataset, creation === undefined ? planned?.step : undefined),
    ],
    hiddenLeftOut: manifest.hiddenLeftOut,
  }
}

/** Where each entry goes, what `remove` and `prune` delete. */
function planEntries(settings: Settings, context: RunContext, read: Reads): EntryPlan {
  const { dataset, manifest } = read
  // A dataset about to be created holds nothing to match: every entry creates its resource.
  const createMissing = settings.createMissing || read.creation !== undefined
  const matched = matchEntries(manifest.entries, dataset, read.extensions, createMissing)
  const removals = planRemovals(settings.remove, dataset, matched.targets)
  const pruned = settings.prune
    ? planPrune(
        dataset,
        matched.targets,
        removals.steps,
        settings.provenance ? context.provenance : undefined,
      )
    : { steps: [], problems: [] }
  return {
    targets: matched.targets,
    blocked: matched.blocked,
    removals: removals.steps,
    pruned: pruned.steps,
    problems: [...matched.problems, ...removals.problems, ...pruned.problems],
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
