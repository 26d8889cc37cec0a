/**
 * What the step takes from the runner and gives back to it, in one interface: `run()` reads its
 * inputs and environment and writes its log, outputs, summary and failure through a `Runner` only.
 * On the runner that is `actionsRunner()`, built on @actions/core (the one module that imports
 * it); the tests give `run()` a recording runner that prints what @actions/core would.
 */
import * as core from '@actions/core'
import type { Dispatcher } from 'undici'

export interface Runner {
  /** An input as the workflow gave it (`INPUT_<NAME>`), trimmed; `''` when not given. */
  getInput(name: string): string
  /** Masks a value in every later line of the log. */
  setSecret(secret: string): void
  setOutput(name: string, value: string): void
  info(message: string): void
  /** Shown only when the run has step debugging on. */
  debug(message: string): void
  /** An annotation. */
  warning(message: string): void
  /** An annotation. */
  error(message: string): void
  /** A collapsible group of log lines around `fn`. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Appends Markdown to the job summary. */
  appendSummary(markdown: string): Promise<void>
  /** Fails the step (exit code 1) with `message`, which `error` says how it came about. */
  setFailed(message: string, error?: unknown): void
  /** The step's environment: `GITHUB_*`, the proxy variables, the retry knob of the tests. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The workspace, where `files` and `resources` patterns are resolved. */
  readonly cwd: string
  /** Every request goes through it instead of the proxy agent built from `env` (tests). */
  readonly dispatcher?: Dispatcher
}

/** The runner of a real step: @actions/core, the process's environment and working directory. */
export function actionsRunner(): Runner {
  return {
    getInput: (name) => core.getInput(name),
    setSecret: (secret) => core.setSecret(secret),
    setOutput: (name, value) => core.setOutput(name, value),
    info: (message) => core.info(message),
    debug: (message) => core.debug(message),
    warning: (message) => core.warning(message),
    error: (message) => core.error(message),
    group: (name, fn) => core.group(name, fn),
    appendSummary: async (markdown) => {
      await core.summary.addRaw(markdown).write()
    },
    setFailed: (message) => core.setFailed(message),
    env: process.env,
    cwd: process.cwd(),
  }
}
