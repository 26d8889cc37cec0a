/**
 * Inputs -> Settings. The inputs are the table of inputs/table.ts, keyed by their action.yml names;
 * `''` means "not given", so defaults apply; every problem names its input (and the entry) and the
 * accepted values, and all are reported together.
 */
import { InputError } from './inputs/error.js'
import {
  INPUT_NAMES,
  INPUTS,
  type InputName,
  type InputSpec,
  type Settings,
} from './inputs/table.js'
import { inputName, inputWord, withNaming, type InputNaming } from './inputs/naming.js'
import { isTrue } from './inputs/values.js'

export { InputError } from './inputs/error.js'
export {
  inputGiven,
  inputName,
  inputWord,
  setInput,
  withNaming,
  type InputNaming,
} from './inputs/naming.js'
export {
  parseResources,
  type DatasetMetadata,
  type EntryMetadata,
  type ExtraValue,
  type ResourceEntrySpec,
} from './inputs/entries.js'
export {
  INPUT_NAMES,
  INPUTS,
  type CliFlag,
  type IfNoFilesFound,
  type IfUnchanged,
  type InputName,
  type InputSpec,
  type Settings,
} from './inputs/table.js'

/** How an edge words the problems that depend on where the inputs come from. */
export interface SettingsMessages {
  /** The problem line when there is no key and no dry run; the action's wording by default. */
  missingKey?: string
  /** How messages name the inputs (naming.ts); the action's words by default. */
  naming?: InputNaming
}

/**
 * Reads every input through `getInput` (core.getInput in the action) and validates them together.
 */
export function readSettings(
  getInput: (name: InputName) => string,
  messages: SettingsMessages = {},
): Settings {
  return withNaming(messages.naming, () => validate(getInput, messages))
}

function validate(getInput: (name: InputName) => string, messages: SettingsMessages): Settings {
  const raw = new Map(
    INPUT_NAMES.map((name) => {
      const value = getInput(name).trim()
      return [name, value === '' ? (defaultOf(name) ?? '') : value]
    }),
  )
  const problems: string[] = []
  if (raw.get('api-key') === '' && !isTrue(raw.get('dry-run'))) {
    problems.push(
      messages.missingKey ??
        `${inputName('api-key')} is required unless ${inputWord('dry-run')} is true (store the key as a secret: api-key: \${{ secrets.DATAGOUV_API_KEY }})`,
    )
  }
  const settings: Record<string, unknown> = {}
  for (const name of INPUT_NAMES) {
    const { field, parse } = INPUTS[name]
    const result = parse(name).safeParse(raw.get(name))
    if (result.success) settings[field] = result.data
    else problems.push(...result.error.issues.map((issue) => issue.message))
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'))
  return somethingToPublish(settings as Settings)
}

function defaultOf(name: InputName): string | undefined {
  const spec: InputSpec = INPUTS[name]
  return spec.default
}

function somethingToPublish(settings: Settings): Settings {
  const { files, resources, datasetMetadata, remove } = settings
  if (
    files.length > 0 ||
    resources.length > 0 ||
    datasetMetadata !== undefined ||
    remove.length > 0
  )
    return settings
  throw new InputError(
    `nothing to publish: give ${inputWord('files')} (files or globs), ${inputWord('resources')} ` +
      `(entries with a path or a url), ${inputWord('dataset-metadata')} or ${inputWord('remove')}`,
  )
}
