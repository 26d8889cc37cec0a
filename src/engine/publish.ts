/**
 * Runs the plan with bounded concurrency and returns one result per step. Each step carries what
 * its execution needs (target, patch, extras, checksum): nothing is planned here. A failing entry
 * never stops or corrupts the others: each is independent (its own resource, its own upload), so
 * the others go on and every outcome is reported; the step fails at the end if any failed.
 * Removals run last, and only when every other entry succeeded: nothing is deleted while its
 * replacement may be missing. The dataset's metadata is patched last.
 *
 * A result always says what the server holds: a file that was stored is reported stored, with the
 * resource's new id and URL, even when a later request of its step (the title) failed. The
 * requests of a resource's step are in publish/writes.ts, the title kept for the next run in
 * publish/title-record.ts.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { toErrorMessage } from '../datagouv/errors.js'
import type { PartConcurrency } from '../datagouv/part-pacing.js'
import type { Dataset, Resource } from '../datagouv/schemas.js'
import type { Scope } from '../datagouv/scope.js'
import { mapConcurrent } from '../util/concurrency.js'
import type { FileEntry } from './manifest.js'
import { whereOf, type DatasetStep, type Step } from './plan.js'
import { changedFields } from './plan/fields.js'
import { runFile, runRemote } from './publish/writes.js'
import { inputName } from './inputs.js'

/**
 * What a step did. `skipped`: nothing to do, nothing changed; `held-back`: a removal not run
 * because another entry failed (nothing is deleted while its replacement may be missing).
 */
export type ResultAction =
  | 'uploaded'
  | 'created'
  | 'updated'
  | 'signalled'
  | 'removed'
  | 'skipped'
  | 'held-back'
  | 'planned'
  | 'failed'

/** The actions that changed something on the server. */
export const CHANGES: ReadonlySet<ResultAction> = new Set<ResultAction>([
  'uploaded',
  'created',
  'updated',
  'signalled',
  'removed',
])

export interface Result {
  step: Step
  action: ResultAction
  /** The resource as the server holds it at the end (absent for a failed or planned creation). */
  resource?: Resource
  /** The local file's checksum, when computed. */
  checksum?: { type: string; value: string }
  /** Metadata fields sent (v1 PUT fields, and `extras` when merged). */
  patched: string[]
  /** Overrides the step's reason when the outcome differs from the plan. */
  reason?: string
  /** What else the user should know about this outcome (a smaller chunk size after a 413). */
  notes?: string[]
  durationMs: number
  /** Set when something failed; `action` still says what the server holds. */
  error?: string
}

export interface DatasetResult {
  action: 'updated' | 'skipped' | 'planned' | 'failed'
  /** In a dry run, what the step would do. */
  planned?: DatasetStep['action']
  reason: string
  patched: string[]
  error?: string
}

export interface PublishOptions {
  /** Where resources are written: the dataset's own, or the key's owner's community resources. */
  scope: Scope
  chunkSize: number
  partConcurrency: PartConcurrency
  concurrency: number
  dryRun: boolean
  /**
   * Ids present before any write: a resource found after a lost answer is new only if not among
   * them.
   */
  knownResourceIds: ReadonlySet<string>
  /** Progress of one upload: bytes sent so far (re-sent bytes included). */
  onProgress?: (entry: FileEntry, sentBytes: number) => void
  /** Each step's result as soon as it is known. */
  onResult?: (result: Result) => void
}

/**
 * What the run knows while it runs: the new resources its requests obtained, so no two entries
 * claim one.
 */
export interface Run extends PublishOptions {
  claimed: Set<string>
  isNew: (resource: Resource) => boolean
}

/** What a step did, as the server holds it, before its duration is known. */
export type StepOutcome = Omit<Result, 'step' | 'durationMs'>

/** How far a step got: set as each request succeeds, reported as it stands if a later one fails. */
export interface Achieved {
  outcome?: StepOutcome
}

export async function publish(
  client: DatagouvClient,
  steps: readonly Step[],
  options: PublishOptions,
): Promise<Result[]> {
  const claimed = new Set<string>()
  const run: Run = {
    ...options,
    claimed,
    isNew: (r) => !options.knownResourceIds.has(r.id) && !claimed.has(r.id),
  }
  const writes = steps.filter((s) => s.kind !== 'remove')
  const removals = steps.filter((s) => s.kind === 'remove')
  const limit = options.dryRun ? Math.max(1, steps.length) : options.concurrency
  const results = await mapConcurrent(writes, limit, (step) => runStep(client, step, run))
  const failed = results.some((r) => r.error !== undefined)
  const removed = await mapConcurrent(removals, limit, (step) =>
    failed && !options.dryRun
      ? Promise.resolve<Result>({
          step,
          action: 'held-back',
          reason: 'held back: another entry failed, and nothing is removed then',
          resource: step.resource,
          patched: [],
          durationMs: 0,
        })
      : runStep(client, step, run),
  )
  return [...results, ...removed]
}

async function runStep(client: DatagouvClient, step: Step, run: Run): Promise<Result> {
  const started = Date.now()
  const checksum = step.kind === 'file' && step.checksum ? { checksum: step.checksum } : {}
  const done = (outcome: StepOutcome): Result => {
    const result: Result = { step, ...checksum, ...outcome, durationMs: Date.now() - started }
    run.onResult?.(result)
    return result
  }
  // Nothing sent: the resource as the plan found it.
  const unwritten = (action: ResultAction, error?: string): Result =>
    done({
      action,
      patched: [],
      ...(step.resource ? { resource: step.resource } : {}),
      ...(error !== undefined ? { error } : {}),
    })
  // A dry run reports every step as planned; a skip writes nothing.
  if (run.dryRun) return unwritten('planned')
  if (step.kind !== 'remove' && step.action === 'skip') return unwritten('skipped')
  const achieved: Achieved = {}
  try {
    switch (step.kind) {
      case 'file':
        return done(await runFile(client, step, run, achieved))
      case 'url':
        return done(await runRemote(step, run, achieved))
      case 'remove':
        await run.scope.remove(step.resource.id)
        return done({ action: 'removed', resource: step.resource, patched: [] })
    }
  } catch (error) {
    const target = step.resource ? `resource ${step.resource.id}` : 'new resource'
    const reached = achieved.outcome?.resource
    const failure = `${whereOf(step)} -> ${reached ? `resource ${reached.id}` : target}: ${toErrorMessage(error)}`
    if (achieved.outcome !== undefined) return done({ ...achieved.outcome, error: failure })
    return unwritten('failed', failure)
  }
}

/** Applies the dataset metadata step: the v1 partial PUT, then the extras merge. */
export async function publishDataset(
  client: DatagouvClient,
  dataset: Dataset,
  step: DatasetStep,
  dryRun: boolean,
): Promise<DatasetResult> {
  const fields = changedFields(step.patch, step.extras)
  if (dryRun)
    return { action: 'planned', planned: step.action, reason: step.reason, patched: fields }
  if (step.action === 'skip') return { action: 'skipped', reason: step.reason, patched: [] }
  const sent: string[] = []
  try {
    if (Object.keys(step.patch).length > 0) {
      await client.updateDataset(dataset.id, step.patch)
      sent.push(...Object.keys(step.patch))
    }
    if (Object.keys(step.extras).length > 0)
      await client.updateDatasetExtras(dataset.id, step.extras)
    return { action: 'updated', reason: step.reason, patched: fields }
  } catch (error) {
    // The PUT may have gone through before the extras failed: say so.
    const message = `${inputName('dataset-metadata')} -> dataset ${dataset.id}: ${toErrorMessage(error)}`
    return {
      action: sent.length > 0 ? 'updated' : 'failed',
      reason: step.reason,
      patched: sent,
      error: message,
    }
  }
}
