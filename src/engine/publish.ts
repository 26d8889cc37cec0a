/**
 * Runs the plan with bounded concurrency and returns one result per step. Each step carries what
 * its execution needs (target, patch, extras, checksum): nothing is planned here. A failing entry
 * never stops or corrupts the others: each is independent (its own resource, its own upload), so
 * the others go on and every outcome is reported; the step fails at the end if any failed.
 * Removals run last, and only when every other entry succeeded: nothing is deleted while its
 * replacement may be missing. The dataset's metadata is patched last.
 *
 * A result always says what the server holds: a file that was stored is reported stored, with the
 * resource's new id and URL, even when a later request of its step (the title) failed.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { toErrorMessage } from '../datagouv/errors.js'
import type { Dataset, Resource } from '../datagouv/schemas.js'
import type { Scope } from '../datagouv/scope.js'
import { uploadFile } from '../datagouv/upload.js'
import { mapConcurrent } from '../util/concurrency.js'
import type { FileEntry } from './manifest.js'
import {
  RECORD_KEYS,
  whereOf,
  type DatasetStep,
  type FileStep,
  type RemoteStep,
  type Step,
} from './plan.js'
import { unmet } from './plan/fields.js'

export type ResultAction =
  'uploaded' | 'created' | 'updated' | 'signalled' | 'removed' | 'skipped' | 'planned' | 'failed'

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
  reason: string
  patched: string[]
  error?: string
}

export interface PublishOptions {
  datasetId: string
  /** Where resources are written: the dataset's own, or the key's owner's community resources. */
  scope: Scope
  chunkSize: number
  partConcurrency: number
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
interface Run extends PublishOptions {
  claimed: Set<string>
  isNew: (resource: Resource) => boolean
}

type Outcome = Omit<Result, 'step' | 'durationMs'>

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
          action: 'skipped',
          reason: 'not removed: another entry failed',
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
  const done = (outcome: Outcome): Result => {
    const result: Result = { step, ...checksum, ...outcome, durationMs: Date.now() - started }
    run.onResult?.(result)
    return result
  }
  if (run.dryRun)
    return done({
      action: 'planned',
      patched: [],
      ...(step.resource ? { resource: step.resource } : {}),
    })
  // A dry run reports every step as planned; a skip writes nothing.
  if (step.kind !== 'remove' && step.action === 'skip')
    return done({
      action: 'skipped',
      patched: [],
      ...(step.resource ? { resource: step.resource } : {}),
    })
  // What the step achieved so far: reported as it stands if a later request fails.
  const progress: { outcome?: Outcome } = {}
  try {
    switch (step.kind) {
      case 'file':
        return done(await runFile(client, step, run, progress))
      case 'url':
        return done(await runRemote(client, step, run, progress))
      case 'remove':
        await run.scope.remove(step.resource.id)
        return done({ action: 'removed', resource: step.resource, patched: [] })
    }
  } catch (error) {
    const target = step.resource ? `resource ${step.resource.id}` : 'new resource'
    const failure = `${whereOf(step)} -> ${progress.outcome?.resource ? `resource ${progress.outcome.resource.id}` : target}: ${toErrorMessage(error)}`
    if (progress.outcome !== undefined) return done({ ...progress.outcome, error: failure })
    return done({
      action: 'failed',
      patched: [],
      ...(step.resource ? { resource: step.resource } : {}),
      error: failure,
    })
  }
}

async function runFile(
  client: DatagouvClient,
  step: FileStep,
  run: Run,
  progress: { outcome?: Outcome },
): Promise<Outcome> {
  if (step.action === 'update' && step.resource !== undefined) {
    const applied = await applyChanges(run.scope, step.resource, step.patch, step.extras)
    await clearDatasetRecord(client, run.scope, step)
    return { action: 'updated', ...applied }
  }
  const outcome = await uploadFile(client, {
    scope: run.scope,
    target: step.resource ? { id: step.resource.id, url: step.resource.url } : undefined,
    path: step.entry.path,
    size: step.entry.size,
    uploadName: step.entry.storedName,
    storedName: step.entry.storedName,
    chunkSize: run.chunkSize,
    partConcurrency: run.partConcurrency,
    isNew: run.isNew,
    ...(run.onProgress ? { onProgress: accumulate(step.entry, run.onProgress) } : {}),
  })
  if (step.resource === undefined) run.claimed.add(outcome.resource.id)
  const requests = `${outcome.requests} request${outcome.requests === 1 ? '' : 's'}`
  client.logger.debug(
    `${step.entry.source}: stored in ${requests}${outcome.recovered ? ', one answer lost and recovered by reading the dataset' : ''}`,
  )
  const notes =
    outcome.chunkSize < run.chunkSize
      ? [
          `stored in parts of ${outcome.chunkSize} bytes: the server or a proxy refused larger requests ` +
            `(413)`,
        ]
      : []
  const stored: Outcome = {
    action: step.action === 'create' ? 'created' : 'uploaded',
    resource: outcome.resource,
    checksum: { type: 'sha1', value: outcome.sha1 },
    patched: [],
    ...(notes.length > 0 ? { notes } : {}),
  }
  progress.outcome = stored
  // The upload gave the resource its stored name as title (docs/udata-protocol.md §3.3): put back
  // the title and the entry's metadata in one partial PUT of what the answer lacks.
  const restored = await restoreMetadata(client, run.scope, step, outcome.resource)
  // From here the title is back: a failing extras merge reports the resource as it now stands.
  progress.outcome = { ...stored, ...restored }
  await clearDatasetRecord(client, run.scope, step)
  const applied = await applyChanges(run.scope, restored.resource, {}, step.extras)
  return {
    ...stored,
    resource: applied.resource,
    patched: [...restored.patched, ...applied.patched],
  }
}

/**
 * The metadata after an upload (the extras follow, apart). When the PUT fails, the title the resource should carry is
 * recorded where the next run reads it before anything else (the resource's extras, else the
 * dataset's), and the error names it.
 */
async function restoreMetadata(
  client: DatagouvClient,
  scope: Scope,
  step: FileStep,
  uploaded: Resource,
): Promise<{ resource: Resource; patched: string[] }> {
  const patch = unmet(step.patch, uploaded)
  try {
    return await applyChanges(scope, uploaded, patch, {})
  } catch (error) {
    if (patch.title === undefined) throw error
    const recorded = step.recordTitle
      ? await recordTitle(client, scope, uploaded, step.title)
      : 'the entry gives it, so the next run puts it back'
    throw new Error(
      `the file was stored, but its title could not be put back to '${step.title}' (${recorded}): ` +
        `${toErrorMessage(error)}`,
      { cause: error },
    )
  }
}

/** Records the title to put back; says where, or why it could not. */
async function recordTitle(
  client: DatagouvClient,
  scope: Scope,
  resource: Resource,
  title: string,
): Promise<string> {
  const resourceId = resource.id
  try {
    await scope.mergeExtras(resource, { [RECORD_KEYS.title]: title })
    return `recorded in the resource's extras as ${RECORD_KEYS.title}: the next run puts it back`
  } catch (resourceError) {
    // The dataset's extras are its owner's: a community resource has no second place.
    if (scope.kind === 'community') {
      return (
        `it could not be recorded for the next run either (${toErrorMessage(resourceError)}): set ` +
        `it by hand, or give 'title' in a 'resources' entry`
      )
    }
    try {
      await scope.write('alone', () =>
        client.updateDatasetExtras(scope.datasetId, {
          [RECORD_KEYS.datasetTitle(resourceId)]: title,
        }),
      )
      return (
        `recorded in the dataset's extras as ${RECORD_KEYS.datasetTitle(resourceId)}: the next run ` +
        `puts it back`
      )
    } catch (datasetError) {
      return (
        `it could not be recorded for the next run either (${toErrorMessage(resourceError)}; ${toErrorMessage(datasetError)}): ` +
        `set it by hand, or give 'title' in a 'resources' entry`
      )
    }
  }
}

/** After a title recorded in the dataset's extras was put back: the record goes. */
async function clearDatasetRecord(
  client: DatagouvClient,
  scope: Scope,
  step: FileStep,
): Promise<void> {
  const key = step.clearsDatasetRecord
  if (key === undefined) return
  try {
    await scope.write('alone', () => client.updateDatasetExtras(scope.datasetId, { [key]: null }))
  } catch (error) {
    client.logger.warning(
      `the title is back, but the record ${step.clearsDatasetRecord} stays in the dataset's extras: ` +
        `${toErrorMessage(error)}`,
    )
  }
}

async function runRemote(
  client: DatagouvClient,
  step: RemoteStep,
  run: Run,
  progress: { outcome?: Outcome },
): Promise<Outcome> {
  if (step.resource === undefined) {
    const body = step.create ?? { url: step.entry.url }
    const created = await run.scope.createRemote(body, run.isNew)
    run.claimed.add(created.id)
    progress.outcome = { action: 'created', resource: created, patched: [] }
    const applied = await applyChanges(run.scope, created, {}, step.extras)
    return { action: 'created', ...applied }
  }
  const applied = await applyChanges(run.scope, step.resource, step.patch, step.extras)
  return { action: step.action === 'signal' ? 'signalled' : 'updated', ...applied }
}

/**
 * One partial PUT of `patch` (when not empty), then the extras merge (v2, keeping the analyser's
 * keys).
 */
async function applyChanges(
  scope: Scope,
  current: Resource,
  patch: Record<string, unknown>,
  extras: Record<string, string | number | boolean | null>,
): Promise<{ resource: Resource; patched: string[] }> {
  let resource = current
  const patched = Object.keys(patch)
  if (patched.length > 0) resource = await scope.update(current.id, patch)
  if (Object.keys(extras).length === 0) return { resource, patched }
  const merged = await scope.mergeExtras(resource, extras)
  return { resource: { ...resource, extras: merged }, patched: [...patched, 'extras'] }
}

/** Applies the dataset metadata step: the v1 partial PUT, then the extras merge. */
export async function publishDataset(
  client: DatagouvClient,
  dataset: Dataset,
  step: DatasetStep,
  dryRun: boolean,
): Promise<DatasetResult> {
  const fields = [
    ...Object.keys(step.patch),
    ...(Object.keys(step.extras).length > 0 ? ['extras'] : []),
  ]
  if (dryRun) return { action: 'planned', reason: step.reason, patched: fields }
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
    const error_ = `input 'dataset-metadata' -> dataset ${dataset.id}: ${toErrorMessage(error)}`
    return {
      action: sent.length > 0 ? 'updated' : 'failed',
      reason: step.reason,
      patched: sent,
      error: error_,
    }
  }
}

/** Sums the bytes an upload reports and passes the running total on. */
function accumulate(
  entry: FileEntry,
  report: (entry: FileEntry, sentBytes: number) => void,
): (bytes: number) => void {
  let sent = 0
  return (bytes) => {
    sent += bytes
    report(entry, sent)
  }
}
