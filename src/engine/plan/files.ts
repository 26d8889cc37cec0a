/**
 * The step of a local file: upload it when it differs from the resource's (size, else checksum),
 * create a resource when none matches, else update only the metadata that differs, or skip. The
 * local checksum is asked for (`checksumNeeded`) and handed back (`decideFile`).
 */
import type { Dataset, Resource } from '../../datagouv/schemas.js'
import { isSupportedChecksum } from '../../files/hash.js'
import type { IfUnchanged } from '../inputs.js'
import type { FileEntry } from '../manifest.js'
import { RECORD_KEYS, type FileAction, type FileStep, type Target } from '../plan.js'
import {
  changedFields,
  desiredFields,
  differ,
  extrasPatch,
  metadataPatch,
  sizeDiffers,
} from './fields.js'
import { storedNameOf } from './match.js'

/**
 * A title an earlier run could not put back after an upload, and the key of the dataset's extras
 * that holds it (when the resource's own extras could not).
 */
export interface RecordedTitle {
  title: string
  datasetKey?: string
}

/**
 * The title an earlier run meant a resource to carry and could not put back: read only while the
 * resource still bears the title an upload gives (its stored file name), so a title someone set
 * since is never overridden.
 */
export function recordedTitle(resource: Resource, dataset: Dataset): RecordedTitle | undefined {
  if (resource.title !== storedNameOf(resource)) return undefined
  const own = resource.extras?.[RECORD_KEYS.title]
  if (typeof own === 'string' && own !== '') return { title: own }
  const key = RECORD_KEYS.datasetTitle(resource.id)
  const shared = dataset.extras?.[key]
  return typeof shared === 'string' && shared !== ''
    ? { title: shared, datasetKey: key }
    : undefined
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
  if (sizeDiffers(resource, entry.size)) return undefined
  return type
}

/**
 * The step for a local file, given the local checksum that `checksumNeeded` asked for and the
 * title an earlier run recorded (`recordedTitle`), if any.
 */
export function decideFile(
  target: Target<FileEntry>,
  ifUnchanged: IfUnchanged,
  localChecksum?: string,
  recorded?: RecordedTitle,
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
    // A new resource has no extras yet (docs/udata-protocol.md §4).
    extras: extrasPatch(entry.extras, resource?.extras ?? {}),
    ...clears,
  })
  if (resource === undefined) return afterUpload('create', 'new: no resource matches')
  if (ifUnchanged === 'upload') return afterUpload('upload', 'if-unchanged is upload')
  if (sizeDiffers(resource, entry.size))
    return afterUpload('upload', `size differs (${resource.filesize} -> ${entry.size} bytes)`)
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
  recorded: RecordedTitle | undefined,
  checksumType: string,
): FileStep {
  const patch = metadataPatch(base.entry, resource, base.title)
  const extras = extrasPatch(base.entry.extras, resource.extras)
  const fields = changedFields(patch, extras)
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
  return {
    ...base,
    action: 'update',
    reason: `unchanged file; ${differ(fields)}${restoring}`,
    patch,
    extras,
  }
}
