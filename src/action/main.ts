/**
 * The action's edge: inputs from the runner -> engine -> outputs, summary; the one place that fails
 * the step. Everything it takes from the runner or gives to it goes through a `Runner`
 * (runner.ts): workflow.ts on a real step, a recording runner in the tests.
 */
import { toErrorMessage } from '../datagouv/errors.js'
import { baseDelayFromEnv } from '../datagouv/retry.js'
import { BlockedError, execute, failureSummary, type Reporter } from '../engine/engine.js'
import { readSettings, type Settings } from '../engine/inputs.js'
import { periodicLines } from '../engine/progress.js'
import type { Report } from '../engine/report.js'
import { VERSION } from '../version.js'
import { commentOnPullRequest } from './comment.js'
import { runnerProvenance } from './provenance.js'
import { actionsRunner, type Runner } from './runner.js'

/**
 * One publication, on `runner`: the step's own by default (index.ts, and scripts/local-action.ts,
 * which imports this module and calls `run()`); a recording one in the tests.
 */
export async function run(runner: Runner = actionsRunner()): Promise<void> {
  // The key is masked before anything else can print it.
  const key = runner.getInput('api-key')
  if (key !== '') runner.setSecret(key)
  const token = runner.getInput('github-token')
  if (token !== '') runner.setSecret(token)
  let settings: Settings | undefined
  try {
    settings = readSettings((name) => runner.getInput(name))
    const { baseDelayMs } = baseDelayFromEnv(runner.env)
    const outcome = await execute(settings, runnerReporter(runner, settings), {
      cwd: runner.cwd,
      userAgent: `datagouv-publish-action/${VERSION} (+https://github.com/${runner.env.GITHUB_REPOSITORY ?? 'local'})`,
      provenance: runnerProvenance(runner.env),
      env: runner.env,
      ...(runner.http !== undefined ? { http: runner.http } : {}),
      ...(baseDelayMs !== undefined ? { retryBaseDelayMs: baseDelayMs } : {}),
      diff: true,
    })
    await writeReport(runner, outcome.report, settings)
    const failed = failureSummary(outcome)
    if (failed !== undefined) {
      for (const failure of outcome.report.failures) runner.error(failure)
      runner.setFailed(failed)
    }
  } catch (error) {
    // A stopped preflight still says what it knew: outputs and a summary listing every problem.
    if (error instanceof BlockedError)
      await writeReport(runner, error.report, settings).catch(() => undefined)
    runner.setFailed(toErrorMessage(error), error)
  }
}

/**
 * Outputs, the log's tables, the job summary and the pull request's comment: the one place they
 * are written.
 */
async function writeReport(runner: Runner, report: Report, settings?: Settings): Promise<void> {
  for (const [name, value] of Object.entries(report.outputs)) runner.setOutput(name, value)
  if (report.table !== '') runner.info(report.table)
  if (report.diffText !== '') runner.info(report.diffText)
  await runner.appendSummary(report.summary)
  if (settings !== undefined) await commentOnPullRequest(runner, settings, report.summary)
}

function runnerReporter(runner: Runner, settings: Settings): Reporter {
  const lines = periodicLines(settings.chunkSize)
  const info = (message: string): void => runner.info(message)
  return {
    info,
    debug: (message) => runner.debug(message),
    warning: (message) => runner.warning(message),
    group: (name, fn) => runner.group(name, fn),
    progress: (entry, sent) => lines(entry, sent, info),
  }
}
