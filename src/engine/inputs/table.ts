/**
 * Every input in one table, keyed by its action.yml name and in action.yml's order: the `Settings`
 * field it fills, its default (action.yml's), how its text is parsed, and its flag in the CLI.
 * The names, the defaults, `Settings` and the CLI's flags and help all come from here: adding an
 * input is one entry here, and one in action.yml (test/contract.test.ts checks that the two agree,
 * and the README's table against action.yml).
 */
import type { z } from 'zod'
import { DEFAULT_TIMEOUT_MS } from '../../datagouv/client.js'
import { DEFAULT_RETRY } from '../../datagouv/retry.js'
import { MAX_PARTS_IN_FLIGHT } from '../../datagouv/part-pacing.js'
import { DEFAULT_CHUNK_SIZE } from '../../datagouv/upload.js'
import { parseDatasetMetadata, parseResources } from './entries.js'
import {
  autoOr,
  boolean,
  document,
  duration,
  instance,
  lines,
  oneOf,
  optionalText,
  requiredText,
  size,
  wholeNumber,
  workflowToken,
  type InputParser,
} from './values.js'

/**
 * An input's flag in the CLI: `--<input> <value>` (`repeat`: given once per line of the input;
 * `fromFile`: `@path` reads the value from a file), or a switch that turns the input's default
 * around (`--<input>` for a default of false, `--no-<input>` for a default of true). `{default}`
 * in `help` stands for the input's default.
 */
export type CliFlag =
  { value: string; help: string; repeat?: true; fromFile?: true } | { switch: true; help: string }

export interface InputSpec {
  /** The `Settings` field it fills. */
  field: string
  /** action.yml's default, applied when the input is empty; none: it stays `''`. */
  default?: string
  parse: InputParser<unknown>
  /** None: the CLI does not take it as a flag (the key comes from the environment). */
  cli?: CliFlag
}

const PUBLISH_AS = ['owner', 'community'] as const
const ORDERS = ['keep', 'as-listed'] as const
const IF_NO_FILES_FOUND = ['error', 'warn', 'ignore'] as const
const IF_UNCHANGED = ['skip', 'upload'] as const
const COMMENT_ON_PR = ['auto', 'true', 'false'] as const
const FILE_CHECKS = ['warn', 'error', 'off'] as const

/** action.yml's inputs, in its order (test/contract.test.ts checks both). */
export const INPUTS = {
  'api-key': { field: 'apiKey', parse: optionalText },
  dataset: {
    field: 'dataset',
    parse: requiredText('a dataset id or slug'),
    cli: { value: '<id|slug>', help: 'dataset to publish into (required)' },
  },
  'api-url': {
    field: 'apiUrl',
    default: 'www',
    parse: instance,
    cli: {
      value: '<url|www|demo|dev>',
      help: 'instance origin, or a public instance by name (default {default}; demo to rehearse)',
    },
  },
  as: {
    /** Whose resources are published: the dataset's own, or community ones of the key's owner. */
    field: 'publishAs',
    default: 'owner',
    parse: oneOf(PUBLISH_AS),
    cli: {
      value: '<owner|community>',
      help:
        "publish the dataset's own resources, or community resources of the key's owner " +
        '(default {default})',
    },
  },
  'create-dataset': {
    /** Create the dataset from `dataset-metadata` when `dataset` (a slug) does not exist. */
    field: 'createDataset',
    default: 'false',
    parse: boolean,
    cli: {
      switch: true,
      help: 'create the dataset from --dataset-metadata when the slug does not exist',
    },
  },
  files: {
    field: 'files',
    default: '',
    parse: lines,
    cli: {
      value: '<glob>',
      repeat: true,
      help: 'local files to publish; repeat for several; prefix ! to exclude',
    },
  },
  resources: {
    field: 'resources',
    default: '',
    parse: document(parseResources),
    cli: {
      value: '<yaml|@file>',
      fromFile: true,
      help:
        'entries {path|url, id?, title?, description?, type?, format?, schema?, extras?}, inline ' +
        'or from a file',
    },
  },
  'dataset-metadata': {
    field: 'datasetMetadata',
    default: '',
    parse: document(parseDatasetMetadata),
    cli: {
      value: '<yaml|@file>',
      fromFile: true,
      help: 'partial patch of the dataset (title, description, tags, frequency, ...)',
    },
  },
  remove: {
    /** Resource ids or stored file names to delete. */
    field: 'remove',
    default: '',
    parse: lines,
    cli: {
      value: '<id|stored-name>',
      repeat: true,
      help: 'resource to delete; repeat for several',
    },
  },
  prune: {
    /** Delete what this publication wrote before (by its provenance) and no longer publishes. */
    field: 'prune',
    default: 'false',
    parse: boolean,
    cli: {
      switch: true,
      help: 'delete resources this publication wrote before and no longer publishes',
    },
  },
  order: {
    field: 'order',
    default: 'keep',
    parse: oneOf(ORDERS),
    cli: { value: '<keep|as-listed>', help: 'resource order (default {default})' },
  },
  'if-no-files-found': {
    field: 'ifNoFilesFound',
    default: 'error',
    parse: oneOf(IF_NO_FILES_FOUND),
    cli: { value: '<mode>', help: 'error, warn or ignore (default {default})' },
  },
  'include-hidden-files': {
    /** Publish files and folders whose name starts with `.` that the patterns match. */
    field: 'includeHiddenFiles',
    default: 'false',
    parse: boolean,
    cli: { switch: true, help: 'also publish files and folders whose name starts with a dot' },
  },
  'if-unchanged': {
    field: 'ifUnchanged',
    default: 'skip',
    parse: oneOf(IF_UNCHANGED),
    cli: { value: '<mode>', help: 'skip or upload (default {default})' },
  },
  'file-checks': {
    /** Each tabular file to publish checked against what data.gouv.fr converts (engine/checks.ts). */
    field: 'fileChecks',
    default: 'warn',
    parse: oneOf(FILE_CHECKS),
    cli: {
      value: '<warn|error|off>',
      help: "check each CSV and tabular file against data.gouv.fr's limits (default {default})",
    },
  },
  'check-urls': {
    field: 'checkUrls',
    default: 'true',
    parse: boolean,
    cli: { switch: true, help: 'do not check remote URLs before signalling them' },
  },
  'create-missing': {
    field: 'createMissing',
    default: 'false',
    parse: boolean,
    cli: { switch: true, help: 'create resources for files or URLs that match none' },
  },
  'dry-run': {
    field: 'dryRun',
    default: 'false',
    parse: boolean,
    cli: {
      switch: true,
      help: 'plan and report, send no write request (no key needed for a public dataset)',
    },
  },
  'diff-max-size': {
    /** The data diff compares tables up to this size (either file); above, sizes only; 0: never. */
    field: 'diffMaxSize',
    default: '100MB',
    parse: size(0, 2 ** 40),
    cli: {
      value: '<size>',
      help: 'with --diff, compare tables up to this size; above, sizes only (default {default})',
    },
  },
  'comment-on-pr': {
    /** The plan and the data diff as one comment on the pull request (the action only). */
    field: 'commentOnPr',
    default: 'auto',
    parse: oneOf(COMMENT_ON_PR),
  },
  'github-token': {
    /** For the pull request's comment; the runner gives the workflow's token by default. */
    field: 'githubToken',
    default: '${{ github.token }}',
    parse: workflowToken,
  },
  provenance: {
    /** Record where each written resource comes from in its extras. */
    field: 'provenance',
    default: 'true',
    parse: boolean,
    cli: {
      switch: true,
      help: 'do not record where each written resource comes from in its extras',
    },
  },
  'wait-for-analysis': {
    /** Seconds to wait for data.gouv.fr's analysis of the published resources; 0: do not wait. */
    field: 'waitForAnalysisSeconds',
    default: '0',
    parse: duration(1, 86_400, true),
    cli: {
      value: '<duration>',
      help:
        "wait for data.gouv.fr's analysis of what was published, e.g. 10m (default {default}: " +
        'do not wait)',
    },
  },
  'chunk-size': {
    field: 'chunkSize',
    default: String(DEFAULT_CHUNK_SIZE),
    parse: size(1024, 2 ** 31),
    cli: {
      value: '<size>',
      help: 'bytes per request, e.g. 20MB or 8MiB; larger files go in parts (default {default})',
    },
  },
  'part-concurrency': {
    /** Parts of one file in flight at once: `auto`, or a number that fixes it (part-pacing.ts). */
    field: 'partConcurrency',
    default: 'auto',
    parse: autoOr(wholeNumber(1, MAX_PARTS_IN_FLIGHT, 'parts in flight')),
    cli: {
      value: '<auto|n>',
      help: `parts of one file sent at once: auto, or 1 to ${MAX_PARTS_IN_FLIGHT} (default {default})`,
    },
  },
  concurrency: {
    field: 'concurrency',
    default: '3',
    parse: wholeNumber(1, 16, 'parallel uploads'),
    cli: { value: '<n>', help: 'files uploaded at once (default {default})' },
  },
  'max-retries': {
    field: 'maxRetries',
    default: String(DEFAULT_RETRY.maxRetries),
    parse: wholeNumber(0, 20, 'retries'),
    cli: {
      value: '<n>',
      help: 'retries after network errors, 408, 429, 5xx (default {default})',
    },
  },
  timeout: {
    field: 'timeoutSeconds',
    default: String(DEFAULT_TIMEOUT_MS / 1000),
    parse: duration(1, 86_400),
    cli: {
      value: '<duration>',
      help: 'how long to wait for an answer, e.g. 90s or 5m (default {default} seconds)',
    },
  },
} as const satisfies Record<string, InputSpec>
// The defaults of the client (chunk size, retries, timeout) come from src/datagouv/: one source.

type Inputs = typeof INPUTS
export type InputName = keyof Inputs
export const INPUT_NAMES = Object.keys(INPUTS) as readonly InputName[]

/** The validated inputs, one field per input (the table's `field`), as the engine reads them. */
export type Settings = {
  -readonly [K in InputName as Inputs[K]['field']]: z.output<ReturnType<Inputs[K]['parse']>>
}

export type IfNoFilesFound = Settings['ifNoFilesFound']
export type IfUnchanged = Settings['ifUnchanged']
