/**
 * Inputs -> Settings: one zod schema keyed by the action.yml input names. `''` means "not given",
 * so defaults apply; every error names the input (and the entry) and the accepted values.
 */
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { DEFAULT_TIMEOUT_MS, parseApiUrl } from '../datagouv/client.js'
import { DEFAULT_RETRY } from '../datagouv/retry.js'
import { RESOURCE_TYPES, type ResourceType } from '../datagouv/schemas.js'
import { DEFAULT_CHUNK_SIZE } from '../datagouv/upload.js'
import { toErrorMessage } from '../util/errors.js'

export const INPUT_NAMES = [
  'api-key',
  'dataset',
  'api-url',
  'as',
  'create-dataset',
  'files',
  'resources',
  'dataset-metadata',
  'remove',
  'prune',
  'order',
  'if-no-files-found',
  'include-hidden-files',
  'if-unchanged',
  'check-urls',
  'create-missing',
  'dry-run',
  'provenance',
  'wait-for-analysis',
  'chunk-size',
  'part-concurrency',
  'concurrency',
  'max-retries',
  'timeout',
] as const
export type InputName = (typeof INPUT_NAMES)[number]

export type IfNoFilesFound = 'error' | 'warn' | 'ignore'
export type IfUnchanged = 'skip' | 'upload'
/**
 * Whose resources are published: the dataset's own (`owner`), or community resources of the key's
 * owner.
 */
export type PublishAs = 'owner' | 'community'
export type Order = 'keep' | 'as-listed'

/** The public data.gouv.fr instances by name, as the official Python client names them. */
export const INSTANCES = {
  www: 'https://www.data.gouv.fr',
  demo: 'https://demo.data.gouv.fr',
  dev: 'https://dev.data.gouv.fr',
} as const

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
  temporal_coverage?: { start: string; end?: string }
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

export interface Settings {
  apiKey: string | undefined
  dataset: string
  apiUrl: string
  publishAs: PublishAs
  /** Create the dataset from `dataset-metadata` when `dataset` (a slug) does not exist. */
  createDataset: boolean
  files: string[]
  resources: ResourceEntrySpec[]
  datasetMetadata: DatasetMetadata | undefined
  /** Resource ids or stored file names to delete. */
  remove: string[]
  /**
   * Delete resources this publication wrote before (by their provenance) and no longer publishes.
   */
  prune: boolean
  order: Order
  ifNoFilesFound: IfNoFilesFound
  /** Publish files and folders whose name starts with `.` that the patterns match. */
  includeHiddenFiles: boolean
  ifUnchanged: IfUnchanged
  checkUrls: boolean
  createMissing: boolean
  dryRun: boolean
  /** Record where each written resource comes from in its extras. */
  provenance: boolean
  /** Seconds to wait for data.gouv.fr's analysis of the published resources; 0: do not wait. */
  waitForAnalysisSeconds: number
  chunkSize: number
  /** Parts of one file in flight at once. */
  partConcurrency: number
  concurrency: number
  maxRetries: number
  timeoutSeconds: number
}

export const DEFAULTS = {
  'api-url': 'www',
  as: 'owner',
  'create-dataset': 'false',
  prune: 'false',
  order: 'keep',
  provenance: 'true',
  'wait-for-analysis': '0',
  'if-no-files-found': 'error',
  'include-hidden-files': 'false',
  'if-unchanged': 'skip',
  'check-urls': 'true',
  'create-missing': 'false',
  'dry-run': 'false',
  'chunk-size': String(DEFAULT_CHUNK_SIZE),
  'part-concurrency': '3',
  concurrency: '3',
  'max-retries': String(DEFAULT_RETRY.maxRetries),
  timeout: String(DEFAULT_TIMEOUT_MS / 1000),
} as const satisfies Partial<Record<InputName, string>>
// The defaults of the client (chunk size, retries, timeout) come from src/datagouv/: one source,
// checked against action.yml by test/contract.test.ts.

/** Thrown for bad input: its message lists every problem, each naming its input. */
export class InputError extends Error {
  override readonly name = 'InputError'
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const oneOf = <T extends string>(input: InputName, values: readonly T[]) =>
  z.string().transform((value, ctx): T => {
    if ((values as readonly string[]).includes(value)) return value as T
    ctx.addIssue({
      code: 'custom',
      message: `input '${input}' must be one of ${values.map((v) => `'${v}'`).join(', ')}, got '${value}'`,
    })
    return z.NEVER
  })

const booleanInput = (input: InputName) =>
  z.string().transform((value, ctx): boolean => {
    if (['true', 'True', 'TRUE'].includes(value)) return true
    if (['false', 'False', 'FALSE'].includes(value)) return false
    ctx.addIssue({
      code: 'custom',
      message: `input '${input}' must be 'true' or 'false', got '${value}'`,
    })
    return z.NEVER
  })

const integerInput = (input: InputName, min: number, max: number, unit: string) =>
  z.string().transform((value, ctx): number => {
    const number = /^\d+$/.test(value) ? Number(value) : Number.NaN
    if (Number.isSafeInteger(number) && number >= min && number <= max) return number
    ctx.addIssue({
      code: 'custom',
      message: `input '${input}' must be a whole number of ${unit} from ${min} to ${max}, got '${value}'`,
    })
    return z.NEVER
  })

/** `90`, `90s`, `15m`, `1h`, `1h30m` -> seconds; `0` or `off` -> 0. At most a day. */
const durationInput = (input: InputName) =>
  z.string().transform((value, ctx): number => {
    const text = value.trim().toLowerCase()
    if (text === 'off' || text === 'false') return 0
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text)
    const seconds =
      match && text !== ''
        ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
        : Number.NaN
    if (Number.isFinite(seconds) && seconds <= 86_400) return seconds
    ctx.addIssue({
      code: 'custom',
      message:
        `input '${input}' must be a duration such as 90s, 15m or 1h30m (at most 24h), or 0 to not ` +
        `wait, got '${value}'`,
    })
    return z.NEVER
  })

const lines = (value: string): string[] =>
  value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))

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

const FileEntryInput = z.strictObject({
  path: z.string().min(1, 'must not be empty'),
  ...metadataFields,
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
    const remote = raw !== null && typeof raw === 'object' && 'url' in raw
    if (remote && 'path' in raw) {
      problems.push(
        `input 'resources', entry ${label}: give either 'path' (a local file) or 'url' (a remote ` +
          `resource), not both`,
      )
      return
    }
    const schema = remote ? RemoteEntryInput : FileEntryInput
    const result = schema.safeParse(raw)
    if (!result.success) {
      problems.push(
        ...issuesOf(
          `input 'resources', entry ${label}`,
          result.error.issues,
          Object.keys(schema.shape),
        ),
      )
      return
    }
    entries.push(
      dropUndefined({ label, kind: remote ? 'url' : 'file', ...result.data }) as ResourceEntrySpec,
    )
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
          `input 'resources', entry ${label}: the shorthand form maps a path to a resource id (path: ` +
            `id); use the list form for more fields`,
        )
    }
  } else {
    problems.push(
      `input 'resources' must be a list of entries ({path, ...} or {url, ...}) or a mapping path: ` +
        `resource-id, got ${typeof document}`,
    )
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'))
  return entries
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
      { start: isoDate, end: isoDate.optional() },
      { error: 'must be {start, end?} with ISO dates' },
    )
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
      `input 'dataset-metadata' must be a mapping of dataset fields (${Object.keys(DatasetMetadataInput.shape).join(', ')})`,
    )
  }
  const result = DatasetMetadataInput.safeParse(document)
  if (!result.success)
    throw new InputError(
      issuesOf(
        `input 'dataset-metadata'`,
        result.error.issues,
        Object.keys(DatasetMetadataInput.shape),
      ).join('\n'),
    )
  return dropUndefined(result.data) as DatasetMetadata
}

function parseDocument(input: InputName, text: string): unknown {
  try {
    return parseYaml(text, { logLevel: 'error' })
  } catch (error) {
    throw new InputError(
      `input '${input}' is neither YAML nor JSON: ${toErrorMessage(error).split('\n', 1)[0]}`,
    )
  }
}

function issuesOf(
  where: string,
  issues: readonly z.core.$ZodIssue[],
  accepted: string[],
): string[] {
  return issues.map((issue) => {
    const field = issue.path.length > 0 ? `.${issue.path.join('.')}` : ''
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (accepted: ${accepted.join(', ')})`
        : issue.message
    return `${where}${field}: ${message}`
  })
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

const SettingsSchema = z.object({
  'api-key': z.string(),
  dataset: z.string().min(1, "input 'dataset' is required: a dataset id or slug"),
  'api-url': z.string().transform((value, ctx) => {
    try {
      return parseApiUrl((INSTANCES as Record<string, string>)[value] ?? value).origin
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `input 'api-url': ${toErrorMessage(error)}` })
      return z.NEVER
    }
  }),
  files: z.string().transform(lines),
  resources: z.string(),
  'dataset-metadata': z.string(),
  remove: z.string().transform(lines),
  as: oneOf('as', ['owner', 'community'] as const),
  'create-dataset': booleanInput('create-dataset'),
  prune: booleanInput('prune'),
  order: oneOf('order', ['keep', 'as-listed'] as const),
  provenance: booleanInput('provenance'),
  'wait-for-analysis': durationInput('wait-for-analysis'),
  'check-urls': booleanInput('check-urls'),
  'if-no-files-found': oneOf('if-no-files-found', ['error', 'warn', 'ignore'] as const),
  'include-hidden-files': booleanInput('include-hidden-files'),
  'if-unchanged': oneOf('if-unchanged', ['skip', 'upload'] as const),
  'create-missing': booleanInput('create-missing'),
  'dry-run': booleanInput('dry-run'),
  'chunk-size': integerInput('chunk-size', 1024, 2 ** 31, 'bytes'),
  'part-concurrency': integerInput('part-concurrency', 1, 8, 'parts in flight'),
  concurrency: integerInput('concurrency', 1, 16, 'parallel uploads'),
  'max-retries': integerInput('max-retries', 0, 20, 'retries'),
  timeout: integerInput('timeout', 1, 86_400, 'seconds'),
})

/** How an edge words the problems that depend on where the inputs come from. */
export interface SettingsMessages {
  /** The problem line when there is no key and no dry run; the action's wording by default. */
  missingKey?: string
}

/**
 * Reads every input through `getInput` (core.getInput in the action) and validates them together.
 */
export function readSettings(
  getInput: (name: InputName) => string,
  messages: SettingsMessages = {},
): Settings {
  const raw = Object.fromEntries(
    INPUT_NAMES.map((name) => {
      const value = getInput(name).trim()
      return [name, value === '' ? ((DEFAULTS as Record<string, string>)[name] ?? '') : value]
    }),
  )
  const problems: string[] = []
  if (raw['api-key'] === '' && !['true', 'True', 'TRUE'].includes(raw['dry-run'] ?? '')) {
    problems.push(
      messages.missingKey ??
        "input 'api-key' is required unless 'dry-run' is true (store the key as a secret: api-key: ${{ secrets.DATAGOUV_API_KEY }})",
    )
  }
  const parsed = SettingsSchema.safeParse(raw)
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => issue.message))
  let resources: ResourceEntrySpec[] = []
  let datasetMetadata: DatasetMetadata | undefined
  try {
    resources = parseResources(raw.resources ?? '')
  } catch (error) {
    problems.push(toErrorMessage(error))
  }
  try {
    datasetMetadata = parseDatasetMetadata(raw['dataset-metadata'] ?? '')
  } catch (error) {
    problems.push(toErrorMessage(error))
  }
  if (!parsed.success || problems.length > 0) throw new InputError(problems.join('\n'))
  const value = parsed.data
  if (
    value.files.length === 0 &&
    resources.length === 0 &&
    datasetMetadata === undefined &&
    value.remove.length === 0
  ) {
    throw new InputError(
      "nothing to publish: give 'files' (newline-separated globs), 'resources' (entries with a path or a url), 'dataset-metadata' or 'remove'",
    )
  }
  return settingsOf(value, resources, datasetMetadata)
}

/** The validated inputs as the engine's `Settings`. */
function settingsOf(
  value: z.infer<typeof SettingsSchema>,
  resources: ResourceEntrySpec[],
  datasetMetadata: DatasetMetadata | undefined,
): Settings {
  return {
    apiKey: value['api-key'] === '' ? undefined : value['api-key'],
    dataset: value.dataset,
    apiUrl: value['api-url'],
    publishAs: value.as,
    createDataset: value['create-dataset'],
    files: value.files,
    resources,
    datasetMetadata,
    remove: value.remove,
    prune: value.prune,
    order: value.order,
    ifNoFilesFound: value['if-no-files-found'],
    includeHiddenFiles: value['include-hidden-files'],
    ifUnchanged: value['if-unchanged'],
    checkUrls: value['check-urls'],
    createMissing: value['create-missing'],
    dryRun: value['dry-run'],
    provenance: value.provenance,
    waitForAnalysisSeconds: value['wait-for-analysis'],
    chunkSize: value['chunk-size'],
    partConcurrency: value['part-concurrency'],
    concurrency: value.concurrency,
    maxRetries: value['max-retries'],
    timeoutSeconds: value.timeout,
  }
}
