/**
 * The action's edge: inputs from the runner -> engine -> outputs, summary; the one place that fails
 * the step.
 */
import * as core from '@actions/core'
import { toErrorMessage } from '../datagouv/errors.js'
import { baseDelayFromEnv } from '../datagouv/retry.js'
import { BlockedError, execute, failureSummary, type Reporter } from '../engine/engine.js'
import { readSettings, type Settings } from '../engine/inputs.js'
import { periodicLines } from '../engine/progress.js'
import type { Report } from '../engine/report.js'
import { VERSION } from '../version.js'
import { runnerProvenance } from './provenance.js'

export async function run(): Promise<void> {
  // The key is masked before anything else can print it.
  const key = core.getInput('api-key').trim()
  if (key !== '') core.setSecret(key)
  try {
    const settings = readSettings((name) => core.getInput(name))
    const { baseDelayMs } = baseDelayFromEnv(process.env)
    const outcome = await execute(settings, runnerReporter(settings), {
      cwd: process.cwd(),
      userAgent: `datagouv-publish-action/${VERSION} (+https://github.com/${process.env.GITHUB_REPOSITORY ?? 'local'})`,
      provenance: runnerProvenance(),
      ...(baseDelayMs !== undefined ? { retryBaseDelayMs: baseDelayMs } : {}),
    })
    await writeReport(outcome.report)
    const failed = failureSummary(outcome)
    if (failed !== undefined) {
      for (const failure of outcome.report.failures) core.error(failure)
      core.setFailed(failed)
    }
  } catch (error) {
    // A stopped preflight still says what it knew: outputs and a summary listing every problem.
    if (error instanceof BlockedError) await writeReport(error.report).catch(() => undefined)
    core.setFailed(toErrorMessage(error))
  }
}

/** Outputs, the log table and the job summary: the one place they are written. */
async function writeReport(report: Report): Promise<void> {
  for (const [name, value] of Object.entries(report.outputs)) core.setOutput(name, value)
  if (report.table !== '') core.info(report.table)
  await core.summary.addRaw(report.summary).write()
}

function runnerReporter(settings: Settings): Reporter {
  const lines = periodicLines(settings.chunkSize)
  return {
    info: core.info,
    debug: core.debug,
    warning: core.warning,
    group: (name, fn) => core.group(name, fn),
    progress: (entry, sent) => lines(entry, sent, core.info),
  }
}
