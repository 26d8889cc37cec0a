/**
 * What differs between what an entry (or `dataset-metadata`) asks for and what the server holds,
 * field by field, compared as udata stores each field: the one place where fields are compared,
 * for the plan before the writes and for verify.ts after them.
 */
import type { Resource } from '../../datagouv/schemas.js'
import { slugify } from '../../files/normalize.js'
import type { ExtraValue } from '../inputs.js'
import type { Entry } from '../manifest.js'

/**
 * The partial PUT that gives `current` the entry's metadata: only the fields that differ, and
 * never the protected fields of hosted files (docs/udata-protocol.md §6.1). `title` is the title
 * the resource ends with (the entry's own wins; when `undefined`, `defaultTitle`). For a remote
 * entry: also its url and format.
 */
export function metadataPatch(
  entry: Entry,
  current: Resource,
  title: string | undefined,
): Record<string, unknown> {
  return unmet(desiredFields(entry, entry.title ?? title ?? defaultTitle(entry)), current)
}

/** Every metadata field the entry controls, with the title to end with. */
export function desiredFields(entry: Entry, title: string): Record<string, unknown> {
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

/**
 * The title of an entry's resource when neither the entry nor the resource gives one: the local
 * file's name, or the URL's last path segment, else its host.
 */
export function defaultTitle(entry: Entry): string {
  if (entry.kind === 'file') return entry.name
  const parsed = new URL(entry.url)
  const last = parsed.pathname.split('/').filter(Boolean).pop()
  return last !== undefined ? decodeURIComponent(last) : parsed.host
}

/** A schema reference as sent: the parts given. */
function schemaOf(schema: NonNullable<Entry['schema']>): Record<string, string> {
  return Object.fromEntries(
    (['name', 'version', 'url'] as const).flatMap((part) => {
      const value = schema[part]
      return value === undefined ? [] : [[part, value]]
    }),
  )
}

/** Schema references are equal when each part is (a missing part and `null` are one). */
function sameSchema(wanted: unknown, held: unknown): boolean {
  const w = (wanted ?? {}) as Record<string, unknown>
  const h = (held ?? {}) as Record<string, unknown>
  return ['name', 'version', 'url'].every((part) => (w[part] ?? null) === (h[part] ?? null))
}

/**
 * The fields of `patch` that `resource` does not hold yet: what differs before a write, and what
 * is still to send after the server answered an upload or a creation.
 */
export function unmet(patch: Record<string, unknown>, resource: Resource): Record<string, unknown> {
  const current = resource as Record<string, unknown>
  return Object.fromEntries(
    Object.entries(patch).filter(([key, value]) => !sameField(key, value, current[key])),
  )
}

/** Resource field equality as udata stores them. */
function sameField(key: string, wanted: unknown, held: unknown): boolean {
  if (key === 'schema') return sameSchema(wanted, held)
  if (key === 'description') return (wanted ?? '') === (held ?? '')
  // udata stores a format stripped and lower-cased (udata/core/dataset/forms.py `normalize_format`).
  if (key === 'format' && typeof wanted === 'string')
    return wanted.trim().toLowerCase() === (typeof held === 'string' ? held : '')
  return wanted === held
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

/** The names of what a patch and an extras merge change: the PUT's fields, then `extras`. */
export function changedFields(
  patch: Record<string, unknown>,
  extras: Record<string, unknown>,
): string[] {
  return [...Object.keys(patch), ...(Object.keys(extras).length > 0 ? ['extras'] : [])]
}

/** `title differs`, `title, extras differ`. */
export function differ(fields: readonly string[]): string {
  return `${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`
}

/** The server knows the resource's size and it is not `size`: the file differs, whatever else. */
export function sizeDiffers(resource: Resource, size: number): boolean {
  return resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== size
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
