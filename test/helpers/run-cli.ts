/**
 * The CLI as a user runs it: arguments, an environment, a working directory; its exit code and
 * what it printed. `runCli` calls `main()` (src/cli/main.ts) in this process with an environment
 * of its own; `runCliBundle` runs the bundle (dist/cli/index.js) as a child process with a clean
 * environment (test/bundle/ only).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dispatcher } from 'undici'
import { actionNode } from '../../scripts/run-action.js'
import { main } from '../../src/cli/main.js'
import { httpThrough } from './undici-http.js'

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/index.js')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd: string
  env?: Record<string, string>
  /** In process only: every request through it (test/helpers/undici-http.ts) instead of Node's http. */
  dispatcher?: Dispatcher
}

/** A short backoff unless the test says otherwise. */
const TEST_ENV = { DATAGOUV_PUBLISH_RETRY_BASE_MS: '50' }

export async function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...TEST_ENV, ...options.env },
    cwd: options.cwd,
    ...(options.dispatcher !== undefined ? { http: httpThrough(options.dispatcher) } : {}),
  })
  return { code, stdout, stderr }
}

export async function runCliBundle(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...TEST_ENV,
    ...options.env,
  }
  const child = spawn(actionNode(), [CLI, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  return { code, stdout, stderr }
}
