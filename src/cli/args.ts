/**
 * Command line -> the action's inputs. One table of options gives the parser, the usage text and
 * the suggestions for a mistyped flag; every value then goes through the action's own validation
 * (readSettings), so a bad value reads the same from both edges.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { toErrorMessage } from '../util/errors.js'
import { DEFAULTS, InputError, type InputName } from '../engine/inputs.js'

/**
 * A mistake on the command line itself (exit 2, with a pointer to --help rather than a wall of
 * usage).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

interface OptionSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  /** How the value is shown in the usage (string options). */
  value?: string
  help: string
}

/**
 * Every option, in the order of the usage text. String options mirror the action input of the same
 * name.
 */
export const OPTIONS = {
  dataset: { type: 'string', value: '<id|slug>', help: 'dataset to publish into (required)' },
  'api-url': {
    type: 'string',
    value: '<url|www|demo|dev>',
    help: `instance origin, or a public instance by name (default ${DEFAULTS['api-url']}; demo to rehearse)`,
  },
  as: {
    type: 'string',
    value: '<owner|community>',
    help: `publish the dataset's own resources, or community resources of the key's owner (default ${DEFAULTS.as})`,
  },
  'create-dataset': {
    type: 'boolean',
    help: 'create the dataset from --dataset-metadata when the slug does not exist',
  },
  files: {
    type: 'string',
    multiple: true,
    value: '<glob>',
    help: 'local files to publish; repeat for several; prefix ! to exclude',
  },
  resources: {
    type: 'string',
    value: '<yaml|@file>',
    help: 'entries {path|url, id?, title?, description?, type?, format?, schema?, extras?}, inline or from a file',
  },
  'dataset-metadata': {
    type: 'string',
    value: '<yaml|@file>',
    help: 'partial patch of the dataset (title, description, tags, frequency, ...)',
  },
  remove: {
    type: 'string',
    multiple: true,
    value: '<id|stored-name>',
    help: 'resource to delete; repeat for several',
  },
  prune: {
    type: 'boolean',
    help: 'delete resources this publication wrote before and no longer publishes',
  },
  order: {
    type: 'string',
    value: '<keep|as-listed>',
    help: `resource order (default ${DEFAULTS.order})`,
  },
  'create-missing': { type: 'boolean', help: 'create resources for files or URLs that match none' },
  'dry-run': {
    type: 'boolean',
    help: 'plan and report, send no write request (no key needed for a public dataset)',
  },
  'no-provenance': {
    type: 'boolean',
    help: 'do not record where each written resource comes from in its extras',
  },
  'wait-for-analysis': {
    type: 'string',
    value: '<duration>',
    help:
      `wait for data.gouv.fr's analysis of what was published, e.g. 10m (default ${DEFAULTS['wait-for-analysis']}: ` +
      `do not wait)`,
  },
  'if-no-files-found': {
    type: 'string',
    value: '<mode>',
    help: `error, warn or ignore (default ${DEFAULTS['if-no-files-found']})`,
  },
  'include-hidden-files': {
    type: 'boolean',
    help: 'also publish files and folders whose name starts with a dot',
  },
  'if-unchanged': {
    type: 'string',
    value: '<mode>',
    help: `skip or upload (default ${DEFAULTS['if-unchanged']})`,
  },
  'no-check-urls': { type: 'boolean', help: 'do not check remote URLs before signalling them' },
  'chunk-size': {
    type: 'string',
    value: '<bytes>',
    help: `bytes per request; larger files go in parts (default ${DEFAULTS['chunk-size']})`,
  },
  'part-concurrency': {
    type: 'string',
    value: '<n>',
    help: `parts of one file sent at once (default ${DEFAULTS['part-concurrency']})`,
  },
  concurrency: {
    type: 'string',
    value: '<n>',
    help: `files uploaded at once (default ${DEFAULTS.concurrency})`,
  },
  'max-retries': {
    type: 'string',
    value: '<n>',
    help: `retries after network errors, 408, 429, 5xx (default ${DEFAULTS['max-retries']})`,
  },
  timeout: {
    type: 'string',
    value: '<seconds>',
    help: `seconds to wait for an answer (default ${DEFAULTS.timeout})`,
  },
  json: {
    type: 'boolean',
    help: "print the action's outputs as one JSON document on stdout (logs stay on stderr)",
  },
  verbose: { type: 'boolean', help: 'log every request' },
  version: { type: 'boolean', help: 'print the version' },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} as const satisfies Record<string, OptionSpec>

type OptionName = keyof typeof OPTIONS

/** The environment variable the key is read from. */
export const KEY_VARIABLE = 'DATAGOUV_API_KEY'

export const USAGE = `Usage: datagouv-publish --dataset <id-or-slug> [options]

Publishes files and remote URLs into a data.gouv.fr dataset: the engine of the GitHub Action
"Publish to data.gouv.fr", from any shell. The API key is read from the ${KEY_VARIABLE}
environment variable (never from a flag).

Options (those that say what to publish mirror the action input of the same name;
--no-check-urls is check-urls: false):
${usageLines()}

Environment: ${KEY_VARIABLE} (the key; www and demo keys differ), HTTPS_PROXY, HTTP_PROXY and
NO_PROXY (honoured as curl honours them).

Values may start with a dash (--resources '- path: x.csv'); --resources and --dataset-metadata
take YAML or JSON inline, or @file to read it from a file.

Exit codes: 0 published (or nothing to do), 1 some entries failed (the others were published),
2 bad input or a problem found before publishing (nothing was written), 3 unexpected error,
130 interrupted (Ctrl-C).`

function usageLines(): string {
  const rows = Object.entries(OPTIONS).map(([name, spec]: [string, OptionSpec]) => {
    const flag =
      name === 'version'
        ? '--version'
        : name === 'help'
          ? '--help, -h'
          : `--${name}${spec.value ? ` ${spec.value}` : ''}`
    return [flag, spec.help] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return rows
    .map(
      ([flag, help]) =>
        `  ${flag.padEnd(width)}${wrap(help, 98 - width).join(`\n  ${' '.repeat(width)}`)}`,
    )
    .join('\n')
}

/** Words into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  return [...lines, line]
}

export type Options = ReturnType<typeof parseOptions>

/** Parses the command line; throws UsageError with a message that says what to type instead. */
export function parseCommandLine(argv: readonly string[]): Options {
  return parseOptions(normalize(argv))
}

function parseOptions(args: string[]) {
  return parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS }).values
}

/**
 * Rewrites `--name value` as `--name=value` for every option that takes a value, so that a value
 * starting with a dash (inline YAML `- path: x.csv`, `-1`) is taken as the value rather than
 * refused as ambiguous. Only a token shaped like a flag (`--word`, `-h`) is never taken as a value:
 * `--dataset --dry-run` is a missing value, not a dataset called `--dry-run`.
 */
export function normalize(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--')
      throw new UsageError(`'--' is not needed: datagouv-publish takes options only`)
    if (token.startsWith('--')) {
      const [name = '', ...rest] = token.slice(2).split('=')
      const spec = (OPTIONS as Record<string, OptionSpec>)[name]
      if (spec === undefined) throw new UsageError(unknownOption(`--${name}`, name))
      const inline = rest.length > 0
      if (spec.type === 'boolean') {
        if (inline)
          throw new UsageError(`option '--${name}' is a switch and takes no value (got '${token}')`)
        out.push(token)
      } else if (inline) {
        out.push(token)
      } else {
        const value = argv[i + 1]
        if (value === undefined || looksLikeFlag(value)) {
          throw new UsageError(
            `option '--${name}' needs a value (${spec.value ?? 'a value'})${value === undefined ? '' : `, got the option '${value}'; for a value that looks like an option, write --${name}=VALUE`}`,
          )
        }
        out.push(`--${name}=${value}`)
        i++
      }
    } else if (token.startsWith('-') && token.length > 1) {
      if (token !== '-h') throw new UsageError(unknownOption(token, token.slice(1)))
      out.push(token)
    } else {
      throw new UsageError(
        `unexpected argument '${token}': datagouv-publish takes options only. If the shell expanded ` +
          `a glob (--files out/*.csv), quote it (--files 'out/*.csv'), or repeat --files for each ` +
          `file`,
      )
    }
  }
  return out
}

function looksLikeFlag(token: string): boolean {
  return /^--[A-Za-z][\w-]*(=|$)/.test(token) || /^-[A-Za-z]$/.test(token)
}

/**
 * The message for a flag that does not exist: why, for the ones people expect, else the closest
 * one.
 */
export function unknownOption(flag: string, name: string): string {
  if (
    name === 'api-key' ||
    name === 'key' ||
    name === 'apikey' ||
    name === 'api_key' ||
    name === 'token'
  ) {
    return (
      `there is no ${flag} option: a key given on the command line stays in the shell history and ` +
      `is visible to every user of the machine in the process list (ps). ` +
      `Put it in the environment instead: export ${KEY_VARIABLE}=<your key> (or ${KEY_VARIABLE}="$(cat ` +
      `~/.datagouv-key)" datagouv-publish ...); in CI, a masked or secret variable of that name`
    )
  }
  if (name === 'check-urls')
    return (
      `unknown option '${flag}': remote URLs are checked by default; --no-check-urls turns the check ` +
      `off`
    )
  const suggestion = closest(name.replace(/_/g, '-').toLowerCase(), Object.keys(OPTIONS))
  return `unknown option '${flag}'${suggestion ? `; did you mean '--${suggestion}'?` : ''} (datagouv-publish --help lists them)`
}

/**
 * The option nearest `name`: the only one it starts, else the nearest by edit distance if close
 * enough.
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  if (name === '') return undefined
  const prefixed = candidates.filter((c) => c.startsWith(name))
  if (prefixed.length === 1) return prefixed[0]
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (best === undefined || distance < best.distance) best = { candidate, distance }
  }
  const allowed = Math.max(1, Math.floor(Math.max(name.length, best?.candidate.length ?? 0) / 3))
  return best !== undefined && best.distance <= allowed ? best.candidate : undefined
}

/**
 * Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions,
 * swaps of neighbours.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = value
    }
  }
  return at(a.length, b.length)
}

/** Options -> the action's inputs, so that the same validation (and messages) apply. */
export function toInputs(
  values: Options,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Partial<Record<InputName, string>> {
  const inputs: Record<InputName, string | undefined> = {
    'api-key': env[KEY_VARIABLE] ?? '',
    dataset: values.dataset,
    'api-url': values['api-url'],
    as: values.as,
    'create-dataset': switchInput(values['create-dataset']),
    files: values.files?.join('\n'),
    resources: fromFile(values.resources, 'resources', cwd),
    'dataset-metadata': fromFile(values['dataset-metadata'], 'dataset-metadata', cwd),
    remove: values.remove?.join('\n'),
    prune: switchInput(values.prune),
    order: values.order,
    provenance: values['no-provenance'] === true ? 'false' : undefined,
    'wait-for-analysis': values['wait-for-analysis'],
    'create-missing': switchInput(values['create-missing']),
    'dry-run': switchInput(values['dry-run']),
    'if-no-files-found': values['if-no-files-found'],
    'include-hidden-files': switchInput(values['include-hidden-files']),
    'if-unchanged': values['if-unchanged'],
    'check-urls': values['no-check-urls'] === true ? 'false' : undefined,
    'chunk-size': values['chunk-size'],
    'part-concurrency': values['part-concurrency'],
    concurrency: values.concurrency,
    'max-retries': values['max-retries'],
    timeout: values.timeout,
  }
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined))
}

const switchInput = (value: boolean | undefined): string | undefined =>
  value === true ? 'true' : undefined

/** `@path` reads the value from a file (relative to `cwd`); anything else is the value itself. */
function fromFile(value: string | undefined, flag: OptionName, cwd: string): string | undefined {
  if (value === undefined || !value.startsWith('@')) return value
  try {
    return readFileSync(path.resolve(cwd, value.slice(1)), 'utf8')
  } catch (error) {
    throw new InputError(`--${flag}: cannot read ${value.slice(1)}: ${toErrorMessage(error)}`)
  }
}

/** The problem line for a missing key, in the CLI's words (readSettings' `missingKey`). */
export const MISSING_KEY =
  `no API key: set the ${KEY_VARIABLE} environment variable (export ${KEY_VARIABLE}=<your key>; ` +
  `the key is on your profile page ` +
  `of the instance, and www and demo keys differ), or add --dry-run to plan without writing`
