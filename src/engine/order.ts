/**
 * `order: as-listed`: once everything is published, the published resources in the order of the
 * entries, every other resource after them in its current order. udata's reorder endpoint takes the
 * complete list (docs/udata-protocol.md §6.4); nothing is sent when the order is already right.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { toErrorMessage } from '../util/errors.js'
import type { Result } from './publish.js'
import { inputName } from './inputs.js'

export interface OrderResult {
  action: 'reordered' | 'skipped' | 'planned' | 'failed'
  reason: string
  error?: string
}

/**
 * The complete list of ids in the wanted order: `listed` first (as given), then the rest as they
 * are.
 */
function wantedOrder(current: readonly string[], listed: readonly string[]): string[] {
  const present = new Set(current)
  const first = [...new Set(listed)].filter((id) => present.has(id))
  const placed = new Set(first)
  return [...first, ...current.filter((id) => !placed.has(id))]
}

/**
 * The ids of the resources the entries published, in the entries' order (removals excluded); a
 * dated release is followed by the earlier releases of its entry, newest first.
 */
function listedIds(results: readonly Result[]): string[] {
  return results.flatMap((r) =>
    r.step.kind !== 'remove' && r.action !== 'removed' && r.resource !== undefined
      ? [r.resource.id, ...(r.step.kind === 'file' ? (r.step.release?.earlier ?? []) : [])]
      : [],
  )
}

export async function applyOrder(
  client: DatagouvClient,
  datasetId: string,
  results: readonly Result[],
  dryRun: boolean,
): Promise<OrderResult> {
  if (dryRun)
    return {
      action: 'planned',
      reason: 'the published resources in the order of the entries, the others after them',
    }
  if (results.some((r) => r.error !== undefined))
    return { action: 'skipped', reason: 'not reordered: an entry failed' }
  try {
    const current = (await client.getDataset(datasetId)).resources.map((r) => r.id)
    const wanted = wantedOrder(current, listedIds(results))
    if (wanted.every((id, i) => id === current[i]))
      return { action: 'skipped', reason: 'already in the order of the entries' }
    await client.reorderResources(datasetId, wanted)
    return {
      action: 'reordered',
      reason: 'the published resources now in the order of the entries',
    }
  } catch (error) {
    return {
      action: 'failed',
      reason: 'order: as-listed',
      error: `${inputName('order')} -> dataset ${datasetId}: ${toErrorMessage(error)}`,
    }
  }
}
