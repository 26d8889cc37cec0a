/**
 * Runs the plan with bounded concurrency and returns one result per step. A failing entry never
 * stops or corrupts the others: each is independent (its own resource, its own upload), so the
 * others go on and every outcome is reported; the step fails at the end if any entry failed.
 */
import type { DatagouvClient } from './datagouv/client.js'
import { toErrorMessage } from './datagouv/errors.js'
import type { Resource } from './datagouv/schemas.js'
import { uploadFile } from './datagouv/upload.js'
import type { Entry } from './manifest.js'
import { metadataPatch, type PlannedAction, type Step } from './plan.js'

export type ResultAction = 'uploaded' | 'created' | 'updated' | 'skipped' | 'planned' | 'failed'

export interface Result {
  entry: Entry
  planned: PlannedAction
  reason: string
  action: ResultAction
  /** The resource as the server holds it at the end (absent for a failed or planned creation). */
  resource?: Resource
  /** The local file's checksum, when computed. */
  checksum?: { type: string; value: string }
  /** Metadata fields sent in the partial PUT. */
  patched: string[]
  durationMs: number
  error?: string
}

export interface PublishOptions {
  datasetId: string
  chunkSize: number
  concurrency: number
  dryRun: boolean
  /** Ids present before any write: recognises a resource created without an answer. */
  knownResourceIds: ReadonlySet<string>
  /** Local checksums computed during planning, by absolute path. */
  checksums: ReadonlyMap<string, { type: string; value: string }>
  /** Progress of one upload: bytes sent so far (re-sent bytes included). */
  onProgress?: (entry: Entry, sentBytes: number) => void
}

export async function publish(client: DatagouvClient, steps: readonly Step[], options: PublishOptions): Promise<Result[]> {
  return mapConcurrent(steps, options.dryRun ? steps.length || 1 : options.concurrency, (step) => runStep(client, step, options))
}

async function runStep(client: DatagouvClient, step: Step, options: PublishOptions): Promise<Result> {
  const started = Date.now()
  const checksum = options.checksums.get(step.entry.path)
  const base = { entry: step.entry, planned: step.action, reason: step.reason, patched: [] as string[], ...(checksum ? { checksum } : {}) }
  const done = (result: Partial<Result> & { action: ResultAction }): Result => ({ ...base, ...result, durationMs: Date.now() - started })
  if (options.dryRun) return done({ action: 'planned', ...(step.resource ? { resource: step.resource } : {}) })
  let resource = step.resource
  try {
    if (step.action === 'skip') return done({ action: 'skipped', ...(resource ? { resource } : {}) })
    if (step.action === 'update' && resource !== undefined) {
      const patch = metadataPatch(step.entry, resource, resource.title)
      resource = await client.updateResource(options.datasetId, resource.id, patch)
      return done({ action: 'updated', resource, patched: Object.keys(patch) })
    }
    const previousTitle = step.resource?.title
    const outcome = await uploadFile(client, {
      datasetId: options.datasetId,
      resourceId: step.resource?.id,
      path: step.entry.path,
      size: step.entry.size,
      uploadName: step.entry.storedName,
      chunkSize: options.chunkSize,
      knownResourceIds: options.knownResourceIds,
      ...(options.onProgress ? { onProgress: accumulate(step.entry, options.onProgress) } : {}),
    })
    resource = outcome.resource
    const uploadedChecksum = { type: 'sha1', value: outcome.sha1 }
    // The upload overwrote the title with the normalised file name (reference §3.3): put it back,
    // with the entry's other metadata, in one partial PUT of the fields that differ.
    const patch = metadataPatch(step.entry, resource, previousTitle)
    if (Object.keys(patch).length > 0) resource = await client.updateResource(options.datasetId, resource.id, patch)
    return done({ action: step.action === 'create' ? 'created' : 'uploaded', resource, checksum: uploadedChecksum, patched: Object.keys(patch) })
  } catch (error) {
    const target = step.resource ? `resource ${step.resource.id}` : 'new resource'
    return done({
      action: 'failed',
      ...(resource ? { resource } : {}),
      error: `${step.entry.label} (${step.entry.source}) -> ${target}: ${toErrorMessage(error)}`,
    })
  }
}

/** Sums the bytes an upload reports and passes the running total on. */
function accumulate(entry: Entry, report: (entry: Entry, sentBytes: number) => void): (bytes: number) => void {
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
