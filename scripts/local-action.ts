/**
 * Runs the action from its TypeScript sources in this process, as the runner runs its step: the
 * inputs and variables of a dotenv file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY naming files that
 * exist; then prints the outputs as a table and where the job summary is, and exits with the
 * action's exit code (1 when the action fails, as the step would).
 *
 *   npm run local-action              # inputs from .env, else from .env.example
 *   npm run local-action -- my.env    # inputs from my.env
 *   node --inspect-brk --import tsx scripts/local-action.ts   # the same, in a debugger
 *
 * The action is `run()` of src/action/main.ts on `actionsRunner()`, the runner of a real step
 * (src/action/workflow.ts), so the log, outputs and summary are the bytes the runner would see.
 * The inputs are the dotenv file's `INPUT_*` only, and its values win over the shell's. The outputs
 * and the summary go to fresh files, .tmp/local-action-outputs.txt and
 * .tmp/local-action-summary.md, unless the dotenv file names others; the shell's GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY are ignored: in a CI step they name the CI job's own files, which a local
 * run must not write into. For the bundle exactly as the runner runs it, use `npm run demo` or
 * `node --env-file=.env dist/index.js`.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import { run } from '../src/action/main.js'
import { actionsRunner } from '../src/action/runner.js'
import { parseOutputFile } from './run-action.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

let envFile = process.argv[2] ?? '.env'
if (!existsSync(path.resolve(root, envFile))) {
  if (process.argv[2] !== undefined) fail(`${envFile}: no such file.`)
  envFile = '.env.example'
  console.log('No .env: using .env.example (copy it to .env to change the inputs).')
}
const dotenv = parseEnv(readFileSync(path.resolve(root, envFile), 'utf8'))

// An unreachable local emulator would only show after every retry: say so at once.
const apiUrl = dotenv['INPUT_API-URL'] ?? ''
if (/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/.test(apiUrl)) {
  const origin = new URL(apiUrl).origin
  const reachable = await fetch(`${origin}/api/1/datasets/extensions/`, {
    signal: AbortSignal.timeout(3000),
  }).then(
    (response) => response.ok,
    () => false,
  )
  if (!reachable)
    fail(
      `Nothing answers at ${origin}: start the emulator in another terminal with \`npm run emulator\`.`,
    )
}

// The step's environment: the shell's, without its inputs and runner files, then the dotenv file's.
for (const name of Object.keys(process.env))
  if (name.startsWith('INPUT_') || name === 'GITHUB_OUTPUT' || name === 'GITHUB_STEP_SUMMARY')
    delete process.env[name]
Object.assign(process.env, dotenv)
process.chdir(root)
const outputFile = runnerFile('GITHUB_OUTPUT', '.tmp/local-action-outputs.txt')
const summaryFile = runnerFile('GITHUB_STEP_SUMMARY', '.tmp/local-action-summary.md')
// A file the dotenv file names may hold earlier runs: only what this run appends is its own.
const outputsBefore = outputFile === undefined ? 0 : readFileSync(outputFile).length

try {
  await run(actionsRunner())
} catch (error) {
  // run() fails the step itself; a throw out of it is a bug, which fails the run all the same.
  console.error(error)
  process.exitCode = 1
}

console.log()
if (outputFile !== undefined) {
  const outputs = parseOutputFile(readFileSync(outputFile).subarray(outputsBefore).toString('utf8'))
  console.log(`Outputs (${path.relative(root, path.resolve(outputFile))}):`)
  console.log(outputTable(outputs))
}
if (summaryFile !== undefined)
  console.log(`Job summary: ${path.relative(root, path.resolve(summaryFile))}`)
console.log(`Exit code: ${Number(process.exitCode ?? 0)}`)

/**
 * The file the runner names in `variable`: the dotenv file's, created if missing (the runner
 * always creates it), else `fresh`, emptied. `undefined` when the dotenv file sets the variable
 * empty, to see what the action does without it.
 */
function runnerFile(variable: string, fresh: string): string | undefined {
  const given = dotenv[variable]
  if (given === '') return undefined
  const file = given ?? fresh
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  if (given === undefined) writeFileSync(file, '')
  else closeSync(openSync(file, 'a'))
  process.env[variable] = file
  return file
}

/** Name and value in two columns; a value's later lines stay in its column. */
function outputTable(outputs: Record<string, string>): string {
  const names = Object.keys(outputs)
  if (names.length === 0) return '  (none)'
  const width = Math.max('Output'.length, ...names.map((name) => name.length))
  const rows = [['Output', 'Value'], ['-'.repeat(width), '-----'], ...Object.entries(outputs)]
  return rows
    .map(([name = '', value = '']) =>
      value
        .split('\n')
        .map((line, i) => `  ${(i === 0 ? name : '').padEnd(width)}  ${line}`.trimEnd())
        .join('\n'),
    )
    .join('\n')
}

function fail(message: string): never {
  console.error(`local-action: ${message}`)
  process.exit(1)
}
