/**
 * Results -> outputs, job summary and log table. Pure: main.ts writes them through @actions/core.
 */
import type { Dataset } from '../datagouv/schemas.js'
import type { AnalysisReport } from './analysis.js'
import type { OrderResult } from './order.js'
import { describe } from './plan.js'
import type { PreflightError } from './preflight.js'
import type { Provenance } from './provenance.js'
import type { DatasetResult, Result } from './publish.js'
import { formatBytes, formatDuration, plural } from '../util/text.js'

/** src/cli/progress.ts takes these from here; they live in util/text.ts. */
export { formatBytes, plural } from '../util/text.js'

export interface Report {
  outputs: Record<(typeof OUTPUT_NAMES)[number], string>
  /** Markdown for the job summary. */
  summary: string
  /** Plain-text table for the log. */
  table: string
  /** Messages of every failure, entry by entry. */
  failures: string[]
}

export const OUTPUT_NAMES = [
  'resources',
  'urls',
  'changed',
  'uploaded-count',
  'skipped-count',
  'removed-count',
  'dataset-metadata',
  'dataset-url',
  'dataset-id',
  'dataset-created',
  'analysis',
] as const

/** Everything a finished run knows, for its report. */
export interface RunFacts {
  results: readonly Result[]
  datasetResult: DatasetResult | undefined
  /** What reading the dataset back showed that no entry accounts for (verify.ts). */
  problems?: readonly string[]
  order?: OrderResult | undefined
  dataset: Dataset
  /** The run created the dataset (`create-dataset`). */
  datasetCreated?: boolean
  origin: string
  dryRun: boolean
  hiddenLeftOut: number
  /** Recorded on every written resource; the summary links the run and the dataset both ways. */
  provenance?: Provenance
  /** `wait-for-analysis`: what the analyser made of the published resources. */
  analysis?: AnalysisReport[]
}

const CHANGES = new Set(['uploaded', 'created', 'updated', 'signalled', 'removed'])

export function buildReport(facts: RunFacts): Report {
  const { results, datasetResult, order, dataset } = facts
  const datasetUrl = datasetUrlOf(dataset, facts.origin)
  const count = (...actions: string[]) => results.filter((r) => actions.includes(r.action)).length
  const urls = Object.fromEntries(
    results
      .filter((r) => r.step.kind !== 'remove' && r.resource !== undefined)
      .map((r) => [describe(r.step).source, r.resource?.url]),
  )
  const changed =
    results.some((r) => CHANGES.has(r.action)) ||
    datasetResult?.action === 'updated' ||
    order?.action === 'reordered' ||
    facts.datasetCreated === true
  const failures = [
    ...results.flatMap((r) => (r.error !== undefined ? [r.error] : [])),
    ...(datasetResult?.error !== undefined ? [datasetResult.error] : []),
    ...(order?.error !== undefined ? [order.error] : []),
    ...(facts.problems ?? []),
  ]
  const outputs = {
    resources: JSON.stringify(results.map(resourceOutput)),
    urls: JSON.stringify(urls),
    changed: String(changed),
    'uploaded-count': String(
      count('uploaded') +
        results.filter((r) => r.action === 'created' && r.step.kind === 'file').length,
    ),
    'skipped-count': String(count('skipped')),
    'removed-count': String(count('removed')),
    'dataset-metadata':
      datasetResult === undefined
        ? ''
        : JSON.stringify({
            action: datasetResult.action,
            reason: datasetResult.reason,
            fields: datasetResult.patched,
          }),
    'dataset-url': datasetUrl,
    'dataset-id': dataset.id,
    'dataset-created': String(facts.datasetCreated === true),
    analysis: JSON.stringify(facts.analysis ?? []),
  }
  const summary = summaryMarkdown(facts, datasetUrl, failures)
  return { outputs, summary, table: logTable(results, datasetResult, order), failures }
}

/** One item of the `resources` output. */
function resourceOutput(r: Result): Record<string, unknown> {
  const { source, size } = describe(r.step)
  const probe = r.step.kind === 'url' ? r.step.probe : undefined
  const resource = r.action === 'removed' ? undefined : r.resource
  return {
    id: r.resource?.id ?? null,
    title: r.resource?.title ?? describe(r.step).title ?? null,
    kind: r.step.kind,
    source,
    action: r.action,
    planned: r.step.action,
    reason: r.reason ?? r.step.reason,
    url: resource?.url ?? null,
    latest: resource?.latest ?? null,
    checksum:
      r.checksum ??
      (resource?.checksum
        ? { type: resource.checksum.type, value: resource.checksum.value }
        : null),
    filesize: size ?? null,
    ...(probe
      ? {
          remote: {
            status: probe.status,
            size: probe.size ?? null,
            etag: probe.etag ?? null,
            last_modified: probe.lastModified ?? null,
          },
        }
      : {}),
    ...(r.patched.length > 0 ? { patched: r.patched } : {}),
    ...(r.notes !== undefined ? { notes: r.notes } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
  }
}

function datasetUrlOf(dataset: Dataset, origin: string): string {
  return dataset.page ?? `${origin}/datasets/${dataset.slug}/`
}

/**
 * The report of a run the preflight stopped: nothing was written, so nothing changed; every entry
 * known is listed with what it would have done and its own problem, and the summary lists every
 * problem, as the log does.
 */
export function blockedReport(error: PreflightError, origin: string): Report {
  const resources = error.entries.map((e) => ({
    id: e.resource?.id ?? null,
    title: e.resource?.title ?? null,
    kind: e.kind,
    source: e.source,
    action: 'not-published',
    planned: e.planned ?? null,
    reason: e.problem ?? 'not published: the preflight found problems elsewhere',
    url: null,
    latest: null,
    checksum: null,
    filesize: null,
    ...(e.problem !== undefined ? { error: `${e.label} (${e.source}): ${e.problem}` } : {}),
  }))
  const datasetUrl = error.dataset ? datasetUrlOf(error.dataset, origin) : ''
  const outputs = {
    resources: JSON.stringify(resources),
    urls: '{}',
    changed: 'false',
    'uploaded-count': '0',
    'skipped-count': '0',
    'removed-count': '0',
    'dataset-metadata': '',
    'dataset-url': datasetUrl,
    'dataset-id': error.dataset?.id ?? '',
    'dataset-created': 'false',
    analysis: '[]',
  }
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
  return { outputs, summary: `${lines.join('\n')}\n`, table: '', failures: error.problems }
}

/** The plan's line about hidden files left out. */
export function hiddenNote(count: number): string {
  return (
    `${plural(count, 'hidden file')} left out (a name starting with '.'; set include-hidden-files: ` +
    `true to publish ${count === 1 ? 'it' : 'them'})`
  )
}

function actionText(action: string, planned: string): string {
  return action === 'planned' ? `planned: ${planned}` : action
}

function summaryMarkdown(facts: RunFacts, datasetUrl: string, failures: readonly string[]): string {
  const { results, datasetResult, order, dataset, dryRun } = facts
  const lines: string[] = []
  const created = facts.datasetCreated === true ? ' (created by this run)' : ''
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
  if (datasetResult !== undefined) {
    const fields = datasetResult.patched.length > 0 ? ` (${datasetResult.patched.join(', ')})` : ''
    lines.push(
      '',
      `Dataset metadata: **${actionText(datasetResult.action, 'update')}**${fields}: ${cell(datasetResult.reason)}`,
    )
  }
  if (order !== undefined)
    lines.push('', `Order: **${actionText(order.action, 'reorder')}**: ${cell(order.reason)}`)
  if (facts.analysis !== undefined) lines.push('', ...analysisLines(facts.analysis))
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

function logTable(
  results: readonly Result[],
  datasetResult: DatasetResult | undefined,
  order: OrderResult | undefined,
): string {
  const rows = [['source', 'resource', 'action', 'reason', 'size', 'time']]
  for (const r of results) {
    const { source, size } = describe(r.step)
    rows.push([
      source,
      r.resource?.id ?? '(new)',
      actionText(r.action, r.step.action),
      r.reason ?? r.step.reason,
      size === undefined ? '' : formatBytes(size),
      formatDuration(r.durationMs),
    ])
  }
  if (datasetResult !== undefined)
    rows.push([
      'dataset-metadata',
      '(dataset)',
      actionText(datasetResult.action, 'update'),
      datasetResult.reason,
      '',
      '',
    ])
  if (order !== undefined)
    rows.push(['order', '(dataset)', actionText(order.action, 'reorder'), order.reason, '', ''])
  return alignedTable(rows)
}

/** Columns padded to their widest cell. */
export function alignedTable(rows: readonly string[][]): string {
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
