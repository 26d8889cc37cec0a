/**
 * Runs the plan with bounded concurrency and returns one result per step. A failing entry never
 * stops or corrupts the others: each is independent (its own resource, its own upload), so the
 * others go on and every outcome is reported; the step fails at the end if any failed. Removals
 * run last, and only when every other entry succeeded: nothing is deleted while its replacement
 * may be missing. The dataset's metadata is patched last.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { toErrorMessage } from '../datagouv/errors.js'
import type { Dataset, Resource } from '../datagouv/schemas.js'
import { uploadFile } from '../datagouv/upload.js'
import type { Entry, FileEntry } from './manifest.js'
import { defaultRemoteTitle, extrasPatch, metadataPatch, remoteState, type DatasetStep, type FileStep, type RemoteStep, type Step } from './plan.js'

export type ResultAction = 'uploaded' | 'created' | 'updated' | 'signalled' | 'removed' | 'skipped' | 'planned' | 'failed'

export interface Result {
  step: Step
  action: ResultAction
  /** The resource as the server holds it at the end (absent for a failed or planned creation, and after a removal). */
  resource?: Resource
  /** The local file's checksum, when computed. */
  checksum?: { type: string; value: string }
  /** Metadata fields sent (v1 PUT fields, and `extras` when merged). */
  patched: string[]
  /** Overrides the step's reason when the outcome differs from the plan. */
  reason?: string
  durationMs: number
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
  chunkSize: number
  concurrency: number
  dryRun: boolean
  /** Ids present before any write: recognises a resource created without an answer. */
  knownResourceIds: ReadonlySet<string>
  /** New resources this run's uploads obtained; filled as they do (see UploadRequest). */
  claimedResourceIds: Set<string>
  /** Local checksums computed during planning, by absolute path. */
  checksums: ReadonlyMap<string, { type: string; value: string }>
  /** Progress of one upload: bytes sent so far (re-sent bytes included). */
  onProgress?: (entry: FileEntry, sentBytes: number) => void
}

export async function publish(client: DatagouvClient, steps: readonly Step[], options: PublishOptions): Promise<Result[]> {
  const writes = steps.filter((s) => s.kind !== 'remove')
  const removals = steps.filter((s) => s.kind === 'remove')
  const limit = options.dryRun ? Math.max(1, steps.length) : options.concurrency
  const results = await mapConcurrent(writes, limit, (step) => runStep(client, step, options))
  const failed = results.some((r) => r.action === 'failed')
  const removed = await mapConcurrent(removals, limit, (step) =>
    failed && !options.dryRun
      ? Promise.resolve<Result>({ step, action: 'skipped', reason: 'not removed: another entry failed', resource: step.resource, patched: [], durationMs: 0 })
      : runStep(client, step, options),
  )
  return [...results, ...removed]
}

async function runStep(client: DatagouvClient, step: Step, options: PublishOptions): Promise<Result> {
  const started = Date.now()
  const checksum = step.kind === 'file' ? options.checksums.get(step.entry.path) : undefined
  const done = (result: Omit<Result, 'step' | 'durationMs' | 'patched'> & { patched?: string[] }): Result => ({
    step,
    patched: [],
    ...(checksum ? { checksum } : {}),
    ...result,
    durationMs: Date.now() - started,
  })
  if (options.dryRun) return done({ action: 'planned', ...(step.resource ? { resource: step.resource } : {}) })
  try {
    switch (step.kind) {
      case 'file':
        return done(await runFile(client, step, options))
      case 'url':
        return done(await runRemote(client, step, options))
      case 'remove':
        await client.deleteResource(options.datasetId, step.resource.id)
        return done({ action: 'removed', resource: step.resource })
    }
  } catch (error) {
    const target = step.resource ? `resource ${step.resource.id}` : 'new resource'
    const where = step.kind === 'remove' ? `input 'remove', ${step.label} '${step.source}'` : `${step.entry.label} (${step.entry.source})`
    return done({ action: 'failed', ...(step.resource ? { resource: step.resource } : {}), error: `${where} -> ${target}: ${toErrorMessage(error)}` })
  }
}

type Outcome = Omit<Result, 'step' | 'durationMs' | 'patched'> & { patched: string[] }

async function runFile(client: DatagouvClient, step: FileStep, options: PublishOptions): Promise<Outcome> {
  if (step.action === 'skip') return { action: 'skipped', patched: [], ...(step.resource ? { resource: step.resource } : {}) }
  if (step.action === 'update' && step.resource !== undefined) {
    const applied = await applyMetadata(client, options.datasetId, step.entry, step.resource, step.resource.title)
    return { action: 'updated', ...applied }
  }
  const outcome = await uploadFile(client, {
    datasetId: options.datasetId,
    resourceId: step.resource?.id,
    path: step.entry.path,
    size: step.entry.size,
    uploadName: step.entry.storedName,
    chunkSize: options.chunkSize,
    knownResourceIds: options.knownResourceIds,
    claimedResourceIds: options.claimedResourceIds,
    ...(options.onProgress ? { onProgress: accumulate(step.entry, options.onProgress) } : {}),
  })
  client.logger.debug(
    `${step.entry.source}: stored in ${outcome.requests} requests${outcome.recovered ? ', one answer lost and recovered by reading the dataset' : ''}`,
  )
  // The upload overwrote the title with the normalised file name (reference §3.3): put it back,
  // with the entry's other metadata, in one partial PUT of the fields that differ.
  const applied = await applyMetadata(client, options.datasetId, step.entry, outcome.resource, step.resource?.title)
  return { action: step.action === 'create' ? 'created' : 'uploaded', checksum: { type: 'sha1', value: outcome.sha1 }, ...applied }
}

async function runRemote(client: DatagouvClient, step: RemoteStep, options: PublishOptions): Promise<Outcome> {
  const { entry } = step
  const state = step.probe ? remoteState(step.probe) : {}
  if (step.action === 'skip') return { action: 'skipped', patched: [], ...(step.resource ? { resource: step.resource } : {}) }
  if (step.resource === undefined) {
    const body: Record<string, unknown> & { url: string } = {
      url: entry.url,
      title: entry.title ?? defaultRemoteTitle(entry.url),
      type: entry.type ?? 'main',
    }
    if (entry.description !== undefined) body.description = entry.description
    if (entry.format !== undefined) body.format = entry.format
    if (entry.schema !== undefined) body.schema = entry.schema
    const created = await client.createRemoteResource(options.datasetId, body, options.knownResourceIds)
    const extras = await mergeExtras(client, options.datasetId, created, { ...(entry.extras ?? {}), ...state })
    return { action: 'created', resource: extras.resource, patched: extras.patched }
  }
  // A signal is a partial PUT, which moves the resource's modification date and asks the analyser
  // to re-check it (reference §7); it carries the url so that it is never empty.
  const force = step.action === 'signal' ? { url: entry.url } : undefined
  const applied = await applyMetadata(client, options.datasetId, entry, step.resource, step.resource.title, force, state)
  return { action: step.action === 'signal' ? 'signalled' : 'updated', ...applied }
}

/**
 * Gives a resource the entry's metadata: one partial PUT of the fields that differ (plus `force`),
 * then the extras that differ through the v2 merge endpoint (keeping the analyser's keys).
 */
async function applyMetadata(
  client: DatagouvClient,
  datasetId: string,
  entry: Entry,
  current: Resource,
  previousTitle: string | undefined,
  force?: Record<string, unknown>,
  recordedState: Record<string, string> = {},
): Promise<{ resource: Resource; patched: string[] }> {
  const patch = { ...force, ...metadataPatch(entry, current, previousTitle) }
  let resource = current
  const patched = Object.keys(patch)
  if (patched.length > 0) resource = await client.updateResource(datasetId, current.id, patch)
  const extras = await mergeExtras(client, datasetId, resource, { ...(entry.extras ?? {}), ...recordedState })
  return { resource: extras.resource, patched: [...patched, ...extras.patched] }
}

async function mergeExtras(
  client: DatagouvClient,
  datasetId: string,
  resource: Resource,
  wanted: Record<string, string | number | boolean | null>,
): Promise<{ resource: Resource; patched: string[] }> {
  const changes = extrasPatch(wanted, resource.extras)
  if (Object.keys(changes).length === 0) return { resource, patched: [] }
  const extras = await client.updateResourceExtras(datasetId, resource.id, changes)
  return { resource: { ...resource, extras }, patched: ['extras'] }
}

/** Applies the dataset metadata step: the v1 partial PUT, then the extras merge. */
export async function publishDataset(client: DatagouvClient, dataset: Dataset, step: DatasetStep, dryRun: boolean): Promise<DatasetResult> {
  const fields = [...Object.keys(step.patch), ...(Object.keys(step.extras).length > 0 ? ['extras'] : [])]
  if (dryRun) return { action: 'planned', reason: step.reason, patched: fields }
  if (step.action === 'skip') return { action: 'skipped', reason: step.reason, patched: [] }
  try {
    if (Object.keys(step.patch).length > 0) await client.updateDataset(dataset.id, step.patch)
    if (Object.keys(step.extras).length > 0) await client.updateDatasetExtras(dataset.id, step.extras)
    return { action: 'updated', reason: step.reason, patched: fields }
  } catch (error) {
    return { action: 'failed', reason: step.reason, patched: [], error: `input 'dataset-metadata' -> dataset ${dataset.id}: ${toErrorMessage(error)}` }
  }
}

/** Sums the bytes an upload reports and passes the running total on. */
function accumulate(entry: FileEntry, report: (entry: FileEntry, sentBytes: number) => void): (bytes: number) => void {
  let sent = 0
  return (bytes) => {
    sent += bytes
    report(entry, sent)
  }
}

/** Like Promise.all over `items`, with at most `limit` calls of `fn` running at once; order kept. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return results
}
