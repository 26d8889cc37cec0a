/**
 * The CLI's flags and what they give: one flag per action input (from the table of inputs, whose
 * `cli` says how), the CLI's own switches, and the inputs a command line stands for. The key is no
 * flag: it comes from the environment.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { toErrorMessage } from '../util/errors.js'
import {
  INPUT_NAMES,
  INPUTS,
  InputError,
  type CliFlag,
  type InputName,
  type InputNaming,
  type InputSpec,
} from '../engine/inputs.js'
import { DIFF_OPTION } from './diff.js'

/** The environment variable the key is read from. */
export const KEY_VARIABLE = 'DATAGOUV_API_KEY'

/** The problem line for a missing key, in the CLI's words (readSettings' `missingKey`). */
export const MISSING_KEY =
  `no API key: set the ${KEY_VARIABLE} environment variable (export ${KEY_VARIABLE}=<your key>; ` +
  `the key is on your profile page ` +
  `of the instance, and www and demo keys differ), or add --dry-run to plan without writing`

/** A flag as node's parseArgs takes it, with what the usage shows of it. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  /** How the value is shown in the usage (string options). */
  value?: string
  help: string
}

/** The flag of an input, and the text the input gets when the flag is given. */
interface InputFlag {
  flag: string
  input: InputName
  cli: CliFlag
  /** What a switch sets: the input's default turned around. */
  switched: 'true' | 'false'
}

const INPUT_FLAGS: readonly InputFlag[] = INPUT_NAMES.flatMap((input) => {
  const spec: InputSpec = INPUTS[input]
  if (spec.cli === undefined) return []
  const switched = spec.default === 'true' ? 'false' : 'true'
  const flag = 'switch' in spec.cli && switched === 'false' ? `no-${input}` : input
  return [{ flag, input, cli: spec.cli, switched }]
})

/**
 * How the engine's messages name an input from the command line: by its flag (`--create-missing`,
 * `--no-check-urls`), the key by its variable.
 */
export const CLI_NAMING: InputNaming = {
  input: (name) => flagText(name),
  word: (name) => flagText(name),
  given: (name, ...values) => {
    const flag = flagOf(name)
    if (flag === undefined) return KEY_VARIABLE
    if ('switch' in flag.cli)
      return values.includes(flag.switched) ? `--${flag.flag}` : `no --${flag.flag}`
    return `--${flag.flag} ${values.join(' or ')}`
  },
  set: (name, ...values) => {
    const flag = flagOf(name)
    if (flag === undefined) return `set ${KEY_VARIABLE}`
    if ('switch' in flag.cli && !values.includes(flag.switched)) return `leave out --${flag.flag}`
    return `use ${CLI_NAMING.given(name, ...values)}`
  },
}

function flagOf(name: InputName): InputFlag | undefined {
  return INPUT_FLAGS.find((f) => f.input === name)
}

/** `--dataset`, `--no-check-urls`; the key's variable for the key. */
function flagText(name: InputName): string {
  const flag = flagOf(name)
  return flag === undefined ? KEY_VARIABLE : `--${flag.flag}`
}

/** The CLI's own switches, after the inputs' flags in the usage. */
const OWN_OPTIONS = {
  diff: DIFF_OPTION,
  json: {
    type: 'boolean',
    help: "print the action's outputs as one JSON document on stdout (logs stay on stderr)",
  },
  verbose: { type: 'boolean', help: 'log every request' },
  version: { type: 'boolean', help: 'print the version' },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} as const satisfies Record<string, OptionSpec>

/** Every flag, in the order of the usage text. */
export const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...Object.fromEntries(INPUT_FLAGS.map(({ flag, input, cli }) => [flag, optionOf(input, cli)])),
  ...OWN_OPTIONS,
}

function optionOf(input: InputName, cli: CliFlag): OptionSpec {
  const spec: InputSpec = INPUTS[input]
  const help = cli.help.replace('{default}', spec.default ?? '')
  if ('switch' in cli) return { type: 'boolean', help }
  return { type: 'string', value: cli.value, help, ...(cli.repeat ? { multiple: true } : {}) }
}

/** The command line, parsed: each flag given, by name. */
export type Options = Readonly<Record<string, string | boolean | string[] | undefined>> & {
  readonly [K in keyof typeof OWN_OPTIONS]?: boolean
}

/** Options -> the action's inputs, so that the same validation (and messages) apply. */
export function toInputs(
  values: Options,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Partial<Record<InputName, string>> {
  const inputs: Partial<Record<InputName, string>> = { 'api-key': env[KEY_VARIABLE] ?? '' }
  for (const flag of INPUT_FLAGS) {
    const value = inputOf(flag, values[flag.flag], cwd)
    if (value !== undefined) inputs[flag.input] = value
  }
  return inputs
}

/** A flag's value as its input's text: a switch sets its value, repeats are lines. */
function inputOf(
  { flag, cli, switched }: InputFlag,
  value: Options[string],
  cwd: string,
): string | undefined {
  if (value === undefined || value === false) return undefined
  if ('switch' in cli) return switched
  const text = Array.isArray(value) ? value.join('\n') : String(value)
  return cli.fromFile === true ? fromFile(text, flag, cwd) : text
}

/** `@path` reads the value from a file (relative to `cwd`); anything else is the value itself. */
function fromFile(value: string, flag: string, cwd: string): string {
  if (!value.startsWith('@')) return value
  try {
    return readFileSync(path.resolve(cwd, value.slice(1)), 'utf8')
  } catch (error) {
    throw new InputError(`--${flag}: cannot read ${value.slice(1)}: ${toErrorMessage(error)}`)
  }
}
