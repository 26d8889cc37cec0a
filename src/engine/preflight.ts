/**
 * Everything checked before the first write: the dataset and the key, every pattern, entry and
 * removal, every match and extension, the dataset metadata against the instance's lists, every
 * remote URL; then the local checksums that decide skips. All problems are reported together, and
 * nothing has been written when this throws.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { ApiError, toErrorMessage } from '../datagouv/errors.js'
import { permissionsOf, type Dataset } from '../datagouv/schemas.js'
import { hashFile } from '../files/hash.js'
import { probeUrl, type UrlProbe } from '../files/probe.js'
import { mapConcurrent } from '../util/concurrency.js'
import type { Settings } from './inputs.js'
import {
  buildManifest,
  type Entry,
  type FileEntry,
  type Manifest,
  type RemoteEntry,
} from './manifest.js'
import { provenanceExtras, publicationOf, writtenBy, type Provenance } from './provenance.js'
import {
  checksumNeeded,
  datasetProblems,
  datasetStepWarnings,
  duplicateListings,
  datasetWarnings,
  decideFile,
  decideRemote,
  matchEntries,
  planCreation,
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
  /**
   * `create` for a new resource, `remove`, `publish` for an existing one (not yet decided: no
   * checksum was computed).
   */
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
  /**
   * `create-dataset`: the dataset to create before anything else (its slug, the body of the POST).
   */
  creation?: { body: Record<string, unknown>; slug: string }
  /** `as: community`: whose community resources are published (the key's owner). */
  communityOwner?: string
}

/** What the run knows of itself: where it comes from, and when it started. */
export interface RunContext {
  cwd: string
  provenance?: Provenance
  startedAt: Date
}

export async function preflight(
  client: DatagouvClient,
  settings: Settings,
  context: RunContext,
): Promise<Preflight> {
  const metadata = settings.datasetMetadata
  const problems: string[] = []
  const { found, extensions, manifest, known, creation, community, dataset } = await readAll(
    client,
    settings,
    context,
    problems,
  )
  // A reuser needs no right on the dataset; a dry run writes nothing.
  const writing = {
    resources: !settings.dryRun && !community,
    dataset: !settings.dryRun && !!metadata,
  }
  problems.push(
    ...datasetProblems(dataset, writing),
    ...ownership(settings, found),
    ...manifest.problems,
  )
  const { targets, blocked, removals, pruned } = planEntries(settings, context, dataset, {
    manifest,
    extensions,
    creating: creation !== undefined,
    problems,
  })
  const planned = metadata === undefined ? undefined : planDataset(metadata, dataset, known)
  problems.push(...(planned?.problems ?? []))
  const probes = settings.checkUrls
    ? await probeAll(client, settings, targets, problems, blocked)
    : new Map<string, UrlProbe>()
  if (problems.length > 0)
    throw new PreflightError(
      problems,
      blockedEntries(manifest, targets, blocked, removals.steps),
      found,
    )

  const decided = await decideAll(targets, settings, dataset, probes)
  const written =
    settings.provenance && context.provenance
      ? provenanceExtras(context.provenance, context.startedAt)
      : undefined
  return {
    dataset,
    steps: [...withProvenance(decided, written), ...removals.steps, ...pruned],
    // The creation carries the fields; what is left for the dataset step is the extras merge.
    ...datasetSteps(creation, planned?.step, settings.dataset),
    ...(community ? { communityOwner: community.ownerId } : {}),
    warnings: [
      ...manifest.warnings,
      ...warningsOf(dataset, creation === undefined ? planned?.step : undefined),
    ],
    hiddenLeftOut: manifest.hiddenLeftOut,
  }
}

/** What the dataset's state, and the change of its metadata, tolerate but the user should know. */
function warningsOf(dataset: Dataset, step: DatasetStep | undefined): string[] {
  return [
    ...datasetWarnings(dataset),
    ...duplicateListings(dataset),
    ...datasetStepWarnings(step, dataset),
  ]
}

function datasetSteps(
  creation: { body: Record<string, unknown> } | undefined,
  step: DatasetStep | undefined,
  slug: string,
): Pick<Preflight, 'datasetStep' | 'creation'> {
  const datasetStep = creation !== undefined && step !== undefined ? extrasOnly(step) : step
  return {
    ...(datasetStep ? { datasetStep } : {}),
    ...(creation ? { creation: { body: creation.body, slug } } : {}),
  }
}

/** Where each entry goes, what `remove` and `prune` delete; their problems added to `problems`. */
function planEntries(
  settings: Settings,
  context: RunContext,
  dataset: Dataset,
  read: { manifest: Manifest; extensions: string[]; creating: boolean; problems: string[] },
) {
  const { manifest, problems } = read
  // A dataset about to be created holds nothing to match: every entry creates its resource.
  const createMissing = settings.createMissing || read.creating
  const matched = matchEntries(manifest.entries, dataset, read.extensions, createMissing)
  problems.push(...matched.problems)
  const removals = planRemovals(settings.remove, dataset, matched.targets)
  problems.push(...removals.problems)
  const pruned = settings.prune
    ? prunable(settings, context, dataset, matched.targets, removals.steps, problems)
    : []
  return { targets: matched.targets, blocked: matched.blocked, removals, pruned }
}

/**
 * What the preflight reads before it checks: the dataset (or, with create-dataset, the one to
 * create; with as: community, the key's owner's community resources on it), the instance's lists
 * and the local files.
 */
async function readAll(
  client: DatagouvClient,
  settings: Settings,
  context: RunContext,
  problems: string[],
) {
  const metadata = settings.datasetMetadata
  // udata checks a key on every request, reads included: whichever read is refused first, the
  // run stops on the same problem.
  const [found, extensions, manifest, frequencies, licenses] = await Promise.all([
    fetchDataset(client, settings),
    client.getExtensions(),
    buildManifest(settings, context.cwd),
    metadata?.frequency !== undefined ? client.getFrequencies() : undefined,
    metadata?.license !== undefined ? client.getLicenses() : undefined,
  ]).catch((error: unknown) => {
    throw keyRefused(client, error) ?? error
  })
  const creation = found === undefined ? planCreation(metadata, settings.dataset) : undefined
  const checked = found && (await withPermissions(client, settings, found))
  problems.push(...(creation?.problems ?? []))
  const community =
    settings.publishAs === 'community' && checked !== undefined
      ? await communityView(client, settings, checked, problems)
      : undefined
  const dataset = community?.view ?? checked ?? datasetToCreate(settings.dataset, metadata)
  const known = { ...(frequencies ? { frequencies } : {}), ...(licenses ? { licenses } : {}) }
  return { found: checked, extensions, manifest, known, creation, community, dataset }
}

/** Each target's step; local checksums are computed here, for equal sizes only. */
async function decideAll(
  targets: readonly Target[],
  settings: Settings,
  dataset: Dataset,
  probes: ReadonlyMap<string, UrlProbe>,
): Promise<Step[]> {
  return mapConcurrent(targets, settings.concurrency, async (target): Promise<Step> => {
    if (target.entry.kind === 'url')
      return decideRemote(
        target as Target<RemoteEntry>,
        settings.ifUnchanged,
        probes.get(target.entry.url),
      )
    const fileTarget = target as Target<FileEntry>
    const recorded = fileTarget.resource ? recordedTitle(fileTarget.resource, dataset) : undefined
    const type = checksumNeeded(fileTarget, settings.ifUnchanged)
    const value = type === undefined ? undefined : await hashFile(fileTarget.entry.path, type)
    return decideFile(fileTarget, settings.ifUnchanged, value, recorded)
  })
}

/**
 * `as: community`: the dataset as the key's owner publishes into it, its resources being their own
 * community resources on it. Reading the owner needs the key, even in a dry run; a reuser edits
 * neither the dataset nor its order, nor creates it.
 */
async function communityView(
  client: DatagouvClient,
  settings: Settings,
  dataset: Dataset,
  problems: string[],
): Promise<{ view: Dataset; ownerId: string } | undefined> {
  const refused = (input: string, why: string) =>
    problems.push(
      `input '${input}': ${why} (as: community publishes the key's owner's community resources)`,
    )
  if (settings.datasetMetadata !== undefined)
    refused('dataset-metadata', "the dataset's metadata is its owner's")
  if (settings.order === 'as-listed')
    refused('order', "the order of the dataset's resources is its owner's")
  if (settings.createDataset)
    refused('create-dataset', 'a community resource is published on an existing dataset')
  if (settings.apiKey === undefined) {
    problems.push(
      "input 'api-key' is required with as: community, even in a dry run: the community resources to match are the key's owner's",
    )
    return undefined
  }
  const me = await client.getMe()
  const resources = await client.listCommunityResources(dataset.id, me.id)
  const view: Dataset = {
    ...dataset,
    resources,
    extras: {},
    permissions: { edit: false, edit_resources: true, delete: false },
  }
  return { view, ownerId: me.id }
}

/**
 * The dataset `create-dataset` will create, as the plan sees it: empty, the organization's that
 * `dataset-metadata` names, else the key's owner's.
 */
function datasetToCreate(slug: string, metadata: Settings['datasetMetadata']): Dataset {
  return {
    id: '(new)',
    slug,
    title: metadata?.title ?? slug,
    resources: [],
    extras: {},
    ...(metadata?.organization !== undefined
      ? { organization: { id: metadata.organization } }
      : {}),
    permissions: { edit: true, edit_resources: true, delete: true },
  }
}

/**
 * The dataset with what the key may do on it: as the server answers (`permissions`, udata since
 * 2025-06), else worked out from the key's owner (`GET /me/`, `permissionsOf`) when the run will
 * write with a key; otherwise unknown, as before.
 */
async function withPermissions(
  client: DatagouvClient,
  settings: Settings,
  dataset: Dataset,
): Promise<Dataset> {
  if (dataset.permissions != null || settings.apiKey === undefined || settings.dryRun)
    return dataset
  return { ...dataset, permissions: permissionsOf(dataset, await client.getMe()) }
}

/**
 * With create-dataset, a slug answered by a dataset the key's owner cannot edit is someone else's.
 */
function ownership(settings: Settings, found: Dataset | undefined): string[] {
  if (!settings.createDataset || found === undefined || found.permissions?.edit !== false) return []
  return [
    `input 'dataset': '${settings.dataset}' is the slug of a dataset of another owner (${found.id}); ` +
      `create-dataset creates a dataset only where none exists: choose another slug`,
  ]
}

function extrasOnly(step: DatasetStep): DatasetStep {
  const extras = Object.keys(step.extras)
  return extras.length > 0
    ? { action: 'update', reason: 'extras of the new dataset', patch: {}, extras: step.extras }
    : { action: 'skip', reason: 'created with its metadata', patch: {}, extras: {} }
}

/**
 * `prune`: what this publication wrote before and no longer publishes; a problem when it cannot
 * tell.
 */
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
  return planPrune(dataset, targets, removals, publication, (resource) =>
    writtenBy(resource, publication),
  )
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
      probes.set(
        entry.url,
        await probeUrl(entry.url, {
          dispatcher: client.dispatcher,
          timeoutMs: Math.min(30_000, settings.timeoutSeconds * 1000),
          userAgent: client.userAgent,
        }),
      )
    } catch (error) {
      const problem =
        `the URL does not answer: ${toErrorMessage(error)} (set check-urls: false for URLs the runner ` +
        `cannot reach)`
      problems.push(`${entry.label} (${entry.url}): ${problem}`)
      blocked.set(entry, problem)
    }
  })
  return probes
}

/** Every entry and removal known when the preflight stopped, with its own problem if it has one. */
function blockedEntries(
  manifest: Manifest,
  targets: readonly Target[],
  blocked: ReadonlyMap<Entry, string>,
  removals: readonly Step[],
): BlockedEntry[] {
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
    if (step.kind === 'remove')
      entries.push({
        kind: 'remove',
        source: step.source,
        label: step.label,
        resource: { id: step.resource.id, title: step.resource.title },
        planned: 'remove',
      })
  }
  return entries
}

/** The preflight's problem when `error` is the server refusing the key (any request, 401). */
function keyRefused(client: DatagouvClient, error: unknown): PreflightError | undefined {
  if (!(error instanceof ApiError) || error.status !== 401) return undefined
  return new PreflightError([
    `input 'api-key': ${client.origin} refused the key (401: ${error.apiMessage})`,
  ])
}

/** The dataset, or `undefined` when it does not exist and `create-dataset` will create it. */
async function fetchDataset(
  client: DatagouvClient,
  settings: Settings,
): Promise<Dataset | undefined> {
  const dataset = settings.dataset
  try {
    return await client.getDataset(dataset)
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 404 && settings.createDataset) return undefined
      if (error.status === 404)
        throw new PreflightError([
          `input 'dataset': no dataset '${dataset}' on ${client.origin} (or it is private and the ` +
            `key's owner cannot see it); set create-dataset: true to create it`,
        ])
      if (error.status === 410)
        throw new PreflightError([
          `input 'dataset': dataset '${dataset}' has been deleted on ${client.origin}`,
        ])
    }
    throw error
  }
}
