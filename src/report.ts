/** Results -> outputs, job summary and log table. Pure: main.ts writes them through @actions/core. */
import type { Dataset } from './datagouv/schemas.js'
import type { Result } from './publish.js'

export interface Report {
  outputs: Record<string, string>
  /** Markdown for the job summary. */
  summary: string
  /** Plain-text table for the log. */
  table: string
  failed: Result[]
}

export const OUTPUT_NAMES = ['resources', 'urls', 'changed', 'uploaded-count', 'skipped-count', 'dataset-url'] as const

export function buildReport(results: readonly Result[], dataset: Dataset, origin: string, dryRun: boolean): Report {
  const datasetUrl = dataset.page ?? `${origin}/datasets/${dataset.slug}/`
  const failed = results.filter((r) => r.action === 'failed')
  const count = (...actions: string[]) => results.filter((r) => actions.includes(r.action)).length
  const resources = results.map((r) => ({
    id: r.resource?.id ?? null,
    title: r.resource?.title ?? r.entry.title ?? null,
    source: r.entry.source,
    action: r.action,
    planned: r.planned,
    reason: r.reason,
    url: r.resource?.url ?? null,
    latest: r.resource?.latest ?? null,
    checksum: r.checksum ?? (r.resource?.checksum ? { type: r.resource.checksum.type, value: r.resource.checksum.value } : null),
    filesize: r.entry.size,
    ...(r.patched.length > 0 ? { patched: r.patched } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
  }))
  const urls = Object.fromEntries(results.filter((r) => r.resource !== undefined).map((r) => [r.entry.source, r.resource?.url]))
  const outputs: Record<(typeof OUTPUT_NAMES)[number], string> = {
    resources: JSON.stringify(resources),
    urls: JSON.stringify(urls),
    changed: String(count('uploaded', 'created', 'updated') > 0),
    'uploaded-count': String(count('uploaded', 'created')),
    'skipped-count': String(count('skipped')),
    'dataset-url': datasetUrl,
  }
  return { outputs, summary: summaryMarkdown(results, dataset, datasetUrl, dryRun), table: logTable(results), failed }
}

function summaryMarkdown(results: readonly Result[], dataset: Dataset, datasetUrl: string, dryRun: boolean): string {
  const lines: string[] = []
  lines.push(`### ${dryRun ? 'Dry run: plan for' : 'Published to'} [${cell(dataset.title)}](${datasetUrl})`, '')
  const tally = new Map<string, number>()
  for (const r of results) tally.set(r.action, (tally.get(r.action) ?? 0) + 1)
  lines.push([...tally].map(([action, n]) => `${n} ${action}`).join(', ') || 'nothing to publish', '')
  lines.push('| File | Resource | Action | Reason | Size | Checksum | Duration |', '| --- | --- | --- | --- | ---: | --- | ---: |')
  for (const r of results) {
    const link = r.resource?.latest ?? r.resource?.url
    const title = cell(r.resource?.title ?? r.entry.title ?? r.entry.name)
    const resource = link ? `[${title}](${link})` : `${title} (new)`
    const action = r.action === 'planned' ? `planned: ${r.planned}` : r.action
    const checksum = r.checksum ? `${r.checksum.type} \`${r.checksum.value.slice(0, 12)}\`` : ''
    lines.push(
      `| \`${cell(r.entry.source)}\` | ${resource} | ${action} | ${cell(r.reason)} | ${formatBytes(r.entry.size)} | ${checksum} | ${formatDuration(r.durationMs)} |`,
    )
  }
  const failed = results.filter((r) => r.error !== undefined)
  if (failed.length > 0) {
    lines.push('', '#### Failures', '')
    for (const r of failed) lines.push(`- ${cell(r.error ?? '')}`)
  }
  if (dryRun) lines.push('', '_Dry run: no write request was sent._')
  return `${lines.join('\n')}\n`
}

function logTable(results: readonly Result[]): string {
  const rows = [['file', 'resource', 'action', 'reason', 'size', 'time']]
  for (const r of results) {
    rows.push([
      r.entry.source,
      r.resource?.id ?? '(new)',
      r.action === 'planned' ? `planned: ${r.planned}` : r.action,
      r.reason,
      formatBytes(r.entry.size),
      formatDuration(r.durationMs),
    ])
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** Escapes what would break a table cell or inject markup. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;')
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
