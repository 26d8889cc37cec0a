import {
  CHECKSUM_TYPES,
  DESCRIPTION_SIZE_LIMIT,
  FILETYPES,
  MESSAGES,
  RESOURCE_TYPE_IDS,
  TITLE_SIZE_LIMIT,
  type ResourceType,
} from './constants.js'
import { isPlainObject } from './http.js'
import type { Checksum, FileType, ResourceState, SchemaRef } from './types.js'

/**
 * WTForms + wtforms-json semantics of udata's forms (docs/udata-protocol.md §6.1–6.3): a key absent from the
 * body keeps the stored value, an explicit `null` clears it, required fields fail on null/"".
 * Only the fields present are parsed; the caller applies them.
 */

export type FormErrors = Record<string, unknown>

export interface ResourceFormValues {
  title?: string
  description?: string | null
  filetype?: FileType
  type?: ResourceType
  url?: string
  format?: string | null
  checksum?: Checksum | null
  mime?: string | null
  filesize?: number | null
  extras?: Record<string, unknown>
  schema?: SchemaRef | null
}

/** `clean_oid`: only an ObjectId is accepted (a slug is an "Unsupported identifier"). */
export const OBJECT_ID = /^[0-9a-f]{24}$/i

/** A `ModelFieldMixin` value: an id string, or an object with an `id`. */
export function referencedId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (isPlainObject(value) && typeof value['id'] === 'string') return value['id']
  return undefined
}

/** Fields `BaseResourceForm.populate_obj` keeps for hosted files (v17.0.2+; before: url only). */
export const PROTECTED_CURRENT: ReadonlySet<string> = new Set([
  'filetype',
  'url',
  'checksum',
  'filesize',
  'mime',
  'format',
])
export const PROTECTED_LEGACY: ReadonlySet<string> = new Set(['url'])

function has(body: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key)
}

/** A WTForms StringField: strings as-is, numbers and booleans stringified. */
function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
}

export function requiredString(
  value: unknown,
  max: number,
  errors: FormErrors,
  key: string,
): string | undefined {
  if (isBlank(value)) {
    errors[key] = [MESSAGES.required]
    return undefined
  }
  const text = asString(value)
  if (text === undefined) errors[key] = [MESSAGES.notAString]
  else if (text.length > max) errors[key] = [MESSAGES.tooLong(max)]
  else return text
  return undefined
}

export function optionalString(
  value: unknown,
  max: number | undefined,
  errors: FormErrors,
  key: string,
): string | null | undefined {
  if (value === null) return null
  const text = asString(value)
  if (text === undefined) errors[key] = [MESSAGES.notAString]
  else if (max !== undefined && text.length > max) errors[key] = [MESSAGES.tooLong(max)]
  else return text
  return undefined
}

function choice<T extends string>(
  value: unknown,
  choices: ReadonlySet<string>,
  errors: FormErrors,
  key: string,
): T | undefined {
  if (isBlank(value)) errors[key] = [MESSAGES.required]
  else if (typeof value !== 'string' || !choices.has(value)) errors[key] = [MESSAGES.notAChoice]
  else return value as T
  return undefined
}

const ALLOWED_SCHEMES = ['http', 'https', 'ftp', 'ftps']

/**
 * `udata/uris.py` `validate` (`URLS_ALLOWED_SCHEMES`): the error message for a URL, or undefined
 * when it is accepted. Hosts, TLDs and private addresses are not checked here (see the README).
 */
function urlProblem(url: string): string | undefined {
  let scheme: string
  try {
    const parsed = new URL(url)
    if (!/^[a-z0-9.-]*:\/\//i.test(url) || parsed.host === '') return MESSAGES.invalidUrl(url)
    scheme = parsed.protocol.slice(0, -1).toLowerCase()
  } catch {
    return MESSAGES.invalidUrl(url)
  }
  if (ALLOWED_SCHEMES.includes(scheme)) return undefined
  const reason = `Invalid scheme ${scheme}, allowed schemes: ${ALLOWED_SCHEMES.join(', ')}`
  return MESSAGES.invalidUrl(url, reason)
}

function parseChecksum(value: unknown, errors: FormErrors): Checksum | null | undefined {
  if (value === null) return null
  if (!isPlainObject(value)) {
    errors['checksum'] = [MESSAGES.notAChoice]
    return undefined
  }
  const nested: FormErrors = {}
  const type = value['type'] === undefined || value['type'] === null ? 'sha1' : value['type']
  if (typeof type !== 'string' || !CHECKSUM_TYPES.has(type)) nested['type'] = [MESSAGES.notAChoice]
  const checksumValue = value['value']
  if (isBlank(checksumValue)) nested['value'] = [MESSAGES.required]
  else if (typeof checksumValue !== 'string') nested['value'] = [MESSAGES.notAString]
  if (Object.keys(nested).length > 0) {
    errors['checksum'] = nested
    return undefined
  }
  return { type: type as Checksum['type'], value: checksumValue as string }
}

function parseSchema(value: unknown, errors: FormErrors): SchemaRef | null | undefined {
  if (value === null) return null
  if (!isPlainObject(value)) {
    errors['schema'] = ['Schema must be an object.']
    return undefined
  }
  const schema: SchemaRef = {}
  for (const key of ['name', 'version', 'url'] as const) {
    const item = value[key]
    if (item === undefined || item === null) schema[key] = null
    else if (typeof item === 'string') schema[key] = item
    else {
      errors['schema'] = [`Schema ${key} must be a string.`]
      return undefined
    }
  }
  if (schema.version && !schema.name && !schema.url) {
    errors['schema'] = ['A schema must contain a name or an URL when a version is provided.']
    return undefined
  }
  return schema
}

function parseUrl(url: unknown, errors: FormErrors): string | undefined {
  if (isBlank(url)) {
    errors['url'] = [MESSAGES.required]
    return undefined
  }
  const text = typeof url === 'string' ? url.trim() : String(url)
  const problem = urlProblem(text)
  if (problem === undefined) return text
  errors['url'] = [problem]
  return undefined
}

function parseFilesize(value: unknown, errors: FormErrors): number | null | undefined {
  if (value === null) return null
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value)
  errors['filesize'] = [MESSAGES.notAnInteger]
  return undefined
}

export function parseExtras(
  value: unknown,
  errors: FormErrors,
): Record<string, unknown> | undefined {
  if (value === null) return {}
  if (isPlainObject(value)) return { ...value }
  errors['extras'] = ['Wrong type: expected an object.']
  return undefined
}

/** A field of a form: how a body value is read; undefined means invalid (the error is recorded). */
type FieldParser = (value: unknown, errors: FormErrors) => unknown

const lowerCased = (text: string | null | undefined): string | null | undefined =>
  typeof text === 'string' ? text.trim().toLowerCase() : text

const RESOURCE_FIELDS: ReadonlyArray<readonly [keyof ResourceFormValues, FieldParser]> = [
  ['title', (v, e) => requiredString(v, TITLE_SIZE_LIMIT, e, 'title')],
  ['description', (v, e) => optionalString(v, DESCRIPTION_SIZE_LIMIT, e, 'description')],
  ['filetype', (v, e) => choice<FileType>(v, FILETYPES, e, 'filetype')],
  ['type', (v, e) => choice<ResourceType>(v, RESOURCE_TYPE_IDS, e, 'type')],
  ['url', parseUrl],
  ['format', (v, e) => lowerCased(optionalString(v, undefined, e, 'format'))],
  ['mime', (v, e) => optionalString(v, undefined, e, 'mime')],
  ['filesize', parseFilesize],
  ['checksum', parseChecksum],
  ['extras', parseExtras],
  ['schema', parseSchema],
]

/** Read the fields present in the body; `keys` maps a body key to the values' key. */
function parseFields<T extends object>(
  body: Record<string, unknown>,
  fields: ReadonlyArray<readonly [string, FieldParser, string?]>,
  errors: FormErrors,
): T {
  const values: Record<string, unknown> = {}
  for (const [key, parse, valueKey] of fields) {
    if (!has(body, key)) continue
    const value = parse(body[key], errors)
    if (value !== undefined) values[valueKey ?? key] = value
  }
  return values as T
}

/**
 * Parse a resource form. `existing` undefined means creation: absent fields take the form
 * defaults (`filetype: file`, `type: other`) and `title`/`url` are required.
 */
export function parseResourceForm(
  body: Record<string, unknown>,
  existing: ResourceState | undefined,
): { values: ResourceFormValues; errors: FormErrors } {
  const errors: FormErrors = {}
  const values = parseFields<ResourceFormValues>(body, RESOURCE_FIELDS, errors)
  if (existing === undefined) {
    if (!has(body, 'title')) errors['title'] = [MESSAGES.required]
    if (!has(body, 'url')) errors['url'] = [MESSAGES.required]
    if (!has(body, 'filetype')) values.filetype = 'file'
    if (!has(body, 'type')) values.type = 'other'
  }
  return { values, errors }
}

/** `populate_obj`: copy the parsed values, keeping the protected fields of hosted files. */
export function applyResourceForm(
  resource: ResourceState,
  values: ResourceFormValues,
  protectedFields: ReadonlySet<string>,
): void {
  const hosted = resource.filetype === 'file'
  const keep = (key: string): boolean => hosted && protectedFields.has(key)
  if (values.title !== undefined) resource.title = values.title
  if (values.description !== undefined) resource.description = values.description
  if (values.filetype !== undefined && !keep('filetype')) resource.filetype = values.filetype
  if (values.type !== undefined) resource.type = values.type
  if (values.url !== undefined && !keep('url')) resource.url = values.url
  if (values.format !== undefined && !keep('format')) resource.format = values.format
  if (values.mime !== undefined && !keep('mime')) resource.mime = values.mime
  if (values.filesize !== undefined && !keep('filesize')) resource.filesize = values.filesize
  if (values.checksum !== undefined && !keep('checksum')) resource.checksum = values.checksum
  if (values.extras !== undefined) resource.extras = values.extras
  if (values.schema !== undefined) resource.schema = values.schema
}
