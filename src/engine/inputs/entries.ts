/**
 * The two inputs that hold a YAML or JSON document: `resources` (the entries to publish) and
 * `dataset-metadata` (a partial patch of the dataset). Every problem names the input, the entry
 * and the field, and an unknown key lists the accepted ones.
 */
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { RESOURCE_TYPES, type ResourceType } from '../../datagouv/schemas.js'
import { toErrorMessage } from '../../util/errors.js'
import { closest } from '../../util/suggest.js'
import { InputError } from './error.js'
import { inputName } from './naming.js'
import { releaseFields, withRelease, type ReleaseSpec } from './release.js'

/** Metadata an entry may give, for file and remote resources alike. */
export interface EntryMetadata {
  id?: string
  title?: string
  description?: string
  type?: ResourceType
  schema?: { name?: string; version?: string; url?: string }
  /** Merged into the resource's extras (v2 endpoint); `null` deletes a key. */
  extras?: Record<string, ExtraValue>
}

export type ExtraValue = string | number | boolean | null

export type ResourceEntrySpec = EntryMetadata & {
  /**
   * Position in the `resources` input, for messages: `resources[2]` or `resources['data/x.csv']`.
   */
  label: string
} & (
    | {
        kind: 'file'
        /** A path or a glob that must match exactly one file. */
        path: string
        /** `release: dated`: a new resource each publication (inputs/release.ts). */
        release?: ReleaseSpec
        /** The columns that identify a row, for the data diff (src/diff/). */
        key?: string[]
      }
    | {
        kind: 'url'
        /** The remote file or API the resource points at. */
        url: string
        format?: string
      }
  )

/**
 * A partial patch of the dataset (docs/udata-protocol.md §6.3): only these fields, only those
 * given.
 */
export interface DatasetMetadata {
  title?: string
  description?: string
  tags?: string[]
  frequency?: string
  frequency_date?: string
  /**
   * `end: today` keeps the end at the date of the last publication (plan/coverage.ts); `start`
   * may then be left out to keep the dataset's.
   */
  temporal_coverage?: { start?: string; end?: string }
  spatial?: { zones?: string[]; granularity?: string }
  license?: string
  private?: boolean
  /**
   * Only when the dataset is created (`create-dataset`): the owning organisation's id; absent, the
   * key's owner.
   */
  organization?: string
  extras?: Record<string, ExtraValue>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const SchemaRefInput = z.union([
  z
    .string()
    .min(1)
    .transform((name) => ({ name })),
  z.strictObject({
    name: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    url: z.url().optional(),
  }),
])

const ExtrasInput = z.record(
  z.string().min(1),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
  {
    error: 'must be a mapping of keys to strings, numbers, booleans or null',
  },
)

/** A title, of a resource or of the dataset: udata's `TITLE_SIZE_LIMIT`. */
const TitleInput = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(350, 'must be at most 350 characters')

const metadataFields = {
  id: z
    .string()
    .regex(UUID, 'must be a resource id (a UUID such as 54d47250-1daf-483b-965a-3013f8c76617)')
    .optional(),
  title: TitleInput.optional(),
  description: z.string().max(100_000, 'must be at most 100000 characters').optional(),
  type: z.enum(RESOURCE_TYPES, { error: `must be one of ${RESOURCE_TYPES.join(', ')}` }).optional(),
  schema: SchemaRefInput.optional(),
  extras: ExtrasInput.optional(),
}

/** `key`: a column name, or a list of them, identifying a row of a table (the data diff). */
const KeyInput = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'must be a column name or a list of column names',
  })
  .transform((key) => (typeof key === 'string' ? [key] : key))

const FileEntryInput = z.strictObject({
  path: z.string().min(1, 'must not be empty'),
  key: KeyInput.optional(),
  ...metadataFields,
  ...releaseFields,
})

const RemoteEntryInput = z.strictObject({
  url: z.url({ protocol: /^(https?|ftps?)$/, error: 'must be an absolute http(s) or ftp(s) URL' }),
  format: z
    .string()
    .trim()
    .min(1)
    .transform((f) => f.toLowerCase())
    .optional(),
  ...metadataFields,
})

/** The `resources` input: a list of entries, or the shorthand mapping `path: resource-id`. */
export function parseResources(text: string): ResourceEntrySpec[] {
  if (text.trim() === '') return []
  const document = parseDocument('resources', text)
  if (document === null || document === undefined) return []
  const problems: string[] = []
  const entries: ResourceEntrySpec[] = []
  const add = (label: string, raw: unknown): void => {
    const entry = parseEntry(label, raw, problems)
    if (entry !== undefined) entries.push(entry)
  }
  if (Array.isArray(document)) {
    document.forEach((item, index) => {
      const label = `resources[${index}]`
      if (typeof item === 'string') add(label, { path: item })
      else add(label, item)
    })
  } else if (typeof document === 'object') {
    for (const [path, value] of Object.entries(document as Record<string, unknown>)) {
      const label = `'${path}'`
      if (typeof value === 'string') add(label, { path, id: value })
      else if (value === null) add(label, { path })
      else
        problems.push(
          `${inputName('resources')}, entry ${label}: the shorthand form maps a path to a resource ` +
            `id (path: id); use the list form for more fields`,
        )
    }
  } else {
    problems.push(
      `${inputName('resources')} must be a list of entries ({path, ...} or {url, ...}) or a ` +
        `mapping path: resource-id, got ${shown(document)}`,
    )
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'))
  return entries
}

/** One entry of `resources`, or `undefined` with its problems added to `problems`. */
function parseEntry(
  label: string,
  raw: unknown,
  problems: string[],
): ResourceEntrySpec | undefined {
  const where = `${inputName('resources')}, entry ${label}`
  const remote = raw !== null && typeof raw === 'object' && 'url' in raw
  if (remote && 'path' in raw) {
    problems.push(
      `${where}: give either 'path' (a local file) or 'url' (a remote resource), not both`,
    )
    return undefined
  }
  const schema = remote ? RemoteEntryInput : FileEntryInput
  const result = schema.safeParse(raw)
  if (!result.success) {
    problems.push(...issuesOf(where, result.error.issues, Object.keys(schema.shape), raw))
    return undefined
  }
  const data = withRelease(where, result.data, problems)
  if (data === undefined) return undefined
  return dropUndefined({ label, kind: remote ? 'url' : 'file', ...data }) as ResourceEntrySpec
}

const isoDate = z
  .string()
  .refine(
    (value) =>
      /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) &&
      !Number.isNaN(Date.parse(value)),
    {
      message: 'must be an ISO 8601 date such as 2026-01-31',
    },
  )

/**
 * Writable dataset fields the action manages (docs/udata-protocol.md §6.3); anything else is
 * refused by name.
 */
const DatasetMetadataInput = z.strictObject({
  title: TitleInput.optional(),
  description: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100_000, 'must be at most 100000 characters')
    .optional(),
  tags: z
    .array(
      z
        .string()
        .trim()
        .min(3, 'a tag must be 3 to 96 characters')
        .max(96, 'a tag must be 3 to 96 characters'),
      { error: 'must be a list of strings' },
    )
    .optional(),
  frequency: z.string().min(1).optional(),
  frequency_date: isoDate.optional(),
  temporal_coverage: z
    .strictObject(
      { start: isoDate.optional(), end: z.union([z.literal('today'), isoDate]).optional() },
      { error: 'must be {start, end?} with ISO dates (end: today follows the publications)' },
    )
    .refine((c) => c.start !== undefined || c.end === 'today', {
      message: "needs a start (only with end: today may it be left out, to keep the dataset's)",
    })
    .optional(),
  spatial: z
    .strictObject({
      zones: z.array(z.string().min(1)).optional(),
      granularity: z.string().min(1).optional(),
    })
    .optional(),
  license: z.string().min(1).optional(),
  private: z.boolean({ error: 'must be true or false' }).optional(),
  organization: z
    .string()
    .regex(/^[0-9a-f]{24}$/i, 'must be an organisation id (24 hexadecimal characters)')
    .optional(),
  extras: ExtrasInput.optional(),
})

/** The `dataset-metadata` input: a partial patch of the dataset. */
export function parseDatasetMetadata(text: string): DatasetMetadata | undefined {
  if (text.trim() === '') return undefined
  const document = parseDocument('dataset-metadata', text)
  if (document === null || document === undefined) return undefined
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new InputError(
      `${inputName('dataset-metadata')} must be a mapping of dataset fields (${Object.keys(DatasetMetadataInput.shape).join(', ')}), got ${shown(document)}`,
    )
  }
  const result = DatasetMetadataInput.safeParse(document)
  if (!result.success)
    throw new InputError(
      issuesOf(
        inputName('dataset-metadata'),
        result.error.issues,
        Object.keys(DatasetMetadataInput.shape),
        document,
      ).join('\n'),
    )
  return dropUndefined(result.data) as DatasetMetadata
}

function parseDocument(input: 'resources' | 'dataset-metadata', text: string): unknown {
  try {
    return parseYaml(text, { logLevel: 'error' })
  } catch (error) {
    throw new InputError(
      `${inputName(input)} is neither YAML nor JSON: ${toErrorMessage(error).split('\n', 1)[0]}`,
    )
  }
}

function issuesOf(
  where: string,
  issues: readonly z.core.$ZodIssue[],
  accepted: string[],
  raw: unknown,
): string[] {
  return issues.map((issue) => {
    const field = issue.path.length > 0 ? `.${issue.path.join('.')}` : ''
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `'${k}'`).join(', ')
      const near = issue.keys.flatMap((k) => {
        const found = closest(k, accepted)
        return found === undefined
          ? []
          : [issue.keys.length > 1 ? `'${found}' for '${k}'` : `'${found}'`]
      })
      const hint = near.length > 0 ? `; did you mean ${near.join(', ')}?` : ''
      return `${where}${field}: unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} (accepted: ${accepted.join(', ')})${hint}`
    }
    const value = valueAt(raw, issue.path)
    if (issue.code === 'invalid_type' && value === undefined) return `${where}${field}: missing`
    const message =
      issue.code === 'invalid_type' && /^Invalid input/.test(issue.message)
        ? `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`
        : issue.message
    return `${where}${field}: ${message}, got ${shown(value)}`
  })
}

/** The value at `path` in a parsed document. */
function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

/** A value given, as messages echo it: `'text'`, `3`, `[1,2]`, cut after 60 characters. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value))
  return text.length > 60 ? `${text.slice(0, 57)}… (${text.length} characters)` : text
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
