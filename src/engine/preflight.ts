/**
 * Everything checked before the first write: the dataset and the key, every pattern, entry and
 * removal, every match and extension, the dataset metadata against the instance's lists, every
 * remote URL; then the local checksums that decide skips. All problems are reported together, and
 * nothing has been written when this throws.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { ApiError, toErrorMessage } from '../datagouv/errors.js'
import type { Dataset } from '../datagouv/schemas.js'
import { hashFile } from '../files/hash.js'
import { probeUrl, type UrlProbe } from '../files/probe.js'
import { mapConcurrent } from '../util/concurrency.js'
import type { Settings } from './inputs.js'
import { buildManifest, type Entry, type FileEntry, type Manifest, type RemoteEntry } from './manifest.js'
import { provenanceExtras, publicationOf, writtenBy, type Provenance } from './provenance.js'
import {
  checksumNeeded,
  datasetProblems,
  datasetWarnings,
  decideFile,
  decideRemote,
  matchEntries,
  planDataset,
  planPrune,
  planRemovals,
  recordedTitle,
  withProvenance,
  type RemovalStep,
  type DatasetStep,
  type Step,
  type Target,
} from './plan.js'

/** What is known of one entry when the preflight stops: where it would go, and its own problem. */
export interface BlockedEntry {
  kind: 'file' | 'url' | 'remove'
  source: string
  label: string
  /** The resource it targets, when matched. */
  resource?: { id: string; title: string }
  /** `create` for a new resource, `remove`, `publish` for an existing one (not yet decided: no checksum was computed). */
  planned?: 'create' | 'publish' | 'remove'
  problem?: string
}

export class PreflightError extends Error {
  override readonly name = 'PreflightError'
  constructor(
    readonly problems: string[],
    /** Every entry known when the preflight stopped. */
    readonly entries: BlockedEntry[] = [],
    /** The dataset, when it could be read. */
    readonly dataset?: Dataset,
  ) {
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
  warnings: string[]
  /** Hidden files the patterns matched and left out. */
  hiddenLeftOut: number
}

/** What the run knows of itself: where it comes from, and when it started. */
export interface RunContext {
  cwd: string
  provenance?: Provenance
  startedAt: Date
}

export async function preflight(client: DatagouvClient, settings: Settings, context: RunContext): Promise<Preflight> {
  const cwd = context.cwd
  const metadata = settings.datasetMetadata
  const [dataset, extensions, manifest, frequencies, licenses] = await Promise.all([
    fetchDataset(client, settings.dataset),
    client.getExtensions(),
    buildManifest(settings, cwd),
    metadata?.frequency !== undefined ? client.getFrequencies() : undefined,
    metadata?.license !== undefined ? client.getLicenses() : undefined,
  ])
  const writing = { resources: !settings.dryRun, dataset: !settings.dryRun && metadata !== undefined }
  const problems = [...datasetProblems(dataset, writing), ...manifest.problems]
  const { targets, problems: matchProblems, blocked } = matchEntries(manifest.entries, dataset, extensions, settings.createMissing)
  problems.push(...matchProblems)
  const removals = planRemovals(settings.remove, dataset, targets)
  problems.push(...removals.problems)
  const pruned = settings.prune ? prunable(settings, context, dataset, targets, removals.steps, problems) : []
  let datasetStep: DatasetStep | undefined
  if (metadata !== undefined) {
    const planned = planDataset(metadata, dataset, { ...(frequencies ? { frequencies } : {}), ...(licenses ? { licenses } : {}) })
    problems.push(...planned.problems)
    datasetStep = planned.step
  }
  const probes = settings.checkUrls ? await probeAll(client, settings, targets, problems, blocked) : new Map<string, UrlProbe>()
  if (problems.length > 0) throw new PreflightError(problems, blockedEntries(manifest, targets, blocked, removals.steps), dataset)

  const decided: Step[] = await mapConcurrent(targets, settings.concurrency, async (target): Promise<Step> => {
    if (target.entry.kind === 'url') return decideRemote(target as Target<RemoteEntry>, settings.ifUnchanged, probes.get(target.entry.url))
    const fileTarget = target as Target<FileEntry>
    const recorded = fileTarget.resource ? recordedTitle(fileTarget.resource, dataset) : undefined
    const type = checksumNeeded(fileTarget, settings.ifUnchanged)
    const value = type === undefined ? undefined : await hashFile(fileTarget.entry.path, type)
    return decideFile(fileTarget, settings.ifUnchanged, value, recorded)
  })
  const written = settings.provenance && context.provenance ? provenanceExtras(context.provenance, context.startedAt) : undefined
  const steps = [...withProvenance(decided, written), ...removals.steps, ...pruned]
  const warnings = [...manifest.warnings, ...datasetWarnings(dataset)]
  return { dataset, steps, ...(datasetStep ? { datasetStep } : {}), warnings, hiddenLeftOut: manifest.hiddenLeftOut }
}

/** `prune`: what this publication wrote before and no longer publishes; a problem when it cannot tell. */
function prunable(
  settings: Settings,
  context: RunContext,
  dataset: Dataset,
  targets: readonly Target[],
  removals: readonly RemovalStep[],
  problems: string[],
): RemovalStep[] {
  const publication = publicationOf(settings.provenance ? context.provenance : undefined)
  if (typeof publication === 'string') {
    problems.push(`input 'prune': ${publication}; nothing can be pruned safely`)
    return []
  }
  return planPrune(dataset, targets, removals, publication, (resource) => writtenBy(resource, publication))
}

/** Checks every remote URL; a URL that does not answer is a problem of its entry. */
async function probeAll(
  client: DatagouvClient,
  settings: Settings,
  targets: readonly Target[],
  problems: string[],
  blocked: Map<Entry, string>,
): Promise<Map<string, UrlProbe>> {
  const probes = new Map<string, UrlProbe>()
  const remote = targets.filter((t): t is Target<RemoteEntry> => t.entry.kind === 'url')
  await mapConcurrent(remote, settings.concurrency, async ({ entry }) => {
    try {
      probes.set(entry.url, await probeUrl(entry.url, { dispatcher: client.dispatcher, timeoutMs: Math.min(30_000, settings.timeoutSeconds * 1000), userAgent: client.userAgent }))
    } catch (error) {
      const problem = `the URL does not answer: ${toErrorMessage(error)} (set check-urls: false for URLs the runner cannot reach)`
      problems.push(`${entry.label} (${entry.url}): ${problem}`)
      blocked.set(entry, problem)
    }
  })
  return probes
}

/** Every entry and removal known when the preflight stopped, with its own problem if it has one. */
function blockedEntries(manifest: Manifest, targets: readonly Target[], blocked: ReadonlyMap<Entry, string>, removals: readonly Step[]): BlockedEntry[] {
  const matched = new Map(targets.map((t) => [t.entry, t.resource]))
  const entries: BlockedEntry[] = manifest.entries.map((entry) => {
    const resource = matched.get(entry)
    const known: BlockedEntry = { kind: entry.kind, source: entry.source, label: entry.label }
    if (resource !== undefined) known.resource = { id: resource.id, title: resource.title }
    if (matched.has(entry)) known.planned = resource === undefined ? 'create' : 'publish'
    const problem = blocked.get(entry)
    if (problem !== undefined) known.problem = problem
    return known
  })
  for (const step of removals) {
    if (step.kind === 'remove') entries.push({ kind: 'remove', source: step.source, label: step.label, resource: { id: step.resource.id, title: step.resource.title }, planned: 'remove' })
  }
  return entries
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
