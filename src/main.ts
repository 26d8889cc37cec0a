/** run(): settings -> preflight -> plan -> publish -> report; the one place that fails the step. */
import * as core from '@actions/core'
import { DatagouvClient, type Logger } from './datagouv/client.js'
import { toErrorMessage } from './datagouv/errors.js'
import { readSettings, type Settings } from './inputs.js'
import type { FileEntry } from './manifest.js'
import type { Step } from './plan.js'
import { preflight } from './preflight.js'
import { publish, publishDataset } from './publish.js'
import { alignedTable, buildReport, describe, formatBytes } from './report.js'

const logger: Logger = { info: core.info, debug: core.debug, warning: core.warning }

export async function run(): Promise<void> {
  // The key is masked before anything else can print it.
  const key = core.getInput('api-key').trim()
  if (key !== '') core.setSecret(key)
  let client: DatagouvClient | undefined
  try {
    const settings = readSettings((name) => core.getInput(name))
    client = new DatagouvClient({
      apiUrl: settings.apiUrl,
      apiKey: settings.apiKey,
      timeoutMs: settings.timeoutSeconds * 1000,
      retry: { maxRetries: settings.maxRetries, ...retryBaseOverride() },
      userAgent: `datagouv-publish-action (+https://github.com/${process.env.GITHUB_REPOSITORY ?? 'local'})`,
      logger,
    })
    const activeClient = client
    const plan = await core.group('Preflight: dataset, files, matches, checksums', async () => {
      const result = await preflight(activeClient, settings, process.cwd())
      core.info(
        `Dataset '${result.dataset.title}' (${result.dataset.id}), ${result.dataset.resources.length} resources; ${result.steps.length} entries to consider`,
      )
      return result
    })
    for (const warning of plan.warnings) core.warning(warning)
    core.info(planTable(plan.steps, plan.datasetStep))

    const results = await core.group(settings.dryRun ? 'Dry run: nothing is written' : 'Publish', () =>
      publish(activeClient, plan.steps, {
        datasetId: plan.dataset.id,
        chunkSize: settings.chunkSize,
        concurrency: settings.concurrency,
        dryRun: settings.dryRun,
        knownResourceIds: new Set(plan.dataset.resources.map((r) => r.id)),
        checksums: plan.checksums,
        onProgress: progressLogger(settings),
      }),
    )

    const datasetResult = plan.datasetStep && (await publishDataset(activeClient, plan.dataset, plan.datasetStep, settings.dryRun))

    const report = buildReport(results, datasetResult, plan.dataset, activeClient.origin, settings.dryRun)
    for (const [name, value] of Object.entries(report.outputs)) core.setOutput(name, value)
    core.info(report.table)
    await core.summary.addRaw(report.summary).write()
    if (report.failures.length > 0) {
      for (const failure of report.failures) core.error(failure)
      const total = results.length + (datasetResult ? 1 : 0)
      core.setFailed(`${report.failures.length} of ${total} ${total === 1 ? 'entry' : 'entries'} failed to publish`)
    }
  } catch (error) {
    core.setFailed(toErrorMessage(error))
  } finally {
    await client?.close()
  }
}

/** One line per step: action, source, resource, reason. */
function planTable(steps: readonly Step[], datasetStep: { action: string; reason: string } | undefined): string {
  const rows = steps.map((s) => [s.action, describe(s).source, s.resource?.id ?? '(new)', s.reason])
  if (datasetStep !== undefined) rows.push([datasetStep.action, 'dataset-metadata', '(dataset)', datasetStep.reason])
  if (rows.length === 0) return 'Plan: nothing to publish'
  const table = alignedTable(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
  return `Plan:\n${table}`
}

/** Logs an upload's progress at most every 10 s (bytes, percentage, rate); small files stay quiet. */
function progressLogger(settings: Settings): (entry: FileEntry, sent: number) => void {
  const state = new Map<string, { started: number; logged: number }>()
  return (entry, sent) => {
    if (entry.size <= settings.chunkSize) return
    const now = Date.now()
    const s = state.get(entry.path) ?? { started: now, logged: now }
    state.set(entry.path, s)
    if (now - s.logged < 10_000 && sent < entry.size) return
    s.logged = now
    const seconds = Math.max(0.001, (now - s.started) / 1000)
    const percent = entry.size === 0 ? 100 : Math.min(100, (100 * sent) / entry.size)
    core.info(
      `${entry.source}: ${formatBytes(Math.min(sent, entry.size))} of ${formatBytes(entry.size)} (${percent.toFixed(0)} %), ${formatBytes(Math.round(sent / seconds))}/s`,
    )
  }
}

/** Test knob: the integration tests shorten the backoff; users have `max-retries`. */
function retryBaseOverride(): { baseDelayMs?: number } {
  const value = Number(process.env.DATAGOUV_PUBLISH_RETRY_BASE_MS)
  return Number.isFinite(value) && value >= 0 && process.env.DATAGOUV_PUBLISH_RETRY_BASE_MS !== undefined ? { baseDelayMs: value } : {}
}
