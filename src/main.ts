/** run(): settings -> preflight -> plan -> publish -> report; the one place that fails the step. */
import * as core from '@actions/core'
import { DatagouvClient, type Logger } from './datagouv/client.js'
import { toErrorMessage } from './datagouv/errors.js'
import { readSettings, type Settings } from './inputs.js'
import type { Entry } from './manifest.js'
import { preflight } from './preflight.js'
import { publish } from './publish.js'
import { buildReport, formatBytes } from './report.js'

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
        `Dataset '${result.dataset.title}' (${result.dataset.id}), ${result.dataset.resources.length} resources; ${result.steps.length} files to consider`,
      )
      return result
    })
    for (const warning of plan.warnings) core.warning(warning)
    core.info(planTable(plan.steps))

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

    const report = buildReport(results, plan.dataset, activeClient.origin, settings.dryRun)
    for (const [name, value] of Object.entries(report.outputs)) core.setOutput(name, value)
    core.info(report.table)
    await core.summary.addRaw(report.summary).write()
    if (report.failed.length > 0) {
      for (const result of report.failed) core.error(result.error ?? 'failed')
      core.setFailed(`${report.failed.length} of ${results.length} files failed to publish`)
    }
  } catch (error) {
    core.setFailed(toErrorMessage(error))
  } finally {
    await client?.close()
  }
}

function planTable(steps: ReadonlyArray<{ entry: Entry; action: string; reason: string; resource?: { id: string } }>): string {
  if (steps.length === 0) return 'Plan: nothing to publish'
  const rows = steps.map((s) => [s.action, s.entry.source, s.resource?.id ?? '(new)', s.reason])
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return [
    'Plan:',
    ...rows.map(
      (r) =>
        `  ${r
          .slice(0, 3)
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')}  ${r[3]}`,
    ),
  ].join('\n')
}

/** Logs an upload's progress at most every 10 s (bytes, percentage, rate); small files stay quiet. */
function progressLogger(settings: Settings): (entry: Entry, sent: number) => void {
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
