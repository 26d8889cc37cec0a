/**
 * The log's tables, as plain text: the plan before the writes, the results after them.
 */
import type { OrderResult } from '../order.js'
import type { Settings } from '../inputs.js'
import { describe, type Plan } from '../plan.js'
import type { DatasetResult, Result } from '../publish.js'
import { formatBytes, formatDuration, plural } from '../../util/text.js'
import { setInput } from '../inputs.js'

/**
 * The plan as the log shows it before the writes: one line per step (action, source, resource,
 * reason), the dataset's own steps around them.
 */
export function planTable(
  plan: Plan,
  settings: Pick<Settings, 'order' | 'waitForAnalysisSeconds'>,
): string {
  const rows = plan.steps.map((s) => [
    s.action,
    describe(s).source,
    s.resource?.id ?? '(new)',
    s.reason,
  ])
  if (plan.creation !== undefined) {
    const why = `create dataset '${plan.creation.slug}' from dataset-metadata (none has this slug)`
    rows.unshift(['create', 'dataset', '(new)', why])
  }
  const { datasetStep } = plan
  if (datasetStep !== undefined)
    rows.push([datasetStep.action, 'dataset-metadata', '(dataset)', datasetStep.reason])
  if (settings.order === 'as-listed')
    rows.push([
      'order',
      'as-listed',
      '(dataset)',
      'checked last: the published resources in the order of the entries',
    ])
  const seconds = settings.waitForAnalysisSeconds
  if (seconds > 0)
    rows.push([
      'wait',
      'analysis',
      '(dataset)',
      `up to ${seconds} s for data.gouv.fr's analysis of what is published`,
    ])
  const hidden = plan.hiddenLeftOut > 0 ? `\n  ${hiddenNote(plan.hiddenLeftOut)}` : ''
  if (rows.length === 0) return `Plan: nothing to publish${hidden}`
  const table = alignedTable(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
  return `Plan:\n${table}${hidden}`
}

/** One line per result: source, resource, action, reason, size, time. */
export function logTable(
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
function alignedTable(rows: readonly string[][]): string {
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

/** The plan's line about hidden files left out. */
export function hiddenNote(count: number): string {
  return (
    `${plural(count, 'hidden file')} left out (a name starting with '.'; ` +
    `${setInput('include-hidden-files', 'true')} to publish ${count === 1 ? 'it' : 'them'})`
  )
}

/** An action as the tables show it: a planned one with what it would do. */
export function actionText(action: string, planned: string): string {
  return action === 'planned' ? `planned: ${planned}` : action
}
