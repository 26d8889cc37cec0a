/**
 * Runs the action from its TypeScript sources with @github/local-action, which stubs @actions/core
 * (inputs from a dotenv file, outputs printed as a table), for stepping through it in a debugger.
 *
 *   npm run local-action              # inputs from .env, else from .env.example
 *   npm run local-action -- my.env    # inputs from my.env
 *
 * The entrypoint is src/action/main.ts: local-action imports it and calls its exported run() (src/action/index.ts
 * calls run() itself and exports nothing). The job summary goes to .tmp/local-action-summary.md
 * unless the dotenv file sets GITHUB_STEP_SUMMARY. local-action exits 0 even when the action
 * fails: read the log. For the bundle exactly as the runner runs it, use `npm run demo` or
 * `node --env-file=.env dist/index.js`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'node_modules/@github/local-action/bin/local-action.js')

if (!existsSync(bin)) fail('@github/local-action is not installed: run `npm ci` first.')

let envFile = process.argv[2] ?? '.env'
if (!existsSync(path.resolve(root, envFile))) {
  if (process.argv[2] !== undefined) fail(`${envFile}: no such file.`)
  envFile = '.env.example'
  console.log('No .env: using .env.example (copy it to .env to change the inputs).')
}
const env = parseEnv(readFileSync(path.resolve(root, envFile), 'utf8'))

// An unreachable local emulator would only show after every retry: say so at once.
const apiUrl = env['INPUT_API-URL'] ?? ''
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

// local-action fails the summary write when GITHUB_STEP_SUMMARY is unset: give it a fresh file.
const summary = path.join(root, '.tmp', 'local-action-summary.md')
const ownSummary =
  env['GITHUB_STEP_SUMMARY'] === undefined && process.env['GITHUB_STEP_SUMMARY'] === undefined
if (ownSummary) {
  mkdirSync(path.dirname(summary), { recursive: true })
  writeFileSync(summary, '')
}

const result = spawnSync(process.execPath, [bin, 'run', '.', 'src/action/main.ts', envFile], {
  cwd: root,
  stdio: 'inherit',
  env: ownSummary ? { ...process.env, GITHUB_STEP_SUMMARY: summary } : process.env,
})
if (result.error !== undefined) fail(`could not start local-action: ${result.error.message}`)
if (ownSummary) console.log(`Job summary: ${path.relative(root, summary)}`)
process.exitCode = result.status ?? 1

function fail(message: string): never {
  console.error(`local-action: ${message}`)
  process.exit(1)
}
