/**
 * Everything checked before the first write: the dataset and the key, every pattern and entry,
 * every match, every extension; then the local checksums that decide skips. All problems are
 * reported together, and nothing has been written when this throws.
 */
import { ApiError } from './datagouv/errors.js'
import type { DatagouvClient } from './datagouv/client.js'
import type { Dataset } from './datagouv/schemas.js'
import { hashFile } from './hash.js'
import type { Settings } from './inputs.js'
import { buildManifest } from './manifest.js'
import { checksumNeeded, datasetProblems, decide, matchEntries, type Step } from './plan.js'
import { mapConcurrent } from './publish.js'

export class PreflightError extends Error {
  override readonly name = 'PreflightError'
  constructor(readonly problems: string[]) {
    super(
      `${problems.length} problem${problems.length > 1 ? 's' : ''} found before publishing; nothing was written:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    )
  }
}

export interface Preflight {
  dataset: Dataset
  steps: Step[]
  checksums: Map<string, { type: string; value: string }>
  warnings: string[]
}

export async function preflight(client: DatagouvClient, settings: Settings, cwd: string): Promise<Preflight> {
  const [dataset, extensions, manifest] = await Promise.all([fetchDataset(client, settings.dataset), client.getExtensions(), buildManifest(settings, cwd)])
  const problems = [...datasetProblems(dataset, !settings.dryRun), ...manifest.problems]
  const { targets, problems: matchProblems } = matchEntries(manifest.entries, dataset, extensions, settings.createMissing)
  problems.push(...matchProblems)
  if (problems.length > 0) throw new PreflightError(problems)

  const checksums = new Map<string, { type: string; value: string }>()
  const steps = await mapConcurrent(targets, settings.concurrency, async (target) => {
    const type = checksumNeeded(target, settings.ifUnchanged)
    if (type === undefined) return decide(target, settings.ifUnchanged)
    const value = await hashFile(target.entry.path, type)
    checksums.set(target.entry.path, { type, value })
    return decide(target, settings.ifUnchanged, value)
  })
  return { dataset, steps, checksums, warnings: manifest.warnings }
}

async function fetchDataset(client: DatagouvClient, dataset: string): Promise<Dataset> {
  try {
    return await client.getDataset(dataset)
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 401) throw new PreflightError([`input 'api-key': ${client.origin} refused the key (401: ${error.apiMessage})`])
      if (error.status === 404)
        throw new PreflightError([`input 'dataset': no dataset '${dataset}' on ${client.origin} (or it is private and the key's owner cannot see it)`])
      if (error.status === 410) throw new PreflightError([`input 'dataset': dataset '${dataset}' has been deleted on ${client.origin}`])
    }
    throw error
  }
}
