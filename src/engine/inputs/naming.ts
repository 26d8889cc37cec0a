/**
 * How the engine's messages name an input, in the words of the edge the inputs came from: the
 * action says `input 'create-missing'` and `set create-missing: true`, the CLI `--create-missing`
 * and `use --create-missing` (its naming is derived from the table's `cli` entries, in
 * src/cli/flags.ts). The edge gives its naming to `readSettings` and `execute`, which run with it
 * (an AsyncLocalStorage, so that two runs in one process keep their own); every message of the
 * engine that names an input goes through `inputName` or `setInput`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { InputName } from './table.js'

export interface InputNaming {
  /** The input that a problem is about, at its start: `input 'dataset'`, `--dataset`. */
  input(name: InputName): string
  /** The input named in passing: `'files'`, `--files`. */
  word(name: InputName): string
  /** The input with one of `values`: `as: community`, `--as community`. */
  given(name: InputName, ...values: string[]): string
  /**
   * What to write to give it one of `values`: `set if-no-files-found: warn or ignore`,
   * `use --if-no-files-found warn or ignore`.
   */
  set(name: InputName, ...values: string[]): string
}

/** The action's words: the inputs of action.yml as a workflow's `with:` gives them. */
const ACTION_NAMING: InputNaming = {
  input: (name) => `input '${name}'`,
  word: (name) => `'${name}'`,
  given: (name, ...values) => `${name}: ${values.join(' or ')}`,
  set: (name, ...values) => `set ${name}: ${values.join(' or ')}`,
}

const current = new AsyncLocalStorage<InputNaming>()

/** Runs `fn` with the edge's naming (the action's when none is given). */
export function withNaming<T>(naming: InputNaming | undefined, fn: () => T): T {
  return naming === undefined ? fn() : current.run(naming, fn)
}

/** `input 'dataset'` from the action, `--dataset` from the CLI. */
export function inputName(name: InputName): string {
  return (current.getStore() ?? ACTION_NAMING).input(name)
}

/** `'files'` from the action, `--files` from the CLI. */
export function inputWord(name: InputName): string {
  return (current.getStore() ?? ACTION_NAMING).word(name)
}

/** `as: community` from the action, `--as community` from the CLI. */
export function inputGiven(name: InputName, ...values: string[]): string {
  return (current.getStore() ?? ACTION_NAMING).given(name, ...values)
}

/** `set create-missing: true` from the action, `use --create-missing` from the CLI. */
export function setInput(name: InputName, ...values: string[]): string {
  return (current.getStore() ?? ACTION_NAMING).set(name, ...values)
}
