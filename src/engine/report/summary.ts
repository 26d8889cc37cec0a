/**
 * The job summary: Markdown of what the run did (or, when the preflight stopped it, of every
 * problem and what each entry would have done).
 */
import type { AnalysisReport } from '../analysis.js'
import { describe } from '../plan.js'
import type { PreflightError } from '../preflight.js'
import type { Provenance } from '../provenance.js'
import { CHANGES, type Result } from '../publish.js'
import type { RunFacts } from '../report.js'
import { formatBytes, formatDuration, plural } from '../../util/text.js'
import { diffMarkdown } from './diff.js'
import { checksLines, qualityLines } from './guides.js'
import { actionText, hiddenNote } from './tables.js'

/** The summary of a finished run (or a dry run). */
export function summaryMarkdown(
  facts: RunFacts,
  datasetUrl: string,
  failures: readonly string[],
): string {
  const { results, order, dataset, dryRun } = facts
  const lines: string[] = []
  const created =
    facts.creation === undefined
      ? ''
      : facts.creation.done
        ? ' (created by this run)'
        : ' (to be created by this run)'
  lines.push(
    `### ${dryRun ? 'Dry run: plan for' : 'Published to'} [${cell(dataset.title)}](${datasetUrl})${created}`,
    '',
  )
  const tally = new Map<string, number>()
  for (const r of results) {
    const key = actionText(r.action, r.step.action)
    tally.set(key, (tally.get(key) ?? 0) + 1)
  }
  lines.push(
    [...tally].map(([action, n]) => `${n} ${action}`).join(', ') || 'no resource to publish',
    '',
  )
  if (results.length > 0) {
    lines.push(
      '| Source | Resource | Action | Reason | Size | Checksum or remote | Duration |',
      '| --- | --- | --- | --- | ---: | --- | ---: |',
    )
    for (const r of results) lines.push(summaryRow(r))
  }
  lines.push(...datasetLines(facts))
  if (order !== undefined)
    lines.push('', `Order: **${actionText(order.action, 'reorder')}**: ${cell(order.reason)}`)
  if (facts.analysis !== undefined) lines.push('', ...analysisLines(facts.analysis))
  for (const section of [checksLines(results), qualityLines(facts.quality, dryRun)])
    if (section.length > 0) lines.push('', ...section)
  if (facts.diffs !== undefined && facts.diffs.length > 0)
    lines.push('', ...diffMarkdown(facts.diffs, dryRun))
  if (failures.length > 0) {
    lines.push('', '#### Failures', '')
    for (const failure of failures) lines.push(`- ${cell(failure)}`)
  }
  if (facts.hiddenLeftOut > 0) lines.push('', `_${hiddenNote(facts.hiddenLeftOut)}._`)
  // Only when something was written: a run that wrote nothing recorded nothing.
  const wrote = results.some((r) => CHANGES.has(r.action))
  const provenance = wrote ? provenanceLine(facts.provenance, datasetUrl, dryRun) : undefined
  if (provenance !== undefined) lines.push('', provenance)
  if (dryRun) lines.push('', '_Dry run: no write request was sent._')
  return `${lines.join('\n')}\n`
}

/**
 * The dataset's own lines: its creation (`create-dataset`), and its metadata step, unless the
 * creation carried all of it.
 */
function datasetLines({ creation, datasetResult }: RunFacts): string[] {
  const lines: string[] = []
  if (creation !== undefined)
    lines.push(
      '',
      `Dataset: **${creation.done ? 'created' : 'planned: create'}**: ${cell(creation.reason)}`,
    )
  if (datasetResult === undefined) return lines
  const patched = datasetResult.patched
  if (creation !== undefined && patched.length === 0 && datasetResult.error === undefined)
    return lines
  const fields = patched.length > 0 ? ` (${patched.join(', ')})` : ''
  const action = actionText(datasetResult.action, datasetResult.planned ?? 'update')
  return [...lines, '', `Dataset metadata: **${action}**${fields}: ${cell(datasetResult.reason)}`]
}

function summaryRow(r: Result): string {
  const { source, size, title } = describe(r.step)
  const link = r.action === 'removed' ? undefined : (r.resource?.latest ?? r.resource?.url)
  const name = cell(r.resource?.title ?? title ?? source)
  const resource = link ? `[${name}](${link})` : r.resource ? name : `${name} (new)`
  const probe = r.step.kind === 'url' ? r.step.probe : undefined
  const remote = probe
    ? [
        `${probe.method} ${probe.status}`,
        probe.etag ? `ETag ${probe.etag}` : '',
        probe.lastModified ? `Last-Modified ${probe.lastModified}` : '',
      ]
        .filter(Boolean)
        .join(', ')
    : ''
  const detail = r.checksum
    ? `${r.checksum.type} \`${r.checksum.value.slice(0, 12)}\``
    : cell(remote)
  const reason = cell([r.reason ?? r.step.reason, ...(r.notes ?? [])].join('; '))
  const bytes = size === undefined ? '' : formatBytes(size)
  return `| \`${cell(source)}\` | ${resource} | ${actionText(r.action, r.step.action)} | ${reason} | ${bytes} | ${detail} | ${formatDuration(r.durationMs)} |`
}

/** What data.gouv.fr made of each published resource (`wait-for-analysis`). */
function analysisLines(reports: readonly AnalysisReport[]): string[] {
  const lines = [
    '#### What data.gouv.fr made of it',
    '',
    '| Source | Analysis | Available | Format | Parsing | Preview |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of reports) {
    const available =
      r.available === null
        ? ''
        : `${r.available ? 'yes' : 'no'}${r.status !== null ? ` (${r.status})` : ''}`
    const format = [r.format, r.mime].filter((v) => v !== null && v !== '').join(', ')
    const parsing = r.parsing === 'error' ? `error: ${cell(r.parsing_error ?? '')}` : r.parsing
    const preview = r.preview === null ? '' : `[preview](${r.preview})`
    lines.push(
      `| \`${cell(r.source)}\` | ${r.state} | ${available} | ${cell(format)} | ${parsing} | ${preview} |`,
    )
  }
  return lines
}

/**
 * The run and the dataset, linked both ways: each written resource records the run in its extras.
 */
function provenanceLine(
  provenance: Provenance | undefined,
  datasetUrl: string,
  dryRun: boolean,
): string | undefined {
  if (provenance === undefined || dryRun) return undefined
  const run = provenance.runUrl !== undefined ? `[this run](${provenance.runUrl})` : 'this run'
  const where = [provenance.repository, provenance.commit?.slice(0, 12)]
    .filter((v) => v !== undefined && v !== '')
    .join(' @ ')
  return `_Each resource written records ${run}${where ? ` (${cell(where)})` : ''} in its extras (\`publish:*\`); the dataset: ${datasetUrl}_`
}

/** The summary of a run the preflight stopped: every problem, and what each entry would have done. */
export function blockedSummary(error: PreflightError, datasetUrl: string): string {
  const target = error.dataset ? `[${cell(error.dataset.title)}](${datasetUrl})` : 'data.gouv.fr'
  const lines = [
    `### Nothing published to ${target}: ${plural(error.problems.length, 'problem')} found before ` +
      `publishing`,
    '',
  ]
  for (const problem of error.problems) lines.push(`- ${cell(problem)}`)
  if (error.entries.length > 0) {
    lines.push('', '| Source | Resource | Would | Problem |', '| --- | --- | --- | --- |')
    for (const e of error.entries) {
      const resource = e.resource
        ? `${cell(e.resource.title)} (\`${e.resource.id}\`)`
        : e.planned === 'create'
          ? '(new)'
          : ''
      lines.push(
        `| \`${cell(e.source)}\` | ${resource} | ${e.planned ?? ''} | ${cell(e.problem ?? '')} |`,
      )
    }
  }
  lines.push('', '_Nothing was written: fix the problems above and run again._')
  return `${lines.join('\n')}\n`
}

/** Escapes what would break a table cell or inject markup. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;')
}
