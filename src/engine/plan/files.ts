/**
 * The step of a local file: upload it when it differs from the resource's (size, else checksum),
 * create a resource when none matches, else update only the metadata that differs, or skip. The
 * local checksum is asked for (`checksumNeeded`) and handed back (`decideFile`).
 *
 * A run can stop anywhere (a cancelled job, a killed runner), and the next run must finish what it
 * left: so the title a resource should carry is known from the resource itself. An upload gives a
 * resource its stored file name as title (docs/udata-protocol.md §3.3): a resource bearing that
 * name carries no title anyone chose, and is given the one recorded before the upload
 * (`recordedTitle`), else the entry's, else the file's name, which is what a creation gives. A
 * title someone set since (anything but the stored name) is never overridden.
 */
import { bearsStoredName, type Dataset, type Resource } from '../../datagouv/schemas.js'
import { isSupportedChecksum } from '../../files/hash.js'
import type { ExtraValue, IfUnchanged } from '../inputs.js'
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
import { writtenBy } from '../provenance.js'

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
  if (!bearsStoredName(resource)) return undefined
  const own = resource.extras?.[RECORD_KEYS.title]
  if (typeof own === 'string' && own !== '') return { title: own }
  const key = RECORD_KEYS.datasetTitle(resource.id)
  const shared = dataset.extras?.[key]
  return typeof shared === 'string' && shared !== ''
    ? { title: shared, datasetKey: key }
    : undefined
}

/**
 * Among resources bearing one stored file name, the one this publication keeps when it wrote
 * several (two runs created the name at once, or a run stopped during a creation that the server
 * finished, and the next one created it again): the oldest it wrote, by creation date, then id.
 * `undefined` when it wrote none of them, or the publication is unknown: then a person chooses.
 */
export function keptAmong(
  resources: readonly Resource[],
  publication: { repository: string; workflow: string } | undefined,
): Resource | undefined {
  if (publication === undefined) return undefined
  const age = (r: Resource): string => `${r.created_at ?? '~'} ${r.id}`
  return resources
    .filter((r) => writtenBy(r, publication))
    .sort((a, b) => (age(a) < age(b) ? -1 : 1))[0]
}

/** What the plan says of the duplicates an entry's resource was kept among. */
function duplicatesNote(target: Target<FileEntry>): string {
  const others = target.duplicates ?? []
  if (others.length === 0 || target.resource === undefined) return ''
  return (
    `; kept the oldest of ${others.length + 1} resources this publication wrote under ` +
    `'${target.entry.storedName}' (two runs created it at once); the other${others.length > 1 ? 's' : ''}, ` +
    `${others.map((r) => r.id).join(', ')}, stay${others.length > 1 ? '' : 's'} until removed ` +
    `(remove, or prune: true)`
  )
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
  const step = decideStep(target, ifUnchanged, localChecksum, recorded)
  const note = duplicatesNote(target)
  return note === '' ? step : { ...step, reason: `${step.reason}${note}` }
}

function decideStep(
  target: Target<FileEntry>,
  ifUnchanged: IfUnchanged,
  localChecksum: string | undefined,
  recorded: RecordedTitle | undefined,
): FileStep {
  const { resource, entry } = target
  // A title someone chose is kept; the stored name an upload left is not a choice.
  const chosen = resource !== undefined && !bearsStoredName(resource) ? resource.title : undefined
  const title = entry.title ?? recorded?.title ?? chosen ?? entry.name
  const checksum =
    localChecksum !== undefined && resource?.checksum
      ? { checksum: { type: resource.checksum.type.toLowerCase(), value: localChecksum } }
      : {}
  const base = { kind: 'file' as const, ...target, ...checksum, title }
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
    // A new resource has no extras yet (docs/udata-protocol.md §4). An existing one receives them
    // before the upload, with the title to put back when the next run could not tell it.
    extras: {
      ...extrasPatch(entry.extras, resource?.extras ?? {}),
      ...(resource ? titleRecord(entry, resource, title) : {}),
    },
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

/**
 * The title to record in the resource's extras before its file is replaced, so that a run stopped
 * between the upload and the title's PUT leaves it for the next one: needed when the next run
 * could not tell it otherwise (a title the resource carries, not the entry's, nor the file's
 * name), or when an older record says another.
 */
function titleRecord(
  entry: FileEntry,
  resource: Resource,
  title: string,
): Record<string, ExtraValue> {
  if (entry.title !== undefined) return {}
  const held = resource.extras?.[RECORD_KEYS.title]
  const needed = title !== entry.name || (held !== undefined && held !== null)
  return needed && held !== title ? { [RECORD_KEYS.title]: title } : {}
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
    patch.title === undefined || !bearsStoredName(resource)
      ? ''
      : recorded !== undefined && patch.title === recorded.title
        ? ' (a title an earlier run could not put back)'
        : ' (it bears its stored file name, as an upload leaves it)'
  return {
    ...base,
    action: 'update',
    reason: `unchanged file; ${differ(fields)}${restoring}`,
    patch,
    extras,
  }
}
