/**
 * A GitHub workflow of the README, or a block of its steps, run step by step as the runner would:
 * jobs in the order of their `needs`, one per combination of a `strategy.matrix`, each in a fresh
 * workspace; `${{ }}` evaluated from the table (test/helpers/readme/expressions.ts, world.ts);
 * `run:` steps by bash; the action's steps by its `run()` in this process on the recording runner
 * (test/helpers/runner.ts); `actions/checkout`, `actions/upload-artifact` and
 * `actions/download-artifact` by what they do to the files. A key, an action or a construct this
 * does not know throws, naming it.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { currentReferences, root } from '../../../scripts/release-refs.js'
import { readSettings } from '../../../src/engine/inputs.js'
import { runInProcess } from '../runner.js'
import { condition, interpolate, type Contexts } from './expressions.js'
import type { Scene } from './scene.js'
import { writeCheckout } from './scene.js'
import { EVENTS, PREAMBLE, RUN, SECRETS } from './world.js'

type Step = Record<string, unknown>
type Job = Record<string, unknown>

const WORKFLOW_KEYS = new Set(['name', 'on', 'permissions', 'env', 'concurrency', 'jobs'])
const JOB_KEYS = new Set([
  'name',
  'runs-on',
  'needs',
  'strategy',
  'permissions',
  'environment',
  'env',
  'steps',
])
const STEP_KEYS = new Set(['name', 'id', 'if', 'uses', 'with', 'run', 'env'])

/** A workflow (`on:` and `jobs:`). */
export async function runWorkflow(workflow: Record<string, unknown>, scene: Scene): Promise<void> {
  known(workflow, WORKFLOW_KEYS, 'the workflow')
  const trigger = firstTrigger(workflow.on)
  const jobs = workflow.jobs as Record<string, Job>
  for (const name of jobOrder(jobs)) {
    const job = jobs[name] as Job
    known(job, JOB_KEYS, `job '${name}'`)
    for (const matrix of combinations(job.strategy)) {
      const label = [name, ...Object.values(matrix).map(String)].join(' ')
      await runJob(label, job.steps as Step[], scene, {
        trigger,
        matrix,
        env: { ...strings(workflow.env), ...strings(job.env) },
      })
    }
  }
}

/** A block of steps alone: in a job after the table's preamble (a checkout and the build). */
export async function runSteps(steps: Step[], scene: Scene): Promise<void> {
  await runJob('steps', [...PREAMBLE, ...steps], scene, { trigger: 'push', matrix: {}, env: {} })
}

/**
 * What can be checked of the action's steps of a workflow or a block of steps that cannot run here
 * (world.ts `SectionSpec.notRun`): every step's inputs, evaluated from the table, pass the action's
 * validation (readSettings) as the action would read them.
 */
export async function checkWithoutRunning(doc: unknown): Promise<number> {
  const workflow = (Array.isArray(doc) ? { jobs: { steps: { steps: doc } } } : doc) as {
    on?: unknown
    jobs?: Record<string, Job>
  }
  const github = githubContext(firstTrigger(workflow.on), '/nowhere')
  let checked = 0
  for (const job of Object.values(workflow.jobs ?? {}))
    for (const matrix of combinations(job.strategy))
      for (const step of (job.steps ?? []) as Step[]) {
        const uses = /^([\w.-]+\/[\w.-]+)@/.exec(String(step.uses))?.[1]
        if (uses !== currentReferences().repository) continue
        const contexts = { github, secrets: SECRETS, matrix, env: strings(job.env), steps: {} }
        const inputs: Record<string, string> = {
          ...(await expressionDefaults(contexts)),
          ...Object.fromEntries(
            Object.entries(step.with ?? {}).map(([k, v]) => [
              k,
              interpolate(scalar(v, k), contexts),
            ]),
          ),
        }
        readSettings((name) => inputs[name] ?? '')
        checked++
      }
  return checked
}

/** A proxy variable in a step's environment: the stand-in dispatcher would silently bypass it. */
function refuseProxy(env: Record<string, string>): void {
  const proxy = Object.keys(env).filter((k) => /^(https?|all|no)_proxy$/i.test(k))
  if (proxy.length > 0)
    throw new Error(
      `${proxy.join(', ')}: every request here goes through the stand-in dispatcher, not a proxy; ` +
        `mark the section notRun in world.ts (its inputs are then checked without running)`,
    )
}

interface JobContext {
  trigger: string
  matrix: Record<string, unknown>
  env: Record<string, string>
}

async function runJob(label: string, steps: Step[], scene: Scene, job: JobContext): Promise<void> {
  const workspace = await scene.folder(label, false)
  const github = githubContext(job.trigger, workspace)
  // The runner writes the event's payload to a file: GITHUB_EVENT_PATH (runnerEnv).
  await writeFile(`${workspace}.event.json`, JSON.stringify(github.event))
  const stepsContext: Record<string, unknown> = {}
  const status = { failed: false }
  scene.transcript.push(`=== job ${label} (${job.trigger})`)
  for (const [index, step] of steps.entries()) {
    known(step, STEP_KEYS, `step ${index + 1} of ${label}`)
    const env = { ...job.env }
    const contexts = (): Contexts => ({
      github,
      secrets: SECRETS,
      matrix: job.matrix,
      steps: stepsContext,
      env,
    })
    for (const [name, value] of Object.entries(strings(step.env)))
      env[name] = interpolate(value, contexts())
    if (!condition(step.if as string | undefined, contexts(), status)) {
      scene.transcript.push(`--- step ${index + 1} skipped (if: ${String(step.if)})`)
      continue
    }
    const result = await runStep(step, { scene, workspace, github, env, contexts: contexts() })
    if (typeof step.id === 'string')
      stepsContext[step.id] = {
        outputs: result.outputs,
        outcome: result.ok ? 'success' : 'failure',
        conclusion: result.ok ? 'success' : 'failure',
      }
    if (!result.ok) status.failed = true
  }
  if (status.failed) throw new Error(`job ${label} failed:\n${scene.transcript.join('\n')}`)
}

interface StepRun {
  scene: Scene
  workspace: string
  github: Record<string, unknown>
  env: Record<string, string>
  contexts: Contexts
}

async function runStep(
  step: Step,
  run: StepRun,
): Promise<{ ok: boolean; outputs: Record<string, string> }> {
  const { scene } = run
  if (typeof step.run === 'string') return shellStep(interpolate(step.run, run.contexts), run)
  const uses = String(step.uses)
  const withs = Object.fromEntries(
    Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(scalar(v, k), run.contexts)]),
  )
  scene.transcript.push(`--- ${uses} ${JSON.stringify(withs)}`)
  const action = /^([\w.-]+\/[\w.-]+)@/.exec(uses)?.[1]
  if (uses === './' || action === currentReferences().repository) {
    refuseProxy(run.env)
    const inputs = { ...(await expressionDefaults(run.contexts)), ...withs }
    const result = await runInProcess(
      { ...inputs, 'api-url': scene.apiUrl(withs['api-url']) },
      { cwd: run.workspace, env: { ...runnerEnv(run), ...run.env }, dispatcher: scene.dispatcher },
    )
    scene.transcript.push(result.stdout, `(exit ${result.code})`)
    const warnings = scene.unexpectedWarnings(result.stdout)
    if (warnings.length > 0)
      scene.transcript.push(`(warnings the table does not expect for this section:)`, ...warnings)
    return { ok: result.code === 0 && warnings.length === 0, outputs: result.outputs }
  }
  const simulated = SIMULATED[action ?? '']
  if (simulated === undefined)
    throw new Error(
      `uses: ${uses}: no stand-in for this action (known: ${Object.keys(SIMULATED).join(', ')})`,
    )
  await simulated(withs, run)
  return { ok: true, outputs: {} }
}

/**
 * The inputs whose action.yml default is an expression (`${{ github.token }}`): the runner
 * evaluates it for a step that leaves the input out.
 */
async function expressionDefaults(contexts: Contexts): Promise<Record<string, string>> {
  const action = parse(await readFile(path.join(root, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  return Object.fromEntries(
    Object.entries(action.inputs).flatMap(([name, input]) =>
      input.default?.includes('${{') === true ? [[name, interpolate(input.default, contexts)]] : [],
    ),
  )
}

/** What the actions the examples use besides this one do to the job's files. */
const SIMULATED: Readonly<
  Record<string, (withs: Record<string, string>, run: StepRun) => Promise<void>>
> = {
  /** The workspace becomes the table's repository. */
  'actions/checkout': async (withs, run) => {
    known(withs, new Set(), 'actions/checkout')
    await writeCheckout(run.workspace)
  },
  /** The file or folder `path` is kept under `name` for the jobs that follow. */
  'actions/upload-artifact': async (withs, run) => {
    known(withs, new Set(['name', 'path']), 'actions/upload-artifact')
    const { name = 'artifact', path: source = '' } = withs
    if (/[*?[\n]/.test(source)) throw new Error(`upload-artifact: path '${source}': one path only`)
    const from = path.join(run.workspace, source)
    const into = path.join(run.scene.base, 'artifacts', name)
    await mkdir(into, { recursive: true })
    await cp(from, (await stat(from)).isDirectory() ? into : path.join(into, path.basename(from)), {
      recursive: true,
    })
  },
  /** Every artifact (or `name`) into `path`, each in a folder of its name unless merged. */
  'actions/download-artifact': async (withs, run) => {
    known(withs, new Set(['name', 'path', 'merge-multiple']), 'actions/download-artifact')
    const store = path.join(run.scene.base, 'artifacts')
    const names = withs.name !== undefined ? [withs.name] : await readdir(store)
    const into = path.join(run.workspace, withs.path ?? '.')
    const merged = withs.name !== undefined || withs['merge-multiple'] === 'true'
    for (const name of names)
      await cp(path.join(store, name), merged ? into : path.join(into, name), { recursive: true })
  },
}

/** A `run:` step: bash -e, as the runner runs it on Linux, with `GITHUB_OUTPUT`. */
async function shellStep(
  script: string,
  run: StepRun,
): Promise<{ ok: boolean; outputs: Record<string, string> }> {
  const outputFile = path.join(run.workspace, '..', `output-${Date.now()}-${Math.random()}`)
  await writeFile(outputFile, '')
  const env = { ...baseEnv(), ...runnerEnv(run), ...run.env, GITHUB_OUTPUT: outputFile }
  run.scene.transcript.push(`--- run: ${script}`)
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'bash',
      ['--noprofile', '--norc', '-e', '-c', script],
      { cwd: run.workspace, env },
    )
    run.scene.transcript.push(stdout + stderr)
    return { ok: true, outputs: stepOutputs(await readFile(outputFile, 'utf8')) }
  } catch (error) {
    const {
      stdout = '',
      stderr = '',
      code,
    } = error as {
      stdout?: string
      stderr?: string
      code?: number
    }
    run.scene.transcript.push(`${stdout}${stderr}(exit ${String(code)})`)
    return { ok: false, outputs: {} }
  }
}

/** `name=value` lines and `name<<DELIMITER` blocks of a `GITHUB_OUTPUT` file. */
function stepOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const block = /^([^=<]+)<<(.+)$/.exec(line)
    if (block) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== block[2]; i++) value.push(lines[i] ?? '')
      outputs[block[1] ?? ''] = value.join('\n')
    } else if (line.includes('='))
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return outputs
}

/** The `github` context of a run triggered by `trigger` (world.ts `EVENTS`, `RUN`). */
function githubContext(trigger: string, workspace: string): Record<string, unknown> {
  const event = EVENTS[trigger]
  if (event === undefined)
    throw new Error(
      `on: ${trigger}: no event payload in the table (known: ${Object.keys(EVENTS).join(', ')})`,
    )
  const refName = event.ref.replace(/^refs\/(heads|tags)\//, '')
  return {
    event_name: trigger,
    event: { repository: { full_name: RUN.repository }, ...event.payload },
    ref: event.ref,
    ref_name: refName,
    ref_type: event.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: RUN.sha,
    repository: RUN.repository,
    repository_owner: RUN.repository.split('/')[0],
    server_url: 'https://github.com',
    api_url: 'https://api.github.com',
    run_id: RUN.runId,
    run_number: '7',
    run_attempt: '1',
    workflow: RUN.workflow,
    actor: 'octocat',
    token: RUN.token,
    workspace,
  }
}

/** The variables the runner sets for every step, from the `github` context. */
function runnerEnv(run: StepRun): Record<string, string> {
  const g = run.github as Record<string, string>
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: g.event_name ?? '',
    GITHUB_REF: g.ref ?? '',
    GITHUB_REF_NAME: g.ref_name ?? '',
    GITHUB_REF_TYPE: g.ref_type ?? '',
    GITHUB_SHA: g.sha ?? '',
    GITHUB_REPOSITORY: g.repository ?? '',
    GITHUB_REPOSITORY_OWNER: g.repository_owner ?? '',
    GITHUB_SERVER_URL: g.server_url ?? '',
    GITHUB_API_URL: g.api_url ?? '',
    GITHUB_RUN_ID: g.run_id ?? '',
    GITHUB_RUN_NUMBER: g.run_number ?? '',
    GITHUB_RUN_ATTEMPT: g.run_attempt ?? '',
    GITHUB_WORKFLOW: g.workflow ?? '',
    GITHUB_ACTOR: g.actor ?? '',
    GITHUB_WORKSPACE: run.workspace,
    GITHUB_EVENT_PATH: `${run.workspace}.event.json`,
    // A short backoff, as the other tests use (test/helpers/runner.ts).
    DATAGOUV_PUBLISH_RETRY_BASE_MS: '50',
  }
}

/** What a shell needs from this process: where commands are, a home. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }
}

/** The first trigger of `on:`; `push` for a README workflow shown without its `on:`. */
function firstTrigger(on: unknown): string {
  if (on === undefined) return 'push'
  if (typeof on === 'string') return on
  if (Array.isArray(on)) return String(on[0])
  if (on !== null && typeof on === 'object') return Object.keys(on)[0] ?? ''
  throw new Error('the workflow has no `on:`')
}

/** The jobs in an order where each comes after its `needs`. */
function jobOrder(jobs: Record<string, Job>): string[] {
  const order: string[] = []
  const visit = (name: string, chain: string[]): void => {
    if (order.includes(name)) return
    const job = jobs[name]
    if (job === undefined) throw new Error(`needs: no job '${name}'`)
    if (chain.includes(name)) throw new Error(`needs: a cycle through '${name}'`)
    const needs = job.needs === undefined ? [] : [job.needs].flat().map(String)
    for (const need of needs) visit(need, [...chain, name])
    order.push(name)
  }
  for (const name of Object.keys(jobs)) visit(name, [])
  return order
}

/** Every combination of a `strategy.matrix` of lists (one empty one without a matrix). */
function combinations(strategy: unknown): Array<Record<string, unknown>> {
  if (strategy === undefined) return [{}]
  const matrix = (strategy as { matrix?: Record<string, unknown> }).matrix ?? {}
  known(
    strategy as Record<string, unknown>,
    new Set(['matrix', 'fail-fast', 'max-parallel']),
    'strategy',
  )
  let all: Array<Record<string, unknown>> = [{}]
  for (const [key, values] of Object.entries(matrix)) {
    if (!Array.isArray(values)) throw new Error(`matrix.${key}: only lists are run here`)
    all = all.flatMap((combination) => values.map((v: unknown) => ({ ...combination, [key]: v })))
  }
  return all
}

function known(object: object, keys: ReadonlySet<string>, where: string): void {
  const unknown = Object.keys(object).filter((k) => !keys.has(k))
  if (unknown.length > 0)
    throw new Error(
      `${where}: ${unknown.join(', ')} not run here (known: ${[...keys].join(', ') || 'none'})`,
    )
}

function strings(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k, scalar(v, k)]),
  )
}

/** A `with:` or `env:` value as the runner passes it: YAML scalars as text. */
function scalar(value: unknown, name: string): string {
  if (value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new Error(`${name}: a mapping or list`)
}
