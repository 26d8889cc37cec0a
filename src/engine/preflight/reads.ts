/**
 * What the preflight reads before it checks anything: the dataset (or, with create-dataset, the
 * one to create; with as: community, the key's owner's community resources on it) and what the
 * key may do on it, the instance's lists, and the local files (manifest.ts).
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import { ApiError, NetworkError, ProtocolError, toErrorMessage } from '../../datagouv/errors.js'
import { permissionsOf, type Dataset } from '../../datagouv/schemas.js'
import type { InputName, Settings } from '../inputs.js'
import { buildManifest, type Manifest } from '../manifest.js'
import type { WithProblems } from '../plan.js'
import { planCreation, type CreationPlan } from '../plan/dataset.js'
import { blockedEntries, PreflightError } from './blocked.js'
import { inputGiven, inputName, inputWord, setInput } from '../inputs.js'
import { similarSlugs } from './similar.js'

/** Everything read, and the problems reading showed (create-dataset's, as: community's). */
export interface Reads extends WithProblems {
  /** The dataset as read, with what the key may do on it; absent when it is to be created. */
  found: Dataset | undefined
  /** The dataset as the plan sees it: as read, the key's owner's community view, or the new one. */
  dataset: Dataset
  /** The file extensions the instance accepts. */
  extensions: string[]
  manifest: Manifest
  /** The instance's lists, read when `dataset-metadata` names one of their values. */
  known: { frequencies?: string[]; licenses?: string[] }
  /** `create-dataset`, when no dataset has the slug. */
  creation: CreationPlan | undefined
  /** `as: community`: the key's owner's view of the dataset. */
  community: Community | undefined
}

/** The dataset as the key's owner sees it with as: community, and who that owner is. */
interface Community {
  view: Dataset
  ownerId: string
}

export async function readAll(
  client: DatagouvClient,
  settings: Settings,
  cwd: string,
): Promise<Reads> {
  const manifest = buildManifest(settings, cwd)
  try {
    return await readServer(client, settings, manifest)
  } catch (error) {
    throw await stopped(error, manifest)
  }
}

/** What the server holds, beside the manifest being built. */
async function readServer(
  client: DatagouvClient,
  settings: Settings,
  manifestBuilt: Promise<Manifest>,
): Promise<Reads> {
  const metadata = settings.datasetMetadata
  // udata checks a key on every request, reads included: whichever read is refused first, the
  // run stops on the same problem.
  const [found, extensions, manifest, frequencies, licenses] = await Promise.all([
    fetchDataset(client, settings),
    client.getExtensions(),
    manifestBuilt,
    metadata?.frequency !== undefined ? client.getFrequencies() : undefined,
    metadata?.license !== undefined ? client.getLicenses() : undefined,
  ]).catch((error: unknown) => {
    throw keyRefused(client, error) ?? error
  })
  const creation = found === undefined ? planCreation(metadata, settings.dataset) : undefined
  if (creation !== undefined) creation.problems.push(...(await membership(client, settings)))
  const checked = found && (await withPermissions(client, settings, found))
  const asCommunity =
    settings.publishAs === 'community' && checked !== undefined
      ? await communityView(client, settings, checked)
      : undefined
  const community = asCommunity?.community
  return {
    found: checked,
    dataset: community?.view ?? checked ?? datasetToCreate(settings.dataset, metadata),
    extensions,
    manifest,
    known: { ...(frequencies ? { frequencies } : {}), ...(licenses ? { licenses } : {}) },
    creation,
    community,
    problems: [...(creation?.problems ?? []), ...(asCommunity?.problems ?? [])],
  }
}

/**
 * A read that failed (the server unreachable, a proxy that refuses, an answer after every retry)
 * stops the run like any problem found before the first write: nothing was written, and the
 * report lists every entry known, not published. Any other error is passed on.
 */
async function stopped(error: unknown, manifest: Promise<Manifest>): Promise<unknown> {
  const known = error instanceof PreflightError && error.entries.length > 0
  const server =
    error instanceof ApiError || error instanceof NetworkError || error instanceof ProtocolError
  if (known || !(server || error instanceof PreflightError)) return error
  const entries = await manifest.then(
    (built) => blockedEntries(built, [], new Map(), []),
    () => [],
  )
  if (error instanceof PreflightError)
    return new PreflightError(error.problems, entries, error.dataset)
  return new PreflightError([toErrorMessage(error) + addressOf(error)], entries)
}

/**
 * A server that could not be reached is the one the user named: the message says by which input
 * (`api-url: https://…`, `--api-url https://…`), so a typo in the address reads as one.
 */
function addressOf(error: unknown): string {
  if (!(error instanceof NetworkError)) return ''
  const origin = URL.canParse(error.url) ? new URL(error.url).origin : error.url
  return ` (${inputGiven('api-url', origin)})`
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
): Promise<WithProblems & { community?: Community }> {
  const problems: string[] = []
  const refused = (input: InputName, why: string) =>
    problems.push(
      `${inputName(input)}: ${why} (${inputGiven('as', 'community')} publishes the key's owner's community resources)`,
    )
  if (settings.datasetMetadata !== undefined)
    refused('dataset-metadata', "the dataset's metadata is its owner's")
  if (settings.order === 'as-listed')
    refused('order', "the order of the dataset's resources is its owner's")
  if (settings.createDataset)
    refused('create-dataset', 'a community resource is published on an existing dataset')
  if (settings.apiKey === undefined) {
    problems.push(
      `${inputName('api-key')} is required with ${inputGiven('as', 'community')}, even in a dry run: the community resources to match are the key's owner's`,
    )
    return { problems }
  }
  const me = await client.getMe()
  const resources = await client.listCommunityResources(dataset.id, me.id)
  const view: Dataset = {
    ...dataset,
    resources,
    extras: {},
    permissions: { edit: false, edit_resources: true, delete: false },
  }
  return { community: { view, ownerId: me.id }, problems }
}

/**
 * `create-dataset` into an organization: the key's owner must belong to it, or udata refuses the
 * creation (docs/udata-protocol.md §6.3). Without a key (a dry run) this cannot be told.
 */
async function membership(client: DatagouvClient, settings: Settings): Promise<string[]> {
  const organization = settings.datasetMetadata?.organization?.toLowerCase()
  if (organization === undefined || settings.apiKey === undefined) return []
  const ids = ((await client.getMe()).organizations ?? []).map((o) => o.id.toLowerCase())
  if (ids.includes(organization)) return []
  const theirs = ids.length > 0 ? `it belongs to ${ids.join(', ')}` : 'it belongs to none'
  return [
    `${inputName('dataset-metadata')}.organization: the key's owner is not a member of ` +
      `organization ${organization}, so udata would refuse to create the dataset in it (${theirs})`,
  ]
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
export function ownership(settings: Settings, found: Dataset | undefined): string[] {
  if (!settings.createDataset || found === undefined || found.permissions?.edit !== false) return []
  return [
    `${inputName('dataset')}: '${settings.dataset}' is the slug of a dataset of another owner (${found.id}); ` +
      `${inputWord('create-dataset')} creates a dataset only where none exists: choose another slug`,
  ]
}

/** The preflight's problem when `error` is the server refusing the key (any request, 401). */
function keyRefused(client: DatagouvClient, error: unknown): PreflightError | undefined {
  if (!(error instanceof ApiError) || error.status !== 401) return undefined
  return new PreflightError([
    `${inputName('api-key')}: ${client.origin} refused the key (401: ${error.apiMessage})`,
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
      if (error.status === 404) throw new PreflightError([await notFound(client, settings)])
      if (error.status === 410)
        throw new PreflightError([
          `${inputName('dataset')}: dataset '${dataset}' has been deleted on ${client.origin}`,
        ])
    }
    throw error
  }
}

/**
 * The problem of a dataset that is not there, with the slugs nearest it among those the key's
 * owner can see (preflight/similar.ts).
 */
async function notFound(client: DatagouvClient, settings: Settings): Promise<string> {
  const dataset = settings.dataset
  const near = settings.apiKey === undefined ? [] : await similarSlugs(client, dataset)
  const next =
    near.length > 0
      ? `did you mean ${near.map((slug) => `'${slug}'`).join(' or ')}? ` +
        `(${inputGiven('create-dataset', 'true')} creates a new one)`
      : `${setInput('create-dataset', 'true')} to create it`
  // Without a key (a pull request's dry run) a private dataset is not found either.
  const hidden =
    settings.apiKey === undefined
      ? `or it is private: without ${inputWord('api-key')} only public datasets can be read`
      : "or it is private and the key's owner cannot see it"
  return `${inputName('dataset')}: no dataset '${dataset}' on ${client.origin} (${hidden}); ${next}`
}
