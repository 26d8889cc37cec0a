/**
 * What the step takes from the runner and gives back to it, in one interface: `run()` reads its
 * inputs and environment and writes its log, outputs, summary and failure through a `Runner` only.
 * On the runner that is `actionsRunner()`, built on workflow.ts (our own implementation of the
 * runner's protocol: inputs, workflow commands, the output and summary files); the tests give
 * `run()` a recording runner that prints what workflow.ts would.
 */
import type { Http } from '../datagouv/http.js'
import * as workflow from './workflow.js'

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
  /** Every request goes through it instead of `NodeHttp` built from `env` (tests). */
  readonly http?: Http
}

/** The runner of a real step: workflow.ts, the process's environment and working directory. */
export function actionsRunner(): Runner {
  const env = process.env
  return {
    getInput: (name) => workflow.getInput(env, name),
    setSecret: (secret) => workflow.setSecret(secret),
    setOutput: (name, value) => workflow.setOutput(env, name, value),
    info: (message) => workflow.info(message),
    debug: (message) => workflow.debug(message),
    warning: (message) => workflow.warning(message),
    error: (message) => workflow.error(message),
    group: (name, fn) => workflow.group(name, fn),
    appendSummary: (markdown) => workflow.appendSummary(env, markdown),
    setFailed: (message) => workflow.setFailed(message),
    env,
    cwd: process.cwd(),
  }
}
