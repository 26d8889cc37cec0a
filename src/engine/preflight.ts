/**
 * Everything checked before the first write: the dataset and the key, every pattern, entry and
 * removal, every match and extension, the dataset metadata against the instance's lists, every
 * remote URL; then the local checksums that decide skips. All problems are reported together, and
 * nothing has been written when this throws.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { ApiError } from '../datagouv/errors.js'
import type { Dataset } from '../datagouv/schemas.js'
import { hashFile } from '../files/hash.js'
import type { Settings } from './inputs.js'
import { buildManifest, type FileEntry, type RemoteEntry } from './manifest.js'
import {
  checksumNeeded,
  datasetProblems,
  decideFile,
  decideRemote,
  matchEntries,
  planDataset,
  planRemovals,
  type DatasetStep,
  type Step,
  type Target,
} from './plan.js'
import { probeUrl, type UrlProbe } from '../files/probe.js'
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
  /** Absent when `dataset-metadata` is not given. */
  datasetStep?: DatasetStep
  checksums: Map<string, { type: string; value: string }>
  warnings: string[]
}

export async function preflight(client: DatagouvClient, settings: Settings, cwd: string): Promise<Preflight> {
  const metadata = settings.datasetMetadata
  const [dataset, extensions, manifest, frequencies, licenses] = await Promise.all([
    fetchDataset(client, settings.dataset),
    client.getExtensions(),
    buildManifest(settings, cwd),
    metadata?.frequency !== undefined ? client.getFrequencies() : undefined,
    metadata?.license !== undefined ? client.getLicenses() : undefined,
  ])
  const problems = [...datasetProblems(dataset, { resources: !settings.dryRun, dataset: !settings.dryRun && metadata !== undefined }), ...manifest.problems]
  const { targets, problems: matchProblems } = matchEntries(manifest.entries, dataset, extensions, settings.createMissing)
  problems.push(...matchProblems)
  const removals = planRemovals(settings.remove, dataset, targets)
  problems.push(...removals.problems)
  let datasetStep: DatasetStep | undefined
  if (metadata !== undefined) {
    const planned = planDataset(metadata, dataset, { ...(frequencies ? { frequencies } : {}), ...(licenses ? { licenses } : {}) })
    problems.push(...planned.problems)
    datasetStep = planned.step
  }
  const probes = new Map<string, UrlProbe>()
  if (settings.checkUrls) {
    const remote = targets.filter((t): t is Target<RemoteEntry> => t.entry.kind === 'url')
    await mapConcurrent(remote, settings.concurrency, async ({ entry }) => {
      try {
        probes.set(
          entry.url,
          await probeUrl(entry.url, {
            dispatcher: client.dispatcher,
            timeoutMs: Math.min(30_000, settings.timeoutSeconds * 1000),
            userAgent: 'datagouv-publish-action',
          }),
        )
      } catch (error) {
        problems.push(
          `${entry.label} (${entry.url}): the URL does not answer: ${error instanceof Error ? error.message : String(error)} (set check-urls: false for URLs the runner cannot reach)`,
        )
      }
    })
  }
  if (problems.length > 0) throw new PreflightError(problems)

  const checksums = new Map<string, { type: string; value: string }>()
  const steps: Step[] = await mapConcurrent(targets, settings.concurrency, async (target): Promise<Step> => {
    if (target.entry.kind === 'url') return decideRemote(target as Target<RemoteEntry>, settings.ifUnchanged, probes.get(target.entry.url))
    const fileTarget = target as Target<FileEntry>
    const type = checksumNeeded(fileTarget, settings.ifUnchanged)
    if (type === undefined) return decideFile(fileTarget, settings.ifUnchanged)
    const value = await hashFile(fileTarget.entry.path, type)
    checksums.set(fileTarget.entry.path, { type, value })
    return decideFile(fileTarget, settings.ifUnchanged, value)
  })
  steps.push(...removals.steps)
  return { dataset, steps, ...(datasetStep ? { datasetStep } : {}), checksums, warnings: manifest.warnings }
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
