/** The action's edge: inputs from the runner -> engine -> outputs, summary; the one place that fails the step. */
import * as core from '@actions/core'
import { toErrorMessage } from '../datagouv/errors.js'
import { baseDelayFromEnv } from '../datagouv/retry.js'
import { BlockedError, execute, failureSummary, type Reporter } from '../engine/engine.js'
import { readSettings, type Settings } from '../engine/inputs.js'
import type { FileEntry } from '../engine/manifest.js'
import { formatBytes, type Report } from '../engine/report.js'
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
  return {
    info: core.info,
    debug: core.debug,
    warning: core.warning,
    group: (name, fn) => core.group(name, fn),
    progress: progressLogger(settings),
  }
}

/** Logs an upload's progress at most every 10 s (bytes, percentage, rate); small files stay quiet. */
function progressLogger(settings: Settings): (entry: FileEntry, sent: number) => void {
  const state = new Map<string, { started: number; logged: number; finished: boolean }>()
  return (entry, sent) => {
    if (entry.size <= settings.chunkSize) return
    const now = Date.now()
    const s = state.get(entry.path) ?? { started: now, logged: now, finished: false }
    state.set(entry.path, s)
    // Every 10 s, and once when the count first reaches the size (re-sent bytes can carry it past).
    const reachedEnd = sent >= entry.size && !s.finished
    if (now - s.logged < 10_000 && !reachedEnd) return
    if (reachedEnd) s.finished = true
    s.logged = now
    const seconds = Math.max(0.001, (now - s.started) / 1000)
    const percent = entry.size === 0 ? 100 : Math.min(100, (100 * sent) / entry.size)
    core.info(
      `${entry.source}: ${formatBytes(Math.min(sent, entry.size))} of ${formatBytes(entry.size)} (${percent.toFixed(0)} %), ${formatBytes(Math.round(sent / seconds))}/s`,
    )
  }
}
