/**
 * An upload gives the resource its stored file name as title (docs/udata-protocol.md §3.3): the
 * title is put back at once. A run stopped or failing before that leaves the next run what it
 * needs to put it back (plan/files.ts): the entry's title, the file's name, or the title recorded
 * in the resource's extras before the upload (`RECORD_KEYS.title`).
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import { toErrorMessage } from '../../datagouv/errors.js'
import type { Resource } from '../../datagouv/schemas.js'
import type { Scope } from '../../datagouv/scope.js'
import { RECORD_KEYS, type FileStep } from '../plan.js'
import { unmet } from '../plan/fields.js'

/**
 * The metadata after an upload, in one partial PUT of what the server's answer lacks (the extras
 * follow, apart). When the PUT fails, the error names the title and says how the next run knows
 * it.
 */
export async function restoreMetadata(
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
    throw new Error(
      `the file was stored, but its title could not be put back to '${step.title}' ` +
        `(${howKnown(step)}: the next run puts it back): ${toErrorMessage(error)}`,
      { cause: error },
    )
  }
}

/** How the next run knows the title, for the message of a PUT that failed. */
function howKnown(step: FileStep): string {
  if (step.entry.title !== undefined) return 'the entry gives it'
  if (step.title === step.entry.name) return "it is the file's name"
  return `recorded in the resource's extras as ${RECORD_KEYS.title} before the upload`
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
