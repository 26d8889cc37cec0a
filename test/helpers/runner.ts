/**
 * The action's `run()` (src/action/main.ts) in this process, on a recording runner that prints
 * what src/action/workflow.ts prints on a real runner: `::warning::…`, `::group::…`, `::error::…`
 * commands escaped as it escapes them, info lines as they are, outputs in the `GITHUB_OUTPUT` file
 * format, the summary as appended. A run gives the same `ActionRun` as the bundle run as a child
 * process (scripts/run-action.ts), so an assertion on `stdout`, `outputs`, `summary` or `code`
 * means the same thing either way; test/runner.test.ts holds the recording to workflow.ts's own
 * output.
 *
 * Its inputs and environment are its own (nothing is read from or written to `process.env`), so
 * runs in one test file cannot leak into each other.
 */
import { randomUUID } from 'node:crypto'
import type { Dispatcher } from 'undici'
import { parseOutputFile, type ActionRun } from '../../scripts/run-action.js'
import { run } from '../../src/action/main.js'
import type { Runner } from '../../src/action/runner.js'
import { httpThrough } from './undici-http.js'

/** What every test run sees unless it says otherwise: a runner's variables, a short backoff. */
const RUNNER_ENV: Readonly<Record<string, string>> = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'example/publisher',
  DATAGOUV_PUBLISH_RETRY_BASE_MS: '50',
}

export interface InProcessOptions {
  cwd: string
  /** Added to RUNNER_ENV; the inputs are added as `INPUT_<NAME>` variables, as the runner does. */
  env?: Record<string, string>
  /** Every request through it (test/helpers/undici-http.ts) instead of Node's http. */
  dispatcher?: Dispatcher
}

/** Runs the action in this process with `inputs`, as the runner would give them. */
export async function runInProcess(
  inputs: Record<string, string>,
  options: InProcessOptions,
): Promise<ActionRun> {
  const env: Record<string, string> = { ...RUNNER_ENV, ...options.env }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const recording = recordingRunner({
    env,
    cwd: options.cwd,
    ...(options.dispatcher !== undefined ? { dispatcher: options.dispatcher } : {}),
  })
  await run(recording.runner)
  return recording.result()
}

export interface Recording {
  runner: Runner
  /** What a user of the step could see so far, as the bundle's run reports it. */
  result(): ActionRun
}

/** A runner that records, formatted as @actions/core writes to stdout and to its files. */
export function recordingRunner(options: {
  env: Record<string, string>
  cwd: string
  dispatcher?: Dispatcher
}): Recording {
  let stdout = ''
  let outputFile = ''
  let summary = ''
  let code = 0
  const print = (line: string): void => {
    stdout += `${line}\n`
  }
  const command = (name: string, message = ''): void => print(`::${name}::${escapeData(message)}`)
  const runner: Runner = {
    getInput: (name) =>
      (options.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim(),
    setSecret: (secret) => command('add-mask', secret),
    setOutput: (name, value) => {
      outputFile += keyValueMessage(name, value)
    },
    info: print,
    debug: (message) => command('debug', message),
    warning: (message) => command('warning', message),
    error: (message) => command('error', message),
    async group(name, fn) {
      command('group', name)
      try {
        return await fn()
      } finally {
        command('endgroup')
      }
    },
    appendSummary: async (markdown) => {
      summary += markdown
    },
    setFailed(message, error) {
      code = 1
      command('error', message)
      // Shown with a failing test only (vitest's `silent: 'passed-only'`): where it was thrown, in src/.
      if (error instanceof Error) console.error('run() failed the step with:', error)
    },
    env: options.env,
    cwd: options.cwd,
    ...(options.dispatcher !== undefined ? { http: httpThrough(options.dispatcher) } : {}),
  }
  return {
    runner,
    result: () => ({
      code,
      stdout,
      stderr: '',
      outputs: parseOutputFile(outputFile),
      summary,
      everything: [stdout, '', outputFile, summary].join('\n'),
    }),
  }
}

/** @actions/core's escaping of a command's message. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** One output as @actions/core appends it to the `GITHUB_OUTPUT` file. */
function keyValueMessage(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`
  if (name.includes(delimiter) || value.includes(delimiter))
    throw new Error(`Unexpected input: name or value contains the delimiter ${delimiter}`)
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
}
