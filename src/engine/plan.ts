/**
 * What was asked + the live dataset -> a plan: one step per entry (and per removal, and one for the
 * dataset's metadata), each with its action and the reason. Pure: no I/O. The facts it cannot
 * compute (local checksums, what a remote URL answers) are asked for and handed back.
 */
import type { Dataset, Resource } from '../datagouv/schemas.js'
import { isSupportedChecksum } from '../files/hash.js'
import type { DatasetMetadata, ExtraValue, IfUnchanged } from './inputs.js'
import type { Entry, FileEntry, RemoteEntry } from './manifest.js'
import { lastExtension, normalizeFilename, slugify } from '../files/normalize.js'
import type { UrlProbe } from '../files/probe.js'
import { plural } from './report.js'

export interface Target<E extends Entry = Entry> {
  entry: E
  /** The resource the entry goes to; absent when a new resource is created. */
  resource?: Resource
}

export type FileAction = 'upload' | 'create' | 'skip' | 'update'
export type RemoteAction = 'signal' | 'create' | 'skip' | 'update'

/** What a step writes besides its main request: everything its execution needs, computed here. */
export interface Changes {
  /**
   * Fields for the v1 partial PUT that follows the main request. After an upload or a creation
   * it holds every field the entry controls (the title included), and only those that differ
   * from the server's answer are sent; otherwise only the fields that differ now.
   */
  patch: Record<string, unknown>
  /** Keys for the v2 extras merge (only those that differ). */
  extras: Record<string, ExtraValue>
}

export interface FileStep extends Target<FileEntry>, Changes {
  kind: 'file'
  action: FileAction
  reason: string
  /** The local checksum computed to decide (equal sizes only). */
  checksum?: { type: string; value: string }
  /** The title the resource ends with. */
  title: string
  /**
   * The title comes from the resource, not from the entry: if putting it back after the upload
   * fails, it is recorded (`RECORD_KEYS.title`) so that the next run can put it back.
   */
  recordTitle: boolean
  /**
   * This step puts back a title that an earlier run recorded in the dataset's extras: the key to
   * clear after.
   */
  clearsDatasetRecord?: string
}

export interface RemoteStep extends Target<RemoteEntry>, Changes {
  kind: 'url'
  action: RemoteAction
  reason: string
  /** What the URL answered, when checked. */
  probe?: UrlProbe
  /** For a creation: the body of the POST. */
  create?: Record<string, unknown> & { url: string }
}

export interface RemovalStep {
  kind: 'remove'
  /** The item of `remove` as the user wrote it. */
  source: string
  label: string
  resource: Resource
  action: 'remove'
  reason: string
}

export type Step = FileStep | RemoteStep | RemovalStep

export interface DatasetStep {
  action: 'update' | 'skip'
  reason: string
  /** Fields for the v1 partial PUT. */
  patch: Record<string, unknown>
  /** Keys for the v2 extras merge. */
  extras: Record<string, ExtraValue>
}

/** Extras keys where the action records what a remote URL answered at the last signal. */
export const REMOTE_STATE_KEYS = {
  etag: 'publish:etag',
  lastModified: 'publish:last-modified',
  size: 'publish:content-length',
} as const

/**
 * Where a title that could not be put back after an upload is recorded for the next run: the
 * resource's extras, else (when those cannot be written either) the dataset's, one key per
 * resource.
 */
export const RECORD_KEYS = {
  title: 'publish:title',
  datasetTitle: (resourceId: string) => `publish:title:${resourceId}`,
} as const

/**
 * The title an earlier run meant a resource to carry and could not put back: read only while the
 * resource still bears the title an upload gives (its stored file name), so a title someone set
 * since is never overridden.
 */
export function recordedTitle(
  resource: Resource,
  dataset: Dataset,
): { title: string; datasetKey?: string } | undefined {
  if (resource.title !== storedNameOf(resource)) return undefined
  const own = resource.extras?.[RECORD_KEYS.title]
  if (typeof own === 'string' && own !== '') return { title: own }
  const key = RECORD_KEYS.datasetTitle(resource.id)
  const shared = dataset.extras?.[key]
  return typeof shared === 'string' && shared !== ''
    ? { title: shared, datasetKey: key }
    : undefined
}

/** The stored file name of a hosted resource: the last segment of its `url`. */
export function storedNameOf(resource: Resource): string | undefined {
  try {
    const segment = new URL(resource.url).pathname.split('/').pop()
    return segment === undefined || segment === '' ? undefined : decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/**
 * Where each entry goes. Collects every problem: unknown ids, wrong kinds of target, ambiguous or
 * missing matches, a resource targeted twice, extensions the instance refuses.
 */
export function matchEntries(
  entries: readonly Entry[],
  dataset: Dataset,
  extensions: readonly string[],
  createMissing: boolean,
): { targets: Target[]; problems: string[]; blocked: Map<Entry, string> } {
  const problems: string[] = []
  const blocked = new Map<Entry, string>()
  const targets: Target[] = []
  const claimed = new Map<string, string>()
  const allowed = new Set(extensions.map((e) => e.toLowerCase()))
  // Each resource once, however many times a damaged list holds it (listedTwice says so).
  const view = { ...dataset, resources: uniqueById(dataset.resources) }
  const counts = listings(dataset)

  for (const entry of entries) {
    const where =
      entry.kind === 'file' ? `${entry.label} (${entry.source})` : `${entry.label} (${entry.url})`
    const matched =
      entry.kind === 'file'
        ? matchFile(entry, view, allowed, createMissing)
        : matchRemote(entry, view, createMissing)
    const found =
      typeof matched === 'object' && (counts.get(matched.id) ?? 0) > 1
        ? listedTwice(matched, counts.get(matched.id) ?? 0, dataset)
        : matched
    if (typeof found === 'string') {
      problems.push(`${where}: ${found}`)
      blocked.set(entry, found)
      continue
    }
    if (found !== undefined) {
      const other = claimed.get(found.id)
      if (other !== undefined) {
        const problem =
          `resource ${found.id} is already the target of ${other}; each resource can receive one ` +
          `entry`
        problems.push(`${where}: ${problem}`)
        blocked.set(entry, problem)
        continue
      }
      claimed.set(found.id, where)
    }
    targets.push(found === undefined ? { entry } : { entry, resource: found })
  }
  return { targets, problems, blocked }
}

/** The resources, each id once (its first listing). */
export function uniqueById(resources: readonly Resource[]): Resource[] {
  const seen = new Set<string>()
  return resources.filter((r) => !seen.has(r.id) && seen.add(r.id))
}

/** How many times the dataset lists each resource id. */
function listings(dataset: Dataset): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of dataset.resources) counts.set(r.id, (counts.get(r.id) ?? 0) + 1)
  return counts
}

/** The problem of an entry whose resource a damaged list holds more than once. */
function listedTwice(resource: Resource, times: number, dataset: Dataset): string {
  return (
    `resource ${resource.id} ('${resource.title}') is listed ${times} times in dataset ` +
    `'${dataset.slug}': its list of resources is damaged (udata before 10.4.3 does this when writes ` +
    `to one dataset race); nothing is written into it until the list is repaired on the instance`
  )
}

/** The warning for a dataset whose list holds some resource more than once. */
export function duplicateListings(dataset: Dataset): string[] {
  const twice = [...listings(dataset)].filter(([, n]) => n > 1).map(([id]) => id)
  if (twice.length === 0) return []
  return [
    `dataset '${dataset.slug}' lists ${plural(twice.length, 'resource')} more than once ` +
      `(${twice.join(', ')}): its list of resources is damaged (udata before 10.4.3 does this when ` +
      `writes to one dataset race); repair it on the instance`,
  ]
}

/** The resource for a local file, `undefined` to create one, or the problem. */
function matchFile(
  entry: FileEntry,
  dataset: Dataset,
  allowed: ReadonlySet<string>,
  createMissing: boolean,
): Resource | undefined | string {
  const extension = lastExtension(entry.storedName)
  if (allowed.size > 0 && (extension === undefined || !allowed.has(extension))) {
    return `the instance does not accept ${extension === undefined ? 'files without an extension' : `'.${extension}' files`} (allowed: ${[...allowed].sort().join(', ')})`
  }
  let resource: Resource | undefined
  if (entry.id !== undefined) {
    resource = dataset.resources.find((r) => r.id === entry.id)
    if (resource === undefined) return `resource ${entry.id} is not in dataset '${dataset.slug}'`
  } else {
    const byName = dataset.resources.filter(
      (r) => r.filetype === 'file' && storedNameOf(r) === entry.storedName,
    )
    const byTitle =
      byName.length > 0
        ? []
        : dataset.resources.filter((r) => r.title === entry.name || r.title === entry.storedName)
    const candidates = byName.length > 0 ? byName : byTitle
    if (candidates.length > 1) {
      return `${candidates.length} resources match by ${byName.length > 0 ? `stored file name '${entry.storedName}'` : `title '${entry.name}'`} (${candidates.map((r) => r.id).join(', ')}); give the one to replace with an entry in 'resources' ({path, id})`
    }
    resource = candidates[0]
    if (resource === undefined) {
      return createMissing
        ? undefined
        : `no resource of dataset '${dataset.slug}' has the stored file name '${entry.storedName}' ` +
            `or the title '${entry.name}'; set create-missing: true to create one, or map the file ` +
            `to a resource id in 'resources'`
    }
  }
  if (resource.filetype !== 'file') {
    return (
      `resource ${resource.id} ('${resource.title}') is a ${resource.filetype} resource (a link ` +
      `to ${resource.url}); the action uploads only into file resources`
    )
  }
  return resource
}

/** The resource for a remote URL, `undefined` to create one, or the problem. */
function matchRemote(
  entry: RemoteEntry,
  dataset: Dataset,
  createMissing: boolean,
): Resource | undefined | string {
  let resource: Resource | undefined
  if (entry.id !== undefined) {
    resource = dataset.resources.find((r) => r.id === entry.id)
    if (resource === undefined) return `resource ${entry.id} is not in dataset '${dataset.slug}'`
  } else {
    const byUrl = dataset.resources.filter((r) => r.filetype === 'remote' && r.url === entry.url)
    if (byUrl.length > 1)
      return (
        `${byUrl.length} remote resources point at this URL (${byUrl.map((r) => r.id).join(', ')}); ` +
        `give the one to update with 'id'`
      )
    resource = byUrl[0]
    if (resource === undefined) {
      return createMissing
        ? undefined
        : `no remote resource of dataset '${dataset.slug}' points at this URL; set create-missing: ` +
            `true to create one, or give the resource's 'id'`
    }
  }
  if (resource.filetype !== 'remote') {
    return (
      `resource ${resource.id} ('${resource.title}') hosts a file; a url entry updates a remote ` +
      `resource (its type cannot change on udata), use 'path' to replace the file`
    )
  }
  return resource
}

/**
 * The checksum type to compute locally before deciding, if any (equal sizes only: a size that
 * differs already proves a change).
 */
export function checksumNeeded(
  target: Target<FileEntry>,
  ifUnchanged: IfUnchanged,
): string | undefined {
  const { resource, entry } = target
  if (resource === undefined || ifUnchanged === 'upload') return undefined
  const type = resource.checksum?.type.toLowerCase()
  if (type === undefined || !isSupportedChecksum(type)) return undefined
  if (
    resource.filesize !== undefined &&
    resource.filesize !== null &&
    resource.filesize !== entry.size
  )
    return undefined
  return type
}

/** The fields a new resource has before its metadata is put: what udata gives an upload (§4). */
const NEW_RESOURCE = { description: null, type: 'main', schema: null, extras: {} } as const

/**
 * The step for a local file, given the local checksum that `checksumNeeded` asked for and the
 * title an earlier run recorded (`recordedTitle`), if any.
 */
export function decideFile(
  target: Target<FileEntry>,
  ifUnchanged: IfUnchanged,
  localChecksum?: string,
  recorded?: { title: string; datasetKey?: string },
): FileStep {
  const { resource, entry } = target
  const title = entry.title ?? recorded?.title ?? resource?.title ?? entry.name
  const checksum =
    localChecksum !== undefined && resource?.checksum
      ? { checksum: { type: resource.checksum.type.toLowerCase(), value: localChecksum } }
      : {}
  const base = {
    kind: 'file' as const,
    ...target,
    ...checksum,
    title,
    recordTitle: entry.title === undefined,
  }
  const clears =
    recorded?.datasetKey !== undefined && entry.title === undefined
      ? { clearsDatasetRecord: recorded.datasetKey }
      : {}
  // An upload (or a creation) gives the resource its stored name as title and keeps the rest: every
  // field the entry controls is carried, the executor sends those the server's answer lacks.
  const afterUpload = (action: FileAction, reason: string): FileStep => ({
    ...base,
    action,
    reason,
    patch: desiredFields(entry, title),
    extras: extrasPatch(entry.extras, resource?.extras ?? NEW_RESOURCE.extras),
    ...clears,
  })
  if (resource === undefined) return afterUpload('create', 'new: no resource matches')
  if (ifUnchanged === 'upload') return afterUpload('upload', 'if-unchanged is upload')
  if (
    resource.filesize !== undefined &&
    resource.filesize !== null &&
    resource.filesize !== entry.size
  ) {
    return afterUpload('upload', `size differs (${resource.filesize} -> ${entry.size} bytes)`)
  }
  const stored = resource.checksum
  if (stored === undefined || stored === null)
    return afterUpload('upload', 'the server has no checksum')
  if (localChecksum === undefined)
    return afterUpload('upload', `the server's checksum type '${stored.type}' cannot be compared`)
  if (stored.value.toLowerCase() !== localChecksum.toLowerCase())
    return afterUpload('upload', `${stored.type} differs`)
  return unchangedFile({ ...base, ...clears }, resource, recorded, stored.type)
}

/** An unchanged file: only its metadata, if the entry's differs, else nothing. */
function unchangedFile(
  base: Omit<FileStep, 'action' | 'reason' | 'patch' | 'extras'>,
  resource: Resource,
  recorded: { title: string } | undefined,
  checksumType: string,
): FileStep {
  const patch = metadataPatch(base.entry, resource, base.title)
  const extras = extrasPatch(base.entry.extras, resource.extras)
  const fields = [...Object.keys(patch), ...(Object.keys(extras).length > 0 ? ['extras'] : [])]
  if (fields.length === 0) {
    const { clearsDatasetRecord: _clears, ...rest } = base
    return {
      ...rest,
      action: 'skip',
      reason: `unchanged (${checksumType} and size match)`,
      patch: {},
      extras: {},
    }
  }
  const restoring =
    recorded !== undefined && patch.title === recorded.title
      ? ' (a title an earlier run could not put back)'
      : ''
  const differ = `${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`
  return {
    ...base,
    action: 'update',
    reason: `unchanged file; ${differ}${restoring}`,
    patch,
    extras,
  }
}

/** Every metadata field the entry controls, with the title to end with. */
function desiredFields(entry: Entry, title: string): Record<string, unknown> {
  const fields: Record<string, unknown> = { title }
  if (entry.description !== undefined) fields.description = entry.description
  if (entry.type !== undefined) fields.type = entry.type
  if (entry.schema !== undefined) fields.schema = schemaOf(entry.schema)
  if (entry.kind === 'url') {
    fields.url = entry.url
    if (entry.format !== undefined) fields.format = entry.format
  }
  return fields
}

function schemaOf(schema: NonNullable<Entry['schema']>): Record<string, string> {
  const want = {
    name: schema.name ?? null,
    version: schema.version ?? null,
    url: schema.url ?? null,
  }
  return Object.fromEntries(
    Object.entries(want).filter((pair): pair is [string, string] => pair[1] !== null),
  )
}

/**
 * The fields of `patch` that `resource` does not hold yet: what is still to send after the server
 * answered an upload or a creation.
 */
export function unmet(patch: Record<string, unknown>, resource: Resource): Record<string, unknown> {
  const current = resource as Record<string, unknown>
  return Object.fromEntries(
    Object.entries(patch).filter(([key, value]) => !sameField(key, value, current[key])),
  )
}

function sameField(key: string, wanted: unknown, held: unknown): boolean {
  if (key === 'schema') {
    const w = (wanted ?? {}) as Record<string, unknown>
    const h = (held ?? {}) as Record<string, unknown>
    return ['name', 'version', 'url'].every((f) => (w[f] ?? null) === (h[f] ?? null))
  }
  if (key === 'description') return (wanted ?? '') === (held ?? '')
  // udata stores a format stripped and lower-cased (udata/core/dataset/forms.py `normalize_format`).
  if (key === 'format' && typeof wanted === 'string')
    return wanted.trim().toLowerCase() === (typeof held === 'string' ? held : '')
  return wanted === held
}

/**
 * The step for a remote URL. It is signalled (a PUT that moves the resource's modification date)
 * when what the URL answers differs from what was recorded at the last signal (ETag,
 * Last-Modified, size), when its url changes, or when nothing can tell (no check, no validator).
 */
export function decideRemote(
  target: Target<RemoteEntry>,
  ifUnchanged: IfUnchanged,
  probe: UrlProbe | undefined,
): RemoteStep {
  const { resource, entry } = target
  const state = probe ? remoteState(probe) : {}
  const wantedExtras = { ...(entry.extras ?? {}), ...state }
  if (resource === undefined) return remoteCreation(target, probe, wantedExtras)
  const extras = extrasPatch(wantedExtras, resource.extras)
  const metadata = metadataPatch(entry, resource, resource.title)
  const step = (action: RemoteAction, reason: string): RemoteStep => {
    // A signal is a partial PUT, which moves the resource's modification date and asks the analyser
    // to re-check it (docs/udata-protocol.md §7); it carries the url so that it is never empty.
    const patch =
      action === 'signal' ? { url: entry.url, ...metadata } : action === 'update' ? metadata : {}
    return {
      kind: 'url',
      ...target,
      action,
      reason,
      ...(probe ? { probe } : {}),
      patch,
      extras: action === 'skip' ? {} : extras,
    }
  }
  if (resource.url !== entry.url) return step('signal', 'url differs')
  if (ifUnchanged === 'upload') return step('signal', 'if-unchanged is upload')
  if (probe === undefined)
    return step('signal', 'URL not checked (check-urls is false): a change cannot be ruled out')
  const changes = remoteChanges(resource, probe)
  if (changes === undefined)
    return step(
      'signal',
      'the URL gives no ETag, Last-Modified or size: a change cannot be ruled out',
    )
  if (changes.length > 0) return step('signal', `remote file changed (${changes.join(', ')})`)
  const fields = [
    ...Object.keys(metadata),
    ...(Object.keys(extrasPatch(entry.extras, resource.extras)).length > 0 ? ['extras'] : []),
  ]
  if (fields.length > 0)
    return step(
      'update',
      `remote unchanged; ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`,
    )
  return step('skip', 'remote unchanged (same validators as at the last signal)')
}

/** A new remote resource: the body of its creation, then its extras. */
function remoteCreation(
  target: Target<RemoteEntry>,
  probe: UrlProbe | undefined,
  wantedExtras: Record<string, ExtraValue>,
): RemoteStep {
  const { entry } = target
  const create: RemoteStep['create'] = {
    url: entry.url,
    title: entry.title ?? defaultRemoteTitle(entry.url),
    type: entry.type ?? 'main',
  }
  if (entry.description !== undefined) create.description = entry.description
  if (entry.format !== undefined) create.format = entry.format
  if (entry.schema !== undefined) create.schema = entry.schema
  return {
    kind: 'url',
    ...target,
    action: 'create',
    reason: 'new: no remote resource has this URL',
    ...(probe ? { probe } : {}),
    create,
    patch: {},
    extras: extrasPatch(wantedExtras, {}),
  }
}

/**
 * Which recorded validators differ from what the URL answers now; `undefined` when it gives none.
 */
function remoteChanges(resource: Resource, probe: UrlProbe): string[] | undefined {
  const now = remoteState(probe)
  if (Object.keys(now).length === 0) return undefined
  const recorded = resource.extras ?? {}
  const names: Record<string, string> = {
    [REMOTE_STATE_KEYS.etag]: 'ETag',
    [REMOTE_STATE_KEYS.lastModified]: 'Last-Modified',
    [REMOTE_STATE_KEYS.size]: 'size',
  }
  if (Object.keys(now).every((key) => recorded[key] === undefined)) return ['first check']
  return Object.entries(now)
    .filter(([key, value]) => recorded[key] !== value)
    .map(([key]) => names[key] ?? key)
}

/** The extras that record what a URL answered. */
function remoteState(probe: UrlProbe): Record<string, string> {
  const state: Record<string, string> = {}
  if (probe.etag !== undefined) state[REMOTE_STATE_KEYS.etag] = probe.etag
  if (probe.lastModified !== undefined) state[REMOTE_STATE_KEYS.lastModified] = probe.lastModified
  if (probe.size !== undefined) state[REMOTE_STATE_KEYS.size] = String(probe.size)
  return state
}

/**
 * The partial PUT that gives `current` the entry's metadata: only the fields that differ, and
 * never the protected fields of hosted files (docs/udata-protocol.md §6.1). `title` is the title to
 * end with:
 * the entry's, else the resource's previous one (an upload overwrites it), else the file name.
 * For a remote entry: also its url and format, and never a hosted file's fields.
 */
export function metadataPatch(
  entry: Entry,
  current: Resource,
  previousTitle: string | undefined,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  const title =
    entry.title ??
    previousTitle ??
    (entry.kind === 'file' ? entry.name : defaultRemoteTitle(entry.url))
  if (current.title !== title) patch.title = title
  if (entry.description !== undefined && (current.description ?? '') !== entry.description)
    patch.description = entry.description
  if (entry.type !== undefined && current.type !== entry.type) patch.type = entry.type
  if (entry.schema !== undefined) {
    const want = {
      name: entry.schema.name ?? null,
      version: entry.schema.version ?? null,
      url: entry.schema.url ?? null,
    }
    const have = current.schema ?? {}
    if (
      (have.name ?? null) !== want.name ||
      (have.version ?? null) !== want.version ||
      (have.url ?? null) !== want.url
    ) {
      patch.schema = Object.fromEntries(Object.entries(want).filter(([, v]) => v !== null))
    }
  }
  if (entry.kind === 'url') {
    if (current.url !== entry.url) patch.url = entry.url
    if (entry.format !== undefined && (current.format ?? '') !== entry.format)
      patch.format = entry.format
  }
  return patch
}

/** The extras keys to merge: those whose value differs (a `null` only when the key is present). */
export function extrasPatch(
  wanted: Record<string, ExtraValue> | undefined,
  current: Record<string, unknown> | null | undefined,
): Record<string, ExtraValue> {
  const patch: Record<string, ExtraValue> = {}
  for (const [key, value] of Object.entries(wanted ?? {})) {
    const have = current?.[key]
    if (value === null ? have !== undefined && have !== null : have !== value) patch[key] = value
  }
  return patch
}

/** A title for a new remote resource given none: the URL's last path segment, else its host. */
export function defaultRemoteTitle(url: string): string {
  const parsed = new URL(url)
  const last = parsed.pathname.split('/').filter(Boolean).pop()
  return last !== undefined ? decodeURIComponent(last) : parsed.host
}

/**
 * `remove` items -> removal steps: each an id or a stored file name of the dataset, never also
 * published by this run. Nothing is ever removed that `remove` does not name.
 */
export function planRemovals(
  items: readonly string[],
  dataset: Dataset,
  targets: readonly Target[],
): { steps: RemovalStep[]; problems: string[] } {
  const steps: RemovalStep[] = []
  const problems: string[] = []
  const targeted = new Map(
    targets.flatMap((t) => (t.resource ? [[t.resource.id, t.entry.label] as const] : [])),
  )
  const seen = new Set<string>()
  const unique = uniqueById(dataset.resources)
  items.forEach((item, index) => {
    const label = `remove[${index}]`
    const where = `input 'remove', ${label} '${item}'`
    const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(item)
    const matches = isId
      ? unique.filter((r) => r.id === item.toLowerCase())
      : unique.filter(
          (r) =>
            r.filetype === 'file' &&
            (storedNameOf(r) === item || storedNameOf(r) === normalizeFilename(item)),
        )
    if (matches.length === 0) {
      problems.push(
        `${where}: no resource of dataset '${dataset.slug}' has this ${isId ? 'id' : 'stored file name'}`,
      )
      return
    }
    if (matches.length > 1) {
      problems.push(
        `${where}: ${matches.length} resources have this stored file name (${matches.map((r) => r.id).join(', ')}); ` +
          `give the id of the one to remove`,
      )
      return
    }
    const resource = matches[0] as Resource
    const by = targeted.get(resource.id)
    if (by !== undefined) {
      problems.push(
        `${where}: resource ${resource.id} is also published by ${by} in this run; remove it from ` +
          `one of them`,
      )
      return
    }
    if (seen.has(resource.id)) return
    seen.add(resource.id)
    steps.push({
      kind: 'remove',
      source: item,
      label,
      resource,
      action: 'remove',
      reason: `named in remove (${resource.filetype} '${resource.title}')`,
    })
  })
  return { steps, problems }
}

/**
 * The dataset's metadata step: the fields of `dataset-metadata` whose value differs from the live
 * dataset, extras apart (merged through v2 so that the analyser's keys stay). `problems` names the
 * values the instance does not know (frequency, license).
 */
export function planDataset(
  wanted: DatasetMetadata,
  dataset: Dataset,
  known: { frequencies?: readonly string[]; licenses?: readonly string[] },
): { step: DatasetStep; problems: string[] } {
  const problems: string[] = []
  if (
    wanted.frequency !== undefined &&
    known.frequencies !== undefined &&
    !known.frequencies.includes(wanted.frequency)
  ) {
    problems.push(
      `input 'dataset-metadata'.frequency: '${wanted.frequency}' is not a frequency of the instance ` +
        `(accepted: ${known.frequencies.join(', ')})`,
    )
  }
  if (
    wanted.license !== undefined &&
    known.licenses !== undefined &&
    !known.licenses.includes(wanted.license)
  ) {
    problems.push(
      `input 'dataset-metadata'.license: '${wanted.license}' is not a license of the instance (accepted: ` +
        `${known.licenses.join(', ')})`,
    )
  }
  problems.push(...tagProblems(wanted.tags))
  const patch: Record<string, unknown> = {}
  const { extras, organization, ...fields } = wanted
  const owner = dataset.organization?.id
  if (organization !== undefined && organization !== owner) {
    problems.push(
      `input 'dataset-metadata'.organization: dataset '${dataset.slug}' belongs to ${typeof owner === 'string' ? `organisation ${owner}` : 'a user'}; udata does not change a dataset's owner through this API (it is a transfer): 'organization' applies only when create-dataset creates the dataset`,
    )
  }
  for (const [key, value] of Object.entries(fields)) {
    if (!sameValue(key, value, (dataset as Record<string, unknown>)[key]))
      patch[key] = key === 'tags' ? [...new Set((value as string[]).map(slugify))] : value
  }
  const extrasChanges = extrasPatch(extras, dataset.extras)
  const changed = [
    ...Object.keys(patch),
    ...(Object.keys(extrasChanges).length > 0 ? ['extras'] : []),
  ]
  const step: DatasetStep =
    changed.length > 0
      ? {
          action: 'update',
          reason: `${changed.join(', ')} differ${changed.length === 1 ? 's' : ''}`,
          patch,
          extras: extrasChanges,
        }
      : { action: 'skip', reason: 'metadata unchanged', patch, extras: extrasChanges }
  return { step, problems }
}

/** udata's default `TAG_MIN_LENGTH` and `TAG_MAX_LENGTH`, on the slugified tag (udata/forms/fields.py `TagField`). */
const TAG_LENGTH = { min: 3, max: 96 } as const

/** Tags udata would refuse (400), named with what udata would store. */
function tagProblems(tags: readonly string[] | undefined): string[] {
  return (tags ?? []).flatMap((tag) => {
    const stored = slugify(tag)
    if (stored.length >= TAG_LENGTH.min && stored.length <= TAG_LENGTH.max) return []
    return [
      `input 'dataset-metadata'.tags: '${tag}' is stored by udata as '${stored}', which must be ` +
        `${TAG_LENGTH.min} to ${TAG_LENGTH.max} characters long (udata slugifies tags: lower case, ` +
        `words joined by '-')`,
    ]
  })
}

/**
 * `create-dataset`: the body of the dataset creation, from `dataset-metadata` (extras apart: merged
 * through v2 once it exists). udata derives the slug from the title: it must be the slug asked for,
 * or the next run would not find the dataset.
 */
export function planCreation(
  wanted: DatasetMetadata | undefined,
  slug: string,
): { body: Record<string, unknown>; problems: string[] } {
  const problems: string[] = []
  const where = `input 'dataset': no dataset '${slug}' exists; create-dataset`
  if (/^[0-9a-f]{24}$/i.test(slug))
    problems.push(`${where} needs a slug, not an id: give the slug the dataset should have`)
  if (wanted?.title === undefined || wanted.description === undefined) {
    problems.push(
      `${where} needs 'title' and 'description' in 'dataset-metadata' (udata requires both)`,
    )
    return { body: {}, problems }
  }
  const derived = slugify(wanted.title)
  if (derived !== slug) {
    problems.push(
      `${where} would create it with the slug '${derived}' (udata derives it from the title '${wanted.title}'); ` +
        `set dataset: ${derived}, or a title that gives '${slug}'`,
    )
  }
  const { extras: _extras, ...body } = wanted
  return { body, problems }
}

/** Dataset field equality as udata returns them: tags and zones as sets, dates by instant. */
export function sameValue(key: string, wanted: unknown, live: unknown): boolean {
  // udata stores each tag slugified (udata/tags.py `slug`): 'Eau Potable' is 'eau-potable'.
  if (key === 'tags')
    return sameSet((wanted as string[]).map(slugify), (live as string[] | null | undefined) ?? [])
  if (key === 'frequency_date') return sameInstant(wanted as string, live)
  if (key === 'temporal_coverage') {
    const w = wanted as { start: string; end?: string }
    const l = (live ?? {}) as { start?: unknown; end?: unknown }
    return (
      sameInstant(w.start, l.start) &&
      (w.end === undefined ? l.end === undefined || l.end === null : sameInstant(w.end, l.end))
    )
  }
  if (key === 'spatial') {
    const w = wanted as { zones?: string[]; granularity?: string }
    const l = (live ?? {}) as { zones?: unknown[] | null; granularity?: string | null }
    const liveZones = (l.zones ?? []).map((z) =>
      typeof z === 'object' && z !== null && 'id' in z ? String(z.id) : String(z),
    )
    return (
      (w.zones === undefined || sameSet(w.zones, liveZones)) &&
      (w.granularity === undefined || w.granularity === l.granularity)
    )
  }
  return wanted === live
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort()
  const right = [...new Set(b)].sort()
  return left.length === right.length && left.every((v, i) => v === right[i])
}

function sameInstant(a: string, b: unknown): boolean {
  return typeof b === 'string' && Date.parse(a) === Date.parse(b)
}

/**
 * The provenance extras added to every step that writes a resource (a skipped one writes nothing,
 * so a second identical run sends nothing).
 */
export function withProvenance(
  steps: readonly Step[],
  extras: Record<string, string> | undefined,
): Step[] {
  if (extras === undefined) return [...steps]
  return steps.map((step) =>
    step.kind === 'remove' || step.action === 'skip'
      ? step
      : { ...step, extras: { ...step.extras, ...extras } },
  )
}

/**
 * `prune`: removal steps for the resources this publication wrote before (its recorded
 * provenance) that no entry publishes now and no `remove` item already names.
 */
export function planPrune(
  dataset: Dataset,
  targets: readonly Target[],
  removals: readonly RemovalStep[],
  publication: { repository: string; workflow: string },
  isWrittenBy: (resource: Resource) => boolean,
): RemovalStep[] {
  const kept = new Set([
    ...targets.flatMap((t) => (t.resource ? [t.resource.id] : [])),
    ...removals.map((r) => r.resource.id),
  ])
  return dataset.resources
    .filter((r) => !kept.has(r.id) && isWrittenBy(r))
    .map((resource) => ({
      kind: 'remove' as const,
      source: storedNameOf(resource) ?? resource.url,
      label: 'prune',
      resource,
      action: 'remove' as const,
      reason: `pruned: written by ${publication.repository} (${publication.workflow}) and no longer published`,
    }))
}

/** Problems with the dataset itself or the key's rights, before any entry is looked at. */
export function datasetProblems(
  dataset: Dataset,
  writing: { resources: boolean; dataset: boolean },
): string[] {
  const problems: string[] = []
  const deleted = dateOf(dataset.deleted)
  if (deleted !== undefined) {
    problems.push(
      `input 'dataset': dataset '${dataset.slug}' (${dataset.id}) has been deleted${deleted}; nothing ` +
        `is published into a deleted dataset: restore it on data.gouv.fr first, or name another dataset`,
    )
    return problems
  }
  if (writing.resources && dataset.permissions?.edit_resources === false) {
    problems.push(
      `input 'api-key': the key's owner may not edit the resources of dataset '${dataset.slug}' ` +
        `(${dataset.id})`,
    )
  }
  if (writing.dataset && dataset.permissions?.edit === false) {
    problems.push(
      `input 'api-key': the key's owner may not edit dataset '${dataset.slug}' (${dataset.id}), ` +
        `so 'dataset-metadata' cannot be applied`,
    )
  }
  return problems
}

/**
 * What a dataset step changes beyond its fields: a new title gives the dataset a new slug
 * (udata's `SlugField(populate_from='title', update=True)`; the old slug answers with a redirect).
 */
export function datasetStepWarnings(step: DatasetStep | undefined, dataset: Dataset): string[] {
  const title = step?.patch.title
  if (step?.action !== 'update' || typeof title !== 'string') return []
  return [
    `dataset-metadata changes the title of dataset '${dataset.slug}': udata then gives it the slug ` +
      `'${slugify(title)}' (or that slug followed by a number when it is taken); the old slug keeps ` +
      `leading to it (a redirect), so links and 'dataset: ${dataset.slug}' keep working`,
  ]
}

/** What the dataset's state tolerates but the user should know. */
export function datasetWarnings(dataset: Dataset): string[] {
  const archived = dateOf(dataset.archived)
  if (archived !== undefined) {
    return [
      `dataset '${dataset.slug}' (${dataset.id}) is archived${archived}: it is published to all ` +
        `the same, but data.gouv.fr shows it as archived`,
    ]
  }
  return []
}

/** ` (on <date>)` for a date, `''` for `true`, `undefined` when the flag is not set. */
function dateOf(flag: string | boolean | null | undefined): string | undefined {
  if (flag === undefined || flag === null || flag === false || flag === '') return undefined
  return flag === true ? '' : ` (${flag})`
}
