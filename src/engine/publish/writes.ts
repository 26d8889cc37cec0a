/**
 * The requests of one resource's step: the upload (single or in parts, datagouv/upload.ts) or the
 * creation, then one partial PUT of the metadata, the extras merged before the upload (an existing
 * resource) or after it (a new one). Each records in `achieved` what the server holds as soon as
 * it holds it.
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import type { Resource } from '../../datagouv/schemas.js'
import type { Scope } from '../../datagouv/scope.js'
import { FileChangedError } from '../../datagouv/file-state.js'
import { uploadFile, type UploadOutcome } from '../../datagouv/upload.js'
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
  // What the upload would make udata lose, or the next run need (the title to put back, the
  // provenance, the entry's extras), goes first into the resource's extras, through the merge that
  // moves no date (docs/udata-protocol.md §6.5): a run stopped anywhere after leaves it there. A
  // new resource has nothing to write into before it exists: its title and provenance follow.
  const early = step.resource !== undefined && Object.keys(step.extras).length > 0
  if (early && step.resource !== undefined) {
    const extras = await run.scope.mergeExtras(step.resource, step.extras)
    // Should the upload fail, the entry still says what it changed: the extras, not the file.
    achieved.outcome = {
      action: 'failed',
      resource: { ...step.resource, extras },
      patched: ['extras'],
    }
  }
  const upload = await sendFile(client, step, run, achieved, early)
  const stored: StepOutcome = {
    ...storedAs(step, upload),
    resource: upload.resource,
    checksum: { type: 'sha1', value: upload.sha1 },
    patched: early ? ['extras'] : [],
    ...notesOf(upload, run.chunkSize),
  }
  achieved.outcome = stored
  // The upload gave the resource its stored name as title (docs/udata-protocol.md §3.3): put back
  // the title and the entry's metadata in one partial PUT of what the answer lacks.
  const restored = await restoreMetadata(run.scope, step, upload.resource)
  // From here the title is back: a failing extras merge reports the resource as it now stands.
  achieved.outcome = { ...stored, ...restored, patched: [...stored.patched, ...restored.patched] }
  await clearDatasetRecord(client, run.scope, step)
  const applied = await applyChanges(run.scope, restored.resource, {}, early ? {} : step.extras)
  return {
    ...stored,
    resource: applied.resource,
    patched: [...stored.patched, ...restored.patched, ...applied.patched],
  }
}

/**
 * The file sent (datagouv/upload.ts). A file that changed while it was sent is reported as what
 * the server then holds, when it stored something.
 */
async function sendFile(
  client: DatagouvClient,
  step: FileStep,
  run: Run,
  achieved: Achieved,
  early: boolean,
): Promise<UploadOutcome> {
  try {
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
    return upload
  } catch (error) {
    if (error instanceof FileChangedError && error.resource !== undefined) {
      const { resource } = error
      if (step.resource === undefined) run.claimed.add(resource.id)
      const action = step.resource === undefined ? 'created' : 'uploaded'
      // The checksum the server reports, not the plan's: that one is of bytes it does not hold.
      const checksum = resource.checksum
        ? { checksum: { type: resource.checksum.type, value: resource.checksum.value } }
        : {}
      achieved.outcome = { action, resource, ...checksum, patched: early ? ['extras'] : [] }
    }
    throw error
  }
}

/**
 * The action of a stored file, and, for a creation that took the resource another run created
 * under the same name at the same time, the reason saying so.
 */
function storedAs(step: FileStep, upload: UploadOutcome): Pick<StepOutcome, 'action' | 'reason'> {
  if (upload.adopted === undefined)
    return { action: step.action === 'create' ? 'created' : 'uploaded' }
  const { id, replaced } = upload.adopted
  return {
    action: replaced ? 'uploaded' : 'updated',
    reason:
      `new: no resource matched; udata refused the creation, and resource ${id}, created under ` +
      `the same name meanwhile by another run, was taken instead of a second one` +
      (replaced ? ' (its file replaced by this one)' : ' (it holds this file)'),
  }
}

/** What the upload adds for the user: a smaller chunk size after a 413. */
function notesOf(upload: UploadOutcome, chunkSize: number): Pick<StepOutcome, 'notes'> {
  if (upload.chunkSize >= chunkSize) return {}
  return {
    notes: [
      `stored in parts of ${upload.chunkSize} bytes: the server or a proxy refused larger requests ` +
        `(413)`,
    ],
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
