/**
 * Runs the bundled action (`dist/index.js`) as a child process the way the GitHub runner does:
 * inputs as `INPUT_<NAME>` variables (upper-cased, hyphens kept), outputs through the file named by
 * `GITHUB_OUTPUT`, the job summary through `GITHUB_STEP_SUMMARY`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js')

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** stdout + stderr + outputs + summary: everything a user could see. */
  everything: string
}

export interface RunOptions {
  cwd: string
  env?: Record<string, string>
  /** Node binary; defaults to $ACTION_NODE, else the one running the tests. */
  node?: string
  /** Another build of the action than dist/index.js (a benchmark's earlier bundle). */
  script?: string
  /**
   * Called with the child once spawned, the leader of a process group of its own: a test can
   * kill that group (`process.kill(-child.pid, 'SIGKILL')`) as a cancelled job's runner does.
   */
  onSpawn?: (child: ChildProcess) => void
}

export async function runAction(
  inputs: Record<string, string>,
  options: RunOptions,
): Promise<ActionRun> {
  const work = await mkdtemp(path.join(tmpdir(), 'action-run-'))
  const outputFile = path.join(work, 'output')
  const summaryFile = path.join(work, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('INPUT_') && !/^(https?|no|all)_proxy$/i.test(name))
      env[name] = value
  }
  Object.assign(env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: work,
    GITHUB_REPOSITORY: 'example/publisher',
    DATAGOUV_PUBLISH_RETRY_BASE_MS: '50',
    ...options.env,
  })
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  try {
    const child = spawn(options.node ?? actionNode(), [options.script ?? DIST], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.onSpawn !== undefined,
    })
    options.onSpawn?.(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    const outputText = await readFile(outputFile, 'utf8')
    const summary = await readFile(summaryFile, 'utf8')
    const outputs = parseOutputFile(outputText)
    return {
      code,
      stdout,
      stderr,
      outputs,
      summary,
      everything: [stdout, stderr, outputText, summary].join('\n'),
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * The Node binary that runs the bundles: $ACTION_NODE when set (CI runs the integration tests a
 * second time with the runner's Node 24 this way), else the one running this process.
 */
export function actionNode(): string {
  return process.env.ACTION_NODE || process.execPath
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as src/action/workflow.ts writes them. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '')
    if (match === null) continue
    const [, name, delimiter] = match as unknown as [string, string, string]
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    outputs[name] = value.join('\n')
  }
  return outputs
}
