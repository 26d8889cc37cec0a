import {
  CHECKSUM_TYPES,
  DESCRIPTION_SHORT_SIZE_LIMIT,
  DESCRIPTION_SIZE_LIMIT,
  FILETYPES,
  FREQUENCY_IDS,
  LICENSE_IDS,
  MESSAGES,
  RESOURCE_TYPE_IDS,
  TITLE_SIZE_LIMIT,
  type ResourceType,
} from './constants.js'
import { isPlainObject } from './http.js'
import type { Checksum, FileType, ResourceState, SchemaRef } from './types.js'

/**
 * WTForms + wtforms-json semantics of udata's forms (reference §6.1–6.3): a key absent from the
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

/** Fields `BaseResourceForm.populate_obj` keeps for hosted files (v17.0.2+; before: url only). */
export const PROTECTED_CURRENT: ReadonlySet<string> = new Set(['filetype', 'url', 'checksum', 'filesize', 'mime', 'format'])
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

function requiredString(value: unknown, max: number, errors: FormErrors, key: string): string | undefined {
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

function optionalString(value: unknown, max: number | undefined, errors: FormErrors, key: string): string | null | undefined {
  if (value === null) return null
  const text = asString(value)
  if (text === undefined) errors[key] = [MESSAGES.notAString]
  else if (max !== undefined && text.length > max) errors[key] = [MESSAGES.tooLong(max)]
  else return text
  return undefined
}

function choice<T extends string>(value: unknown, choices: ReadonlySet<string>, errors: FormErrors, key: string): T | undefined {
  if (isBlank(value)) errors[key] = [MESSAGES.required]
  else if (typeof value !== 'string' || !choices.has(value)) errors[key] = [MESSAGES.notAChoice]
  else return value as T
  return undefined
}

function validUrl(value: string): boolean {
  try {
    return ['http:', 'https:', 'ftp:', 'ftps:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
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

/**
 * Parse a resource form. `existing` undefined means creation: absent fields take the form
 * defaults (`filetype: file`, `type: other`) and `title`/`url` are required.
 */
export function parseResourceForm(body: Record<string, unknown>, existing: ResourceState | undefined): { values: ResourceFormValues; errors: FormErrors } {
  const errors: FormErrors = {}
  const values: ResourceFormValues = {}
  const creating = existing === undefined

  if (has(body, 'title')) {
    const title = requiredString(body['title'], TITLE_SIZE_LIMIT, errors, 'title')
    if (title !== undefined) values.title = title
  } else if (creating) errors['title'] = [MESSAGES.required]

  if (has(body, 'description')) {
    const description = optionalString(body['description'], DESCRIPTION_SIZE_LIMIT, errors, 'description')
    if (description !== undefined) values.description = description
  }

  if (has(body, 'filetype')) {
    const filetype = choice<FileType>(body['filetype'], FILETYPES, errors, 'filetype')
    if (filetype !== undefined) values.filetype = filetype
  } else if (creating) values.filetype = 'file'

  if (has(body, 'type')) {
    const type = choice<ResourceType>(body['type'], RESOURCE_TYPE_IDS, errors, 'type')
    if (type !== undefined) values.type = type
  } else if (creating) values.type = 'other'

  if (has(body, 'url')) {
    const url = body['url']
    if (isBlank(url)) errors['url'] = [MESSAGES.required]
    else if (typeof url !== 'string' || !validUrl(url.trim())) errors['url'] = [MESSAGES.invalidUrl]
    else values.url = url.trim()
  } else if (creating) errors['url'] = [MESSAGES.required]

  if (has(body, 'format')) {
    const format = optionalString(body['format'], undefined, errors, 'format')
    if (format !== undefined) values.format = format === null ? null : format.trim().toLowerCase()
  }

  if (has(body, 'mime')) {
    const mime = optionalString(body['mime'], undefined, errors, 'mime')
    if (mime !== undefined) values.mime = mime
  }

  if (has(body, 'filesize')) {
    const filesize = body['filesize']
    if (filesize === null) values.filesize = null
    else if (typeof filesize === 'number' && Number.isInteger(filesize)) values.filesize = filesize
    else if (typeof filesize === 'string' && /^\s*[+-]?\d+\s*$/.test(filesize)) values.filesize = Number(filesize)
    else errors['filesize'] = [MESSAGES.notAnInteger]
  }

  if (has(body, 'checksum')) {
    const checksum = parseChecksum(body['checksum'], errors)
    if (checksum !== undefined) values.checksum = checksum
  }

  if (has(body, 'extras')) {
    const extras = body['extras']
    if (extras === null) values.extras = {}
    else if (isPlainObject(extras)) values.extras = { ...extras }
    else errors['extras'] = ['Wrong type: expected an object.']
  }

  if (has(body, 'schema')) {
    const schema = parseSchema(body['schema'], errors)
    if (schema !== undefined) values.schema = schema
  }

  return { values, errors }
}

/** `populate_obj`: copy the parsed values, keeping the protected fields of hosted files. */
export function applyResourceForm(resource: ResourceState, values: ResourceFormValues, protectedFields: ReadonlySet<string>): void {
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

export interface DatasetFormValues {
  title?: string
  description?: string
  descriptionShort?: string | null
  private?: boolean
  tags?: string[]
  frequency?: string
  license?: string | null
  frequencyDate?: string | null
  temporalCoverage?: { start: string; end: string | null } | null
  spatial?: { zones: string[]; granularity: string | null } | null
  extras?: Record<string, unknown>
}

/** A date or datetime udata's `DateField`/`DateTimeField` would parse. */
function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

const TAG_MIN = 3
const TAG_MAX = 96

/** `DatasetForm` for the fields a publisher touches; `resources` and `deleted` are the caller's. */
export function parseDatasetForm(body: Record<string, unknown>): { values: DatasetFormValues; errors: FormErrors } {
  const errors: FormErrors = {}
  const values: DatasetFormValues = {}

  if (has(body, 'title')) {
    const title = requiredString(body['title'], TITLE_SIZE_LIMIT, errors, 'title')
    if (title !== undefined) values.title = title
  }
  if (has(body, 'description')) {
    const description = requiredString(body['description'], DESCRIPTION_SIZE_LIMIT, errors, 'description')
    if (description !== undefined) values.description = description
  }
  if (has(body, 'description_short')) {
    const short = optionalString(body['description_short'], DESCRIPTION_SHORT_SIZE_LIMIT, errors, 'description_short')
    if (short !== undefined) values.descriptionShort = short
  }
  if (has(body, 'private')) {
    const value = body['private']
    if (value === null || typeof value === 'boolean') values.private = value === true
    else errors['private'] = ['Not a valid boolean value.']
  }
  if (has(body, 'tags')) {
    const raw = body['tags']
    const list = raw === null ? [] : typeof raw === 'string' ? raw.split(',') : raw
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) errors['tags'] = ['Tags must be a list of strings.']
    else {
      const tags = list.map((t) => t.trim().toLowerCase()).filter((t) => t !== '')
      const bad = tags.find((t) => t.length < TAG_MIN || t.length > TAG_MAX)
      if (bad !== undefined) errors['tags'] = [`Tag "${bad}" must be between ${TAG_MIN} and ${TAG_MAX} characters long.`]
      else values.tags = [...new Set(tags)]
    }
  }
  if (has(body, 'frequency')) {
    const value = body['frequency']
    if (value === null || value === '') values.frequency = 'unknown'
    else if (typeof value === 'string' && FREQUENCY_IDS.has(value)) values.frequency = value
    else errors['frequency'] = [MESSAGES.notAChoice]
  }
  if (has(body, 'license')) {
    const value = body['license']
    if (value === null || value === '') values.license = null
    else if (typeof value === 'string' && LICENSE_IDS.has(value)) values.license = value
    else errors['license'] = [MESSAGES.notAChoice]
  }
  if (has(body, 'frequency_date')) {
    const value = body['frequency_date']
    const date = parseDate(value)
    if (value === null) values.frequencyDate = null
    else if (date !== undefined) values.frequencyDate = date.toISOString().replace('Z', '+00:00')
    else errors['frequency_date'] = ['Not a valid datetime value.']
  }
  if (has(body, 'temporal_coverage')) {
    const value = body['temporal_coverage']
    if (value === null) values.temporalCoverage = null
    else if (
      isPlainObject(value) &&
      parseDate(value['start']) !== undefined &&
      (value['end'] === undefined || value['end'] === null || parseDate(value['end']) !== undefined)
    ) {
      const day = (v: unknown) => (parseDate(v) as Date).toISOString().slice(0, 10)
      values.temporalCoverage = { start: day(value['start']), end: value['end'] === undefined || value['end'] === null ? null : day(value['end']) }
    } else errors['temporal_coverage'] = { start: ['Not a valid date value.'] }
  }
  if (has(body, 'spatial')) {
    const value = body['spatial']
    if (value === null) values.spatial = null
    else if (isPlainObject(value) && (value['zones'] === undefined || (Array.isArray(value['zones']) && value['zones'].every((z) => typeof z === 'string')))) {
      values.spatial = {
        zones: [...(value['zones'] ?? [])],
        granularity: typeof value['granularity'] === 'string' ? value['granularity'] : null,
      }
    } else errors['spatial'] = ['Invalid spatial coverage.']
  }
  if (has(body, 'extras')) {
    const extras = body['extras']
    if (extras === null) values.extras = {}
    else if (isPlainObject(extras)) values.extras = { ...extras }
    else errors['extras'] = ['Wrong type: expected an object.']
  }
  return { values, errors }
}
