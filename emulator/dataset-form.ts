import {
  ACCESS_REASON_CATEGORIES,
  ACCESS_TYPES,
  AUDIENCE_CONDITIONS,
  AUDIENCE_ROLES,
  DESCRIPTION_SHORT_SIZE_LIMIT,
  DESCRIPTION_SIZE_LIMIT,
  FREQUENCY_ALIASES,
  FREQUENCY_IDS,
  LEGACY_FREQUENCY_ALIASES,
  LEGACY_FREQUENCY_IDS,
  LICENSE_IDS,
  MESSAGES,
  TITLE_SIZE_LIMIT,
} from './constants.js'
import { optionalString, parseExtras, requiredString, type FormErrors } from './forms.js'
import { abort, internalError, isoDate, isPlainObject } from './http.js'
import { tagSlug } from './normalize.js'
import type { AccessAudience, DatasetState } from './types.js'

/**
 * udata's `DatasetForm` (`udata/core/dataset/forms.py`) as `api.validate` runs it on a JSON body:
 * wtforms-json flattens the body, every field of the form is then processed, present in the body
 * or not. Most fields keep the stored value when their key is absent, but not all:
 *
 * - `tags` (`udata/forms/fields.py` `TagField.process_formdata`) becomes `[]` and
 *   `temporal_coverage` (`DateRangeField`) null when absent;
 * - `private`: v17's `BooleanField` keeps it when absent (its `process_formdata` returns early);
 *   v7's (WTForms' own) resets it to false, which `legacy` follows;
 * - an empty body `{}` is no form data at all (`from_json` passes `None`): nothing changes.
 *
 * An explicit `null` is wtforms-json's "no value" (the field's data set to None), an empty string
 * goes through the field's own parsing (`StringField`s store None for it, `EmptyNone`).
 */

/** The stored value stays (e.g. `spatial: null`, a `FormField`, which null cannot clear). */
const KEEP: unique symbol = Symbol('keep')

export interface DatasetFormValues {
  title?: string
  acronym?: string | null
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
  /** ISO date, or null to unarchive. */
  archived?: string | null
  accessType?: string
  accessAudiences?: AccessAudience[]
  authorizationRequestUrl?: string | null
  accessTypeReasonCategory?: string | null
  accessTypeReason?: string | null
}

/** What a field's parsing may look at besides the value. */
interface FormContext {
  legacy: boolean
  existing: DatasetState | undefined
  /** MongoEngine's validation on save (`Dataset.validate`): reported after the form's own errors. */
  modelErrors: Record<string, string>
}

type FieldParser = (value: unknown, errors: FormErrors, ctx: FormContext) => unknown

interface DatasetField {
  key: string
  to: keyof DatasetFormValues
  parse: FieldParser
  /** The value when the body has other keys but not this one; none: the stored value stays. */
  absent?: (ctx: FormContext) => unknown
}

const ISO_DATE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * dateutil's `parse` on the shapes a client sends: ISO dates and datetimes, with an offset or not
 * (a naive one is stored as UTC, as udata does).
 */
function parseDate(value: string): Date | undefined {
  const match = ISO_DATE.exec(value.trim())
  if (match === null) return undefined
  const [, day, time, offset] = match
  const date = new Date(`${day}T${time ?? '00:00:00'}${offset ?? 'Z'}`)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/** dateutil's `ParserError`: WTForms keeps its first argument, the unformatted message. */
function dateError(value: string): string {
  return value.trim() === '' ? 'String does not contain a date: %s' : 'Unknown string format: %s'
}

/** `DateTimeField.process_formdata`: a string is parsed (null clears, `''` is an error). */
function dateTimeField(key: string): FieldParser {
  return (value, errors) => {
    if (value === null) return null
    const date = typeof value === 'string' ? parseDate(value) : undefined
    if (date !== undefined) return isoDate(date)
    errors[key] = [dateError(typeof value === 'string' ? value : 'x')]
    return undefined
  }
}

const TAG_MIN = 3
const TAG_MAX = 96

/**
 * `TagField`: several values are slugified one by one (`tags.slug`); a single one is a
 * comma-separated list (`tags.tags_list`, blanks dropped, duplicates merged); then each slug must
 * be 3 to 96 characters long (`pre_validate`). The model stores them sorted and unique
 * (`TagListField.clean`).
 */
function parseTags(raw: unknown, errors: FormErrors): string[] | undefined {
  if (raw === null || raw === '') return []
  const values = Array.isArray(raw) ? raw : [raw]
  if (!values.every((v) => typeof v === 'string')) throw internalError() // `value.lower()` on a non-string
  const first = values[0]
  const tags =
    values.length > 1
      ? values.map(tagSlug)
      : first === undefined
        ? []
        : [
            ...new Set(
              first
                .split(',')
                .filter((t) => t.trim() !== '')
                .map(tagSlug),
            ),
          ]
  const bad = tags.find((t) => t.length < TAG_MIN || t.length > TAG_MAX)
  if (bad === undefined) return [...new Set(tags)].sort()
  errors['tags'] = [`Tag "${bad}" must be between ${TAG_MIN} and ${TAG_MAX} characters long.`]
  return undefined
}

/** v17's `BooleanField`: `False`, `"false"`, `""` (and 0, equal to False in Python) are false, anything else true. */
function parsePrivate(value: unknown): boolean {
  return !(value === null || value === false || value === 'false' || value === '' || value === 0)
}

/**
 * `frequency`: a `SelectField` whose preprocessor builds an `UpdateFrequency` (v17): an unknown id,
 * `''` included, is a `ValueError` that skips the form and answers `{"message": "'x' is not a valid
 * UpdateFrequency"}`; former ids are mapped to their successor. v7: an unknown id is "Not a valid
 * choice.", `''` fails on save (500).
 */
function parseFrequency(value: unknown, errors: FormErrors, ctx: FormContext): string | undefined {
  if (value === null) return 'unknown'
  const id = typeof value === 'string' ? value : JSON.stringify(value)
  if (ctx.legacy) {
    if (id === '') throw internalError()
    if (LEGACY_FREQUENCY_IDS.has(id)) return id
    if (LEGACY_FREQUENCY_ALIASES[id] !== undefined) return LEGACY_FREQUENCY_ALIASES[id]
    errors['frequency'] = [MESSAGES.notAChoice]
    return undefined
  }
  if (FREQUENCY_IDS.has(id)) return id
  if (FREQUENCY_ALIASES[id] !== undefined) return FREQUENCY_ALIASES[id]
  throw abort(400, `'${id}' is not a valid UpdateFrequency`)
}

/** `ModelSelectField(allow_blank=True)`: an unknown id, `''` or null is no license (rendered `notspecified`). */
function parseLicense(value: unknown): string | null {
  return typeof value === 'string' && LICENSE_IDS.has(value) ? value : null
}

/** A `StringField` (`EmptyNone`): `''` and null store None. */
function emptyNone(key: string, max?: number): FieldParser {
  return (value, errors) => {
    const text = optionalString(value, max, errors, key)
    return text === '' ? null : text
  }
}

/**
 * A `SelectField` with `validators.optional()` over a model field with choices: an unknown value is
 * the form's "Not a valid choice."; `''` passes the form and fails MongoEngine's validation on save.
 */
function choiceField(key: string, choices: readonly string[], onNull: string | null): FieldParser {
  return (value, errors, ctx) => {
    if (value === null) return onNull
    if (value === '') {
      ctx.modelErrors[key] =
        key === 'access_type'
          ? `Value must be one of [${choices.map((c) => `<AccessType.${c.toUpperCase()}: '${c}'>`).join(', ')}]`
          : `Value must be one of [${choices.map((c) => `'${c}'`).join(', ')}]`
      return KEEP
    }
    if (typeof value === 'string' && choices.includes(value)) return value
    errors[key] = [MESSAGES.notAChoice]
    return undefined
  }
}

/**
 * `DateRangeField`: `"start - end"` or `{start, end?}` (strings); `''`, `{}` and null clear it; an
 * object without `start` is "Unable to parse date range".
 */
function parseTemporalCoverage(value: unknown, errors: FormErrors): unknown {
  if (value === null || value === '' || (isPlainObject(value) && Object.keys(value).length === 0))
    return null
  let start: unknown
  let end: unknown
  if (typeof value === 'string') {
    const parts = value.split(' - ')
    if (parts.length !== 2) {
      errors['temporal_coverage'] = [
        `not enough values to unpack (expected 2, got ${parts.length})`,
      ]
      return undefined
    }
    ;[start, end] = parts
  } else if (isPlainObject(value) && 'start' in value) {
    ;({ start, end } = value)
    if (typeof start !== 'string' || (end && typeof end !== 'string')) {
      errors['temporal_coverage'] = ['Date must be a string']
      return undefined
    }
  } else {
    errors['temporal_coverage'] = ['Unable to parse date range']
    return undefined
  }
  const day = (text: string): string | undefined => parseDate(text)?.toISOString().slice(0, 10)
  const from = day(start as string)
  const to = typeof end === 'string' && end !== '' ? day(end) : null
  if (from !== undefined && to !== undefined) return { start: from, end: to }
  errors['temporal_coverage'] = [dateError(from === undefined ? (start as string) : 'x')]
  return undefined
}

/**
 * `SpatialCoverageField`, a `FormField`: only an object changes it (null or a string leave it as it
 * is); a key it lacks keeps the stored one, else the defaults (`zones: []`, `granularity: "other"`).
 * Zones and granularities are not checked against a geographic referential here.
 */
function parseSpatial(value: unknown, errors: FormErrors, ctx: FormContext): unknown {
  if (!isPlainObject(value)) return KEEP
  const stored = ctx.existing?.spatial ?? null
  const zones = value['zones']
  if (zones !== undefined && !(Array.isArray(zones) && zones.every((z) => typeof z === 'string'))) {
    errors['spatial'] = { zones: ['Unknown geoid(s)'] }
    return undefined
  }
  const granularity = value['granularity']
  return {
    zones: [...(zones ?? stored?.zones ?? [])],
    granularity: typeof granularity === 'string' ? granularity : (stored?.granularity ?? 'other'),
  }
}

/** `ExtrasField.process_formdata`: an object, or null (then nothing); anything else is refused. */
function parseDatasetExtras(value: unknown, errors: FormErrors): unknown {
  if (Array.isArray(value) && value.length === 0) return KEEP
  if (value !== null && !isPlainObject(value)) {
    errors['extras'] = ['Unsupported data type']
    return undefined
  }
  return parseExtras(value, errors)
}

/** `NestedModelList(AccessAudienceForm)`: `{role, condition}` entries, each a choice. */
function parseAudiences(value: unknown, errors: FormErrors): AccessAudience[] | undefined {
  if (value === null) return []
  const list = Array.isArray(value) ? value : []
  const entries = list.map((item: unknown) => {
    const entry = isPlainObject(item) ? item : {}
    const role = entry['role']
    const condition = entry['condition']
    const problems: FormErrors = {}
    if (typeof role !== 'string' || !AUDIENCE_ROLES.includes(role))
      problems['role'] = [MESSAGES.notAChoice]
    if (typeof condition !== 'string' || !AUDIENCE_CONDITIONS.includes(condition))
      problems['condition'] = [MESSAGES.notAChoice]
    return { audience: { role, condition } as AccessAudience, problems }
  })
  if (!Array.isArray(value) || entries.some((e) => Object.keys(e.problems).length > 0)) {
    errors['access_audiences'] = entries.map((e) => e.problems)
    return undefined
  }
  return entries.map((e) => e.audience)
}

const DATASET_FIELDS: readonly DatasetField[] = [
  { key: 'title', to: 'title', parse: (v, e) => requiredString(v, TITLE_SIZE_LIMIT, e, 'title') },
  { key: 'acronym', to: 'acronym', parse: emptyNone('acronym') },
  {
    key: 'description',
    to: 'description',
    parse: (v, e) => requiredString(v, DESCRIPTION_SIZE_LIMIT, e, 'description'),
  },
  {
    key: 'description_short',
    to: 'descriptionShort',
    parse: emptyNone('description_short', DESCRIPTION_SHORT_SIZE_LIMIT),
  },
  { key: 'license', to: 'license', parse: parseLicense },
  { key: 'access_type', to: 'accessType', parse: choiceField('access_type', ACCESS_TYPES, 'open') },
  { key: 'access_audiences', to: 'accessAudiences', parse: parseAudiences },
  {
    key: 'authorization_request_url',
    to: 'authorizationRequestUrl',
    parse: emptyNone('authorization_request_url'),
  },
  {
    key: 'access_type_reason_category',
    to: 'accessTypeReasonCategory',
    parse: choiceField('access_type_reason_category', ACCESS_REASON_CATEGORIES, null),
  },
  { key: 'access_type_reason', to: 'accessTypeReason', parse: emptyNone('access_type_reason') },
  { key: 'frequency', to: 'frequency', parse: parseFrequency },
  { key: 'frequency_date', to: 'frequencyDate', parse: dateTimeField('frequency_date') },
  { key: 'archived', to: 'archived', parse: dateTimeField('archived') },
  {
    key: 'temporal_coverage',
    to: 'temporalCoverage',
    parse: parseTemporalCoverage,
    absent: () => null,
  },
  { key: 'spatial', to: 'spatial', parse: parseSpatial },
  { key: 'tags', to: 'tags', parse: parseTags, absent: () => [] },
  {
    key: 'private',
    to: 'private',
    parse: parsePrivate,
    absent: (ctx) => (ctx.legacy ? false : KEEP),
  },
  { key: 'extras', to: 'extras', parse: parseDatasetExtras },
]

/**
 * Parse a dataset form: the values to store (a key missing from `values` keeps the stored value),
 * the form's errors (400 `{"errors": …}`), then the model's (see `modelValidationError`).
 * `resources`, `deleted`, `owner` and `organization` are the caller's.
 */
export function parseDatasetForm(
  body: Record<string, unknown>,
  opts: { legacy: boolean; existing?: DatasetState },
): { values: DatasetFormValues; errors: FormErrors; modelErrors: Record<string, string> } {
  const ctx: FormContext = { legacy: opts.legacy, existing: opts.existing, modelErrors: {} }
  const errors: FormErrors = {}
  const values: Record<string, unknown> = {}
  const formdata = Object.keys(body).length > 0
  for (const field of DATASET_FIELDS) {
    let value: unknown = KEEP
    if (Object.prototype.hasOwnProperty.call(body, field.key))
      value = field.parse(body[field.key], errors, ctx)
    else if (formdata && field.absent !== undefined) value = field.absent(ctx)
    if (value !== KEEP && value !== undefined) values[field.to] = value
  }
  return { values, errors, modelErrors: ctx.modelErrors }
}

/** MongoEngine's `ValidationError` on save, as udata's handler answers it (400). */
export function modelValidationError(
  dataset: string,
  modelErrors: Record<string, string>,
): { errors: Record<string, string>; message: string } {
  const keys = Object.keys(modelErrors)
  const detail = keys.map((k) => `${modelErrors[k]}: ['${k}']`).join(', ')
  return { errors: modelErrors, message: `ValidationError (Dataset:${dataset}) (${detail})` }
}
