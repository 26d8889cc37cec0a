/**
 * Entries + the live dataset -> a plan: one step per entry, with its action and the reason.
 * Pure: no I/O. Hashing (the one fact it cannot compute) is asked for by `checksumNeeded` and
 * handed back to `decide`.
 */
import type { Dataset, Resource } from './datagouv/schemas.js'
import type { IfUnchanged } from './inputs.js'
import type { Entry } from './manifest.js'
import { lastExtension } from './normalize.js'
import { isSupportedChecksum } from './hash.js'

export interface Target {
  entry: Entry
  /** The resource whose file is replaced; absent when a new resource is created. */
  resource?: Resource
}

export type PlannedAction = 'upload' | 'create' | 'skip' | 'update'

export interface Step extends Target {
  action: PlannedAction
  reason: string
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
 * Where each entry goes (reference: matching rules of the action's contract). Collects every
 * problem: unknown ids, remote targets, ambiguous or missing matches, a resource targeted twice,
 * extensions the instance refuses.
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
  const fileResources = dataset.resources.filter((r) => r.filetype === 'file')

  for (const entry of entries) {
    const where = `${entry.label} (${entry.source})`
    const extension = lastExtension(entry.storedName)
    if (allowed.size > 0 && (extension === undefined || !allowed.has(extension))) {
      problems.push(
        `${where}: the instance does not accept ${extension === undefined ? 'files without an extension' : `'.${extension}' files`} (allowed: ${[...allowed].sort().join(', ')})`,
      )
      continue
    }
    let resource: Resource | undefined
    if (entry.id !== undefined) {
      resource = dataset.resources.find((r) => r.id === entry.id)
      if (resource === undefined) {
        problems.push(`${where}: resource ${entry.id} is not in dataset '${dataset.slug}'`)
        continue
      }
    } else {
      const byName = fileResources.filter((r) => storedNameOf(r) === entry.storedName)
      const byTitle = byName.length > 0 ? [] : dataset.resources.filter((r) => r.title === entry.name || r.title === entry.storedName)
      const candidates = byName.length > 0 ? byName : byTitle
      if (candidates.length > 1) {
        problems.push(
          `${where}: ${candidates.length} resources match by ${byName.length > 0 ? `stored file name '${entry.storedName}'` : `title '${entry.name}'`} (${candidates.map((r) => r.id).join(', ')}); give the one to replace with an entry in 'resources' ({path, id})`,
        )
        continue
      }
      resource = candidates[0]
      if (resource === undefined && !createMissing) {
        problems.push(
          `${where}: no resource of dataset '${dataset.slug}' has the stored file name '${entry.storedName}' or the title '${entry.name}'; set create-missing: true to create one, or map the file to a resource id in 'resources'`,
        )
        continue
      }
    }
    if (resource !== undefined) {
      if (resource.filetype !== 'file') {
        problems.push(
          `${where}: resource ${resource.id} ('${resource.title}') is a ${resource.filetype} resource (a link to ${resource.url}); the action uploads only into file resources`,
        )
        continue
      }
      const other = claimed.get(resource.id)
      if (other !== undefined) {
        problems.push(`${where}: resource ${resource.id} is already the target of ${other}; each resource can receive one file`)
        continue
      }
      claimed.set(resource.id, where)
      targets.push({ entry, resource })
    } else {
      targets.push({ entry })
    }
  }
  return { targets, problems }
}

/** The checksum type to compute locally before deciding, if any (equal sizes only: a size that differs already proves a change). */
export function checksumNeeded(target: Target, ifUnchanged: IfUnchanged): string | undefined {
  const { resource, entry } = target
  if (resource === undefined || ifUnchanged === 'upload') return undefined
  const type = resource.checksum?.type.toLowerCase()
  if (type === undefined || !isSupportedChecksum(type)) return undefined
  if (resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== entry.size) return undefined
  return type
}

/** The step for a target, given the local checksum that `checksumNeeded` asked for. */
export function decide(target: Target, ifUnchanged: IfUnchanged, localChecksum?: string): Step {
  const { resource, entry } = target
  if (resource === undefined) return { ...target, action: 'create', reason: 'new: no resource matches' }
  if (ifUnchanged === 'upload') return { ...target, action: 'upload', reason: 'if-unchanged is upload' }
  if (resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== entry.size) {
    return { ...target, action: 'upload', reason: `size differs (${resource.filesize} -> ${entry.size} bytes)` }
  }
  const checksum = resource.checksum
  if (checksum === undefined || checksum === null) return { ...target, action: 'upload', reason: 'the server has no checksum' }
  if (localChecksum === undefined) return { ...target, action: 'upload', reason: `the server's checksum type '${checksum.type}' cannot be compared` }
  if (checksum.value.toLowerCase() !== localChecksum.toLowerCase()) return { ...target, action: 'upload', reason: `${checksum.type} differs` }
  const patch = metadataPatch(entry, resource, resource.title)
  const fields = Object.keys(patch)
  if (fields.length > 0) return { ...target, action: 'update', reason: `unchanged file; ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}` }
  return { ...target, action: 'skip', reason: `unchanged (${checksum.type} and size match)` }
}

/**
 * The partial PUT that gives `current` the entry's metadata: only the fields that differ, and
 * never the protected fields of hosted files (reference §6.1). `title` is the title to end with:
 * the entry's, else the resource's previous one (an upload overwrites it), else the file name.
 */
export function metadataPatch(entry: Entry, current: Resource, previousTitle: string | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  const title = entry.title ?? previousTitle ?? entry.name
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
  return patch
}

/** Problems with the dataset itself or the key's rights, before any entry is looked at. */
export function datasetProblems(dataset: Dataset, writing: boolean): string[] {
  if (writing && dataset.permissions?.edit_resources === false) {
    return [`input 'api-key': the key's owner may not edit the resources of dataset '${dataset.slug}' (${dataset.id})`]
  }
  return []
}
