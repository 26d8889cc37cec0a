/**
 * The part of the GitHub Actions runner protocol the step uses, written here rather than taken from
 * @actions/core: inputs from `INPUT_<NAME>` variables, workflow commands on stdout (`::name::data`,
 * for masks, log groups, debug lines and annotations), outputs and the job summary appended to the
 * files the runner names in `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`, the step's failure as the
 * exit code. Each function does what its namesake in @actions/core does for a string, down to the
 * escaping and line endings, so the runner sees the same bytes (test/workflow.test.ts).
 *
 * Why not @actions/core: it imports @actions/http-client (for OIDC tokens, which the step never
 * asks for), which loads undici as the module loads; on Node 24 importing @actions/core alone
 * takes the process from 42 to 73 MiB of RSS, and the step must stay under 100 MiB at its peak.
 *
 * Functions that read a variable take the environment as an argument: only the entry points read
 * the process's environment (test/architecture.test.ts), here src/action/runner.ts.
 */
import { randomUUID } from 'node:crypto'
import { constants, existsSync, appendFileSync } from 'node:fs'
import { access, appendFile } from 'node:fs/promises'
import { EOL } from 'node:os'

type Env = Readonly<Record<string, string | undefined>>

/**
 * The input `name` as the runner sets it: `INPUT_` and the name upper-cased with its spaces made
 * `_` (hyphens are kept), trimmed; `''` when not given.
 */
export function getInput(env: Env, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim()
}

/** Asks the runner to mask `secret` in every later line of the log. */
export function setSecret(secret: string): void {
  command('add-mask', {}, secret)
}

/**
 * Sets the step's output `name`: a `name<<DELIMITER` block appended to the `GITHUB_OUTPUT` file,
 * or, where the runner does not name one (an old runner, a run by hand), the deprecated
 * `::set-output` command on stdout.
 */
export function setOutput(env: Env, name: string, value: string): void {
  const file = env.GITHUB_OUTPUT
  if (!file) {
    // A line break first, as @actions/core writes it: a command is read only at the start of a
    // line, and what was printed last may not have ended its own.
    process.stdout.write(EOL)
    command('set-output', { name }, value)
    return
  }
  // A file the runner did not create means a wrong variable: fail rather than create it.
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`)
  appendFileSync(file, outputBlock(name, value) + EOL, 'utf8')
}

/**
 * One output in the heredoc form of the `GITHUB_OUTPUT` file, closed by a delimiter nobody can
 * guess (a random UUID), so that a value cannot end the block early and set another output.
 */
export function outputBlock(
  name: string,
  value: string,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  // Should never happen with a fresh UUID; if it does, writing the block would let the value
  // forge outputs.
  if (name.includes(delimiter))
    throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`)
  if (value.includes(delimiter))
    throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`)
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}`
}

/** A plain line in the log. */
export function info(message: string): void {
  process.stdout.write(message + EOL)
}

/** A line the runner shows only when the run has step debugging on. */
export function debug(message: string): void {
  command('debug', {}, message)
}

/** A warning annotation. */
export function warning(message: string): void {
  command('warning', {}, message)
}

/** An error annotation. */
export function error(message: string): void {
  command('error', {}, message)
}

/** The log lines printed while `fn` runs, folded under `name`; the group is closed even if it throws. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  command('group', {}, name)
  try {
    return await fn()
  } finally {
    command('endgroup', {}, '')
  }
}

/** Appends Markdown to the job summary, the file the runner names in `GITHUB_STEP_SUMMARY`. */
export async function appendSummary(env: Env, markdown: string): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY
  if (!file)
    throw new Error(
      'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.',
    )
  try {
    await access(file, constants.R_OK | constants.W_OK)
  } catch {
    throw new Error(
      `Unable to access summary file: '${file}'. Check if the file has correct read/write permissions.`,
    )
  }
  await appendFile(file, markdown, 'utf8')
}

/** Fails the step: exit code 1 when the process ends, and `message` as an error annotation. */
export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

/**
 * `::name key=value,key=value::data` on a line of its own. Properties with an empty value are left
 * out (the space before them is not: @actions/core writes `::set-output ::value` for an empty name).
 */
function command(name: string, properties: Record<string, string>, data: string): void {
  const entries = Object.entries(properties)
  const list = entries
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(',')
  process.stdout.write(
    `::${name}${entries.length > 0 ? ` ${list}` : ''}::${escapeData(data)}${EOL}`,
  )
}

/**
 * The runner reads a command up to the end of its line: a line break in the data would end it
 * early, so it is percent-encoded, and `%` itself first so that the runner's decoding is exact.
 */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** A property's value also ends at `,` (the next property) or `:` (`::`, the data). */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}
