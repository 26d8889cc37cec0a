/**
 * What was asked + the live dataset -> a plan: one step per entry (and per removal, and one for the
 * dataset's metadata), each with its action and the reason. Pure: no I/O. The facts it cannot
 * compute (local checksums, what a remote URL answers) are asked for and handed back.
 */
import type { Dataset, Resource } from '../datagouv/schemas.js'
import { isSupportedChecksum } from '../files/hash.js'
import type { DatasetMetadata, ExtraValue, IfUnchanged } from './inputs.js'
import type { Entry, FileEntry, RemoteEntry } from './manifest.js'
import { lastExtension, normalizeFilename } from '../files/normalize.js'
import type { UrlProbe } from '../files/probe.js'

export interface Target<E extends Entry = Entry> {
  entry: E
  /** The resource the entry goes to; absent when a new resource is created. */
  resource?: Resource
}

export type FileAction = 'upload' | 'create' | 'skip' | 'update'
export type RemoteAction = 'signal' | 'create' | 'skip' | 'update'
export type PlannedAction = FileAction | RemoteAction | 'remove'

export interface FileStep extends Target<FileEntry> {
  kind: 'file'
  action: FileAction
  reason: string
}

export interface RemoteStep extends Target<RemoteEntry> {
  kind: 'url'
  action: RemoteAction
  reason: string
  /** What the URL answered, when checked. */
  probe?: UrlProbe
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
export const REMOTE_STATE_KEYS = { etag: 'publish:etag', lastModified: 'publish:last-modified', size: 'publish:content-length' } as const

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
): { targets: Target[]; problems: string[] } {
  const problems: string[] = []
  const targets: Target[] = []
  const claimed = new Map<string, string>()
  const allowed = new Set(extensions.map((e) => e.toLowerCase()))

  for (const entry of entries) {
    const where = entry.kind === 'file' ? `${entry.label} (${entry.source})` : `${entry.label} (${entry.url})`
    const found = entry.kind === 'file' ? matchFile(entry, dataset, allowed, createMissing) : matchRemote(entry, dataset, createMissing)
    if (typeof found === 'string') {
      problems.push(`${where}: ${found}`)
      continue
    }
    if (found !== undefined) {
      const other = claimed.get(found.id)
      if (other !== undefined) {
        problems.push(`${where}: resource ${found.id} is already the target of ${other}; each resource can receive one entry`)
        continue
      }
      claimed.set(found.id, where)
    }
    targets.push(found === undefined ? { entry } : { entry, resource: found })
  }
  return { targets, problems }
}

/** The resource for a local file, `undefined` to create one, or the problem. */
function matchFile(entry: FileEntry, dataset: Dataset, allowed: ReadonlySet<string>, createMissing: boolean): Resource | undefined | string {
  const extension = lastExtension(entry.storedName)
  if (allowed.size > 0 && (extension === undefined || !allowed.has(extension))) {
    return `the instance does not accept ${extension === undefined ? 'files without an extension' : `'.${extension}' files`} (allowed: ${[...allowed].sort().join(', ')})`
  }
  let resource: Resource | undefined
  if (entry.id !== undefined) {
    resource = dataset.resources.find((r) => r.id === entry.id)
    if (resource === undefined) return `resource ${entry.id} is not in dataset '${dataset.slug}'`
  } else {
    const byName = dataset.resources.filter((r) => r.filetype === 'file' && storedNameOf(r) === entry.storedName)
    const byTitle = byName.length > 0 ? [] : dataset.resources.filter((r) => r.title === entry.name || r.title === entry.storedName)
    const candidates = byName.length > 0 ? byName : byTitle
    if (candidates.length > 1) {
      return `${candidates.length} resources match by ${byName.length > 0 ? `stored file name '${entry.storedName}'` : `title '${entry.name}'`} (${candidates.map((r) => r.id).join(', ')}); give the one to replace with an entry in 'resources' ({path, id})`
    }
    resource = candidates[0]
    if (resource === undefined) {
      return createMissing
        ? undefined
        : `no resource of dataset '${dataset.slug}' has the stored file name '${entry.storedName}' or the title '${entry.name}'; set create-missing: true to create one, or map the file to a resource id in 'resources'`
    }
  }
  if (resource.filetype !== 'file') {
    return `resource ${resource.id} ('${resource.title}') is a ${resource.filetype} resource (a link to ${resource.url}); the action uploads only into file resources`
  }
  return resource
}

/** The resource for a remote URL, `undefined` to create one, or the problem. */
function matchRemote(entry: RemoteEntry, dataset: Dataset, createMissing: boolean): Resource | undefined | string {
  let resource: Resource | undefined
  if (entry.id !== undefined) {
    resource = dataset.resources.find((r) => r.id === entry.id)
    if (resource === undefined) return `resource ${entry.id} is not in dataset '${dataset.slug}'`
  } else {
    const byUrl = dataset.resources.filter((r) => r.filetype === 'remote' && r.url === entry.url)
    if (byUrl.length > 1) return `${byUrl.length} remote resources point at this URL (${byUrl.map((r) => r.id).join(', ')}); give the one to update with 'id'`
    resource = byUrl[0]
    if (resource === undefined) {
      return createMissing
        ? undefined
        : `no remote resource of dataset '${dataset.slug}' points at this URL; set create-missing: true to create one, or give the resource's 'id'`
    }
  }
  if (resource.filetype !== 'remote') {
    return `resource ${resource.id} ('${resource.title}') hosts a file; a url entry updates a remote resource (its type cannot change on udata), use 'path' to replace the file`
  }
  return resource
}

/** The checksum type to compute locally before deciding, if any (equal sizes only: a size that differs already proves a change). */
export function checksumNeeded(target: Target<FileEntry>, ifUnchanged: IfUnchanged): string | undefined {
  const { resource, entry } = target
  if (resource === undefined || ifUnchanged === 'upload') return undefined
  const type = resource.checksum?.type.toLowerCase()
  if (type === undefined || !isSupportedChecksum(type)) return undefined
  if (resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== entry.size) return undefined
  return type
}

/** The step for a local file, given the local checksum that `checksumNeeded` asked for. */
export function decideFile(target: Target<FileEntry>, ifUnchanged: IfUnchanged, localChecksum?: string): FileStep {
  const { resource, entry } = target
  const step = (action: FileAction, reason: string): FileStep => ({ kind: 'file', ...target, action, reason })
  if (resource === undefined) return step('create', 'new: no resource matches')
  if (ifUnchanged === 'upload') return step('upload', 'if-unchanged is upload')
  if (resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== entry.size) {
    return step('upload', `size differs (${resource.filesize} -> ${entry.size} bytes)`)
  }
  const checksum = resource.checksum
  if (checksum === undefined || checksum === null) return step('upload', 'the server has no checksum')
  if (localChecksum === undefined) return step('upload', `the server's checksum type '${checksum.type}' cannot be compared`)
  if (checksum.value.toLowerCase() !== localChecksum.toLowerCase()) return step('upload', `${checksum.type} differs`)
  const fields = differing(entry, resource, resource.title)
  if (fields.length > 0) return step('update', `unchanged file; ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`)
  return step('skip', `unchanged (${checksum.type} and size match)`)
}

/**
 * The step for a remote URL. It is signalled (a PUT that moves the resource's modification date)
 * when what the URL answers differs from what was recorded at the last signal (ETag,
 * Last-Modified, size), when its url changes, or when nothing can tell (no check, no validator).
 */
export function decideRemote(target: Target<RemoteEntry>, ifUnchanged: IfUnchanged, probe: UrlProbe | undefined): RemoteStep {
  const { resource, entry } = target
  const step = (action: RemoteAction, reason: string): RemoteStep => ({ kind: 'url', ...target, action, reason, ...(probe ? { probe } : {}) })
  if (resource === undefined) return step('create', 'new: no remote resource has this URL')
  if (resource.url !== entry.url) return step('signal', 'url differs')
  if (ifUnchanged === 'upload') return step('signal', 'if-unchanged is upload')
  if (probe === undefined) return step('signal', 'URL not checked (check-urls is false): a change cannot be ruled out')
  const changes = remoteChanges(resource, probe)
  if (changes === undefined) return step('signal', 'the URL gives no ETag, Last-Modified or size: a change cannot be ruled out')
  if (changes.length > 0) return step('signal', `remote file changed (${changes.join(', ')})`)
  const fields = differing(entry, resource, resource.title)
  if (fields.length > 0) return step('update', `remote unchanged; ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`)
  return step('skip', 'remote unchanged (same validators as at the last signal)')
}

/** Which recorded validators differ from what the URL answers now; `undefined` when it gives none. */
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
export function remoteState(probe: UrlProbe): Record<string, string> {
  const state: Record<string, string> = {}
  if (probe.etag !== undefined) state[REMOTE_STATE_KEYS.etag] = probe.etag
  if (probe.lastModified !== undefined) state[REMOTE_STATE_KEYS.lastModified] = probe.lastModified
  if (probe.size !== undefined) state[REMOTE_STATE_KEYS.size] = String(probe.size)
  return state
}

/** Names of the metadata fields (and extras) that differ between the entry and the resource. */
function differing(entry: Entry, resource: Resource, previousTitle: string | undefined): string[] {
  const fields = Object.keys(metadataPatch(entry, resource, previousTitle))
  if (Object.keys(extrasPatch(entry.extras, resource.extras)).length > 0) fields.push('extras')
  return fields
}

/**
 * The partial PUT that gives `current` the entry's metadata: only the fields that differ, and
 * never the protected fields of hosted files (reference §6.1). `title` is the title to end with:
 * the entry's, else the resource's previous one (an upload overwrites it), else the file name.
 * For a remote entry: also its url and format, and never a hosted file's fields.
 */
export function metadataPatch(entry: Entry, current: Resource, previousTitle: string | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  const title = entry.title ?? previousTitle ?? (entry.kind === 'file' ? entry.name : defaultRemoteTitle(entry.url))
  if (current.title !== title) patch.title = title
  if (entry.description !== undefined && (current.description ?? '') !== entry.description) patch.description = entry.description
  if (entry.type !== undefined && current.type !== entry.type) patch.type = entry.type
  if (entry.schema !== undefined) {
    const want = { name: entry.schema.name ?? null, version: entry.schema.version ?? null, url: entry.schema.url ?? null }
    const have = current.schema ?? {}
    if ((have.name ?? null) !== want.name || (have.version ?? null) !== want.version || (have.url ?? null) !== want.url) {
      patch.schema = Object.fromEntries(Object.entries(want).filter(([, v]) => v !== null))
    }
  }
  if (entry.kind === 'url') {
    if (current.url !== entry.url) patch.url = entry.url
    if (entry.format !== undefined && (current.format ?? '') !== entry.format) patch.format = entry.format
  }
  return patch
}

/** The extras keys to merge: those whose value differs (a `null` only when the key is present). */
export function extrasPatch(wanted: Record<string, ExtraValue> | undefined, current: Record<string, unknown> | null | undefined): Record<string, ExtraValue> {
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
export function planRemovals(items: readonly string[], dataset: Dataset, targets: readonly Target[]): { steps: RemovalStep[]; problems: string[] } {
  const steps: RemovalStep[] = []
  const problems: string[] = []
  const targeted = new Map(targets.flatMap((t) => (t.resource ? [[t.resource.id, t.entry.label] as const] : [])))
  const seen = new Set<string>()
  items.forEach((item, index) => {
    const label = `remove[${index}]`
    const where = `input 'remove', ${label} '${item}'`
    const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(item)
    const matches = isId
      ? dataset.resources.filter((r) => r.id === item.toLowerCase())
      : dataset.resources.filter((r) => r.filetype === 'file' && (storedNameOf(r) === item || storedNameOf(r) === normalizeFilename(item)))
    if (matches.length === 0) {
      problems.push(`${where}: no resource of dataset '${dataset.slug}' has this ${isId ? 'id' : 'stored file name'}`)
      return
    }
    if (matches.length > 1) {
      problems.push(
        `${where}: ${matches.length} resources have this stored file name (${matches.map((r) => r.id).join(', ')}); give the id of the one to remove`,
      )
      return
    }
    const resource = matches[0] as Resource
    const by = targeted.get(resource.id)
    if (by !== undefined) {
      problems.push(`${where}: resource ${resource.id} is also published by ${by} in this run; remove it from one of them`)
      return
    }
    if (seen.has(resource.id)) return
    seen.add(resource.id)
    steps.push({ kind: 'remove', source: item, label, resource, action: 'remove', reason: `named in remove (${resource.filetype} '${resource.title}')` })
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
  if (wanted.frequency !== undefined && known.frequencies !== undefined && !known.frequencies.includes(wanted.frequency)) {
    problems.push(`input 'dataset-metadata'.frequency: '${wanted.frequency}' is not a frequency of the instance (accepted: ${known.frequencies.join(', ')})`)
  }
  if (wanted.license !== undefined && known.licenses !== undefined && !known.licenses.includes(wanted.license)) {
    problems.push(`input 'dataset-metadata'.license: '${wanted.license}' is not a license of the instance (accepted: ${known.licenses.join(', ')})`)
  }
  const patch: Record<string, unknown> = {}
  const { extras, ...fields } = wanted
  for (const [key, value] of Object.entries(fields)) {
    if (!sameValue(key, value, (dataset as Record<string, unknown>)[key])) patch[key] = value
  }
  const extrasChanges = extrasPatch(extras, dataset.extras)
  const changed = [...Object.keys(patch), ...(Object.keys(extrasChanges).length > 0 ? ['extras'] : [])]
  const step: DatasetStep =
    changed.length > 0
      ? { action: 'update', reason: `${changed.join(', ')} differ${changed.length === 1 ? 's' : ''}`, patch, extras: extrasChanges }
      : { action: 'skip', reason: 'metadata unchanged', patch, extras: extrasChanges }
  return { step, problems }
}

/** Dataset field equality as udata returns them: tags and zones as sets, dates by instant. */
function sameValue(key: string, wanted: unknown, live: unknown): boolean {
  if (key === 'tags') {
    const lower = (tags: readonly string[]) => tags.map((t) => t.toLowerCase())
    return sameSet(lower(wanted as string[]), lower((live as string[] | null | undefined) ?? []))
  }
  if (key === 'frequency_date') return sameInstant(wanted as string, live)
  if (key === 'temporal_coverage') {
    const w = wanted as { start: string; end?: string }
    const l = (live ?? {}) as { start?: unknown; end?: unknown }
    return sameInstant(w.start, l.start) && (w.end === undefined ? l.end === undefined || l.end === null : sameInstant(w.end, l.end))
  }
  if (key === 'spatial') {
    const w = wanted as { zones?: string[]; granularity?: string }
    const l = (live ?? {}) as { zones?: unknown[] | null; granularity?: string | null }
    const liveZones = (l.zones ?? []).map((z) => (typeof z === 'object' && z !== null && 'id' in z ? String(z.id) : String(z)))
    return (w.zones === undefined || sameSet(w.zones, liveZones)) && (w.granularity === undefined || w.granularity === l.granularity)
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

/** Problems with the dataset itself or the key's rights, before any entry is looked at. */
export function datasetProblems(dataset: Dataset, writing: { resources: boolean; dataset: boolean }): string[] {
  const problems: string[] = []
  if (writing.resources && dataset.permissions?.edit_resources === false) {
    problems.push(`input 'api-key': the key's owner may not edit the resources of dataset '${dataset.slug}' (${dataset.id})`)
  }
  if (writing.dataset && dataset.permissions?.edit === false) {
    problems.push(`input 'api-key': the key's owner may not edit dataset '${dataset.slug}' (${dataset.id}), so 'dataset-metadata' cannot be applied`)
  }
  return problems
}
