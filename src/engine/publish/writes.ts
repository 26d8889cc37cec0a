/**
 * The requests of one resource's step: the upload (single or in parts, datagouv/upload.ts) or the
 * creation, then one partial PUT of the metadata and the extras merge. Each records in `achieved`
 * what the server holds as soon as it holds it.
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import type { Resource } from '../../datagouv/schemas.js'
import type { Scope } from '../../datagouv/scope.js'
import { uploadFile } from '../../datagouv/upload.js'
import { plural } from '../../util/text.js'
import type { ExtraValue } from '../inputs.js'
import type { FileEntry } from '../manifest.js'
import type { FileStep, RemoteStep } from '../plan.js'
import type { Achieved, Run, StepOutcome } from '../publish.js'
import { clearDatasetRecord, restoreMetadata } from './title-record.js'

export async function runFile(
  client: DatagouvClient,
  step: FileStep,
  run: Run,
  achieved: Achieved,
): Promise<StepOutcome> {
  if (step.action === 'update' && step.resource !== undefined) {
    const applied = await applyChanges(run.scope, step.resource, step.patch, step.extras)
    await clearDatasetRecord(client, run.scope, step)
    return { action: 'updated', ...applied }
  }
  const upload = await uploadFile(client, {
    scope: run.scope,
    target: step.resource ? { id: step.resource.id, url: step.resource.url } : undefined,
    path: step.entry.path,
    size: step.entry.size,
    storedName: step.entry.storedName,
    chunkSize: run.chunkSize,
    partConcurrency: run.partConcurrency,
    isNew: run.isNew,
    ...(run.onProgress ? { onProgress: accumulate(step.entry, run.onProgress) } : {}),
  })
  if (step.resource === undefined) run.claimed.add(upload.resource.id)
  client.logger.debug(
    `${step.entry.source}: stored in ${plural(upload.requests, 'request')}${upload.recovered ? ', one answer lost and recovered by reading the dataset' : ''}`,
  )
  const notes =
    upload.chunkSize < run.chunkSize
      ? [
          `stored in parts of ${upload.chunkSize} bytes: the server or a proxy refused larger requests ` +
            `(413)`,
        ]
      : []
  const stored: StepOutcome = {
    action: step.action === 'create' ? 'created' : 'uploaded',
    resource: upload.resource,
    checksum: { type: 'sha1', value: upload.sha1 },
    patched: [],
    ...(notes.length > 0 ? { notes } : {}),
  }
  achieved.outcome = stored
  // The upload gave the resource its stored name as title (docs/udata-protocol.md §3.3): put back
  // the title and the entry's metadata in one partial PUT of what the answer lacks.
  const restored = await restoreMetadata(client, run.scope, step, upload.resource)
  // From here the title is back: a failing extras merge reports the resource as it now stands.
  achieved.outcome = { ...stored, ...restored }
  await clearDatasetRecord(client, run.scope, step)
  const applied = await applyChanges(run.scope, restored.resource, {}, step.extras)
  return {
    ...stored,
    resource: applied.resource,
    patched: [...restored.patched, ...applied.patched],
  }
}

export async function runRemote(
  step: RemoteStep,
  run: Run,
  achieved: Achieved,
): Promise<StepOutcome> {
  if (step.resource === undefined) {
    const body = step.create ?? { url: step.entry.url }
    const created = await run.scope.createRemote(body, run.isNew)
    run.claimed.add(created.id)
    achieved.outcome = { action: 'created', resource: created, patched: [] }
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
  extras: Record<string, ExtraValue>,
): Promise<{ resource: Resource; patched: string[] }> {
  let resource = current
  const patched = Object.keys(patch)
  if (patched.length > 0) resource = await scope.update(current.id, patch)
  if (Object.keys(extras).length === 0) return { resource, patched }
  const merged = await scope.mergeExtras(resource, extras)
  return { resource: { ...resource, extras: merged }, patched: [...patched, 'extras'] }
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
