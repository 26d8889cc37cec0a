/**
 * An upload gives the resource its stored file name as title (docs/udata-protocol.md §3.3): the
 * title is put back at once, and when that fails it is recorded (plan.ts `RECORD_KEYS`) where the
 * next run reads it before anything else, so that it is put back then.
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import { toErrorMessage } from '../../datagouv/errors.js'
import type { Resource } from '../../datagouv/schemas.js'
import type { Scope } from '../../datagouv/scope.js'
import { RECORD_KEYS, type FileStep } from '../plan.js'
import { unmet } from '../plan/fields.js'

/**
 * The metadata after an upload, in one partial PUT of what the server's answer lacks (the extras
 * follow, apart). When the PUT fails, the title the resource should carry is recorded where the
 * next run reads it before anything else (the resource's extras, else the dataset's), and the
 * error names it.
 */
export async function restoreMetadata(
  client: DatagouvClient,
  scope: Scope,
  step: FileStep,
  uploaded: Resource,
): Promise<{ resource: Resource; patched: string[] }> {
  const patch = unmet(step.patch, uploaded)
  const patched = Object.keys(patch)
  if (patched.length === 0) return { resource: uploaded, patched }
  try {
    return { resource: await scope.update(uploaded.id, patch), patched }
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
      return notRecorded(toErrorMessage(resourceError))
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
      return notRecorded(`${toErrorMessage(resourceError)}; ${toErrorMessage(datasetError)}`)
    }
  }
}

function notRecorded(why: string): string {
  return (
    `it could not be recorded for the next run either (${why}): set it by hand, or give 'title' ` +
    `in a 'resources' entry`
  )
}

/** After a title recorded in the dataset's extras was put back: the record goes. */
export async function clearDatasetRecord(
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
      `the title is back, but the record ${key} stays in the dataset's extras: ` +
        `${toErrorMessage(error)}`,
    )
  }
}
