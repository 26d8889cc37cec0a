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
  const rows = planRows(plan, settings)
  const hidden = plan.hiddenLeftOut > 0 ? `\n  ${hiddenNote(plan.hiddenLeftOut)}` : ''
  if (rows.length === 0) return `Plan: nothing to publish${hidden}`
  const table = alignedTable(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
  return `Plan:\n${table}${hidden}`
}

/** The rows of the plan: action, source, resource, reason (no header). */
export function planRows(
  plan: Plan,
  settings: Pick<Settings, 'order' | 'waitForAnalysisSeconds'>,
): string[][] {
  const rows = plan.steps.map((s) => [
    s.action,
    describe(s).source,
    s.resource?.id ?? '(new)',
    s.reason,
  ])
  if (plan.creation !== undefined)
    rows.unshift(['create', 'dataset', '(new)', creationReason(plan)])
  const { datasetStep } = plan
  // With a creation, the dataset's fields go in its creation: only an extras merge is left.
  if (datasetStep !== undefined && !(plan.creation !== undefined && datasetStep.action === 'skip'))
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
  return rows
}

/**
 * Why the dataset is created, before (`no dataset 'x' exists: it will be created from
 * dataset-metadata, ...`) or after (`done`).
 */
export function creationReason(plan: Pick<Plan, 'creation'>, done = false): string {
  const creation = plan.creation
  if (creation === undefined) return ''
  const organization = creation.body['organization']
  const owner =
    typeof organization === 'string' ? `organization ${organization}` : "the key's owner"
  return done
    ? `no dataset '${creation.slug}' existed: created from dataset-metadata, owned by ${owner}`
    : `no dataset '${creation.slug}' exists: it will be created from dataset-metadata, owned by ${owner}`
}

/** One line per result: source, resource, action, reason, size, time. */
export function logTable(
  results: readonly Result[],
  datasetResult: DatasetResult | undefined,
  order: OrderResult | undefined,
  creation?: DatasetCreation,
): string {
  return alignedTable(resultRows(results, datasetResult, order, creation))
}

/** The dataset created by the run (`done`), or to be created by it (a dry run). */
export interface DatasetCreation {
  done: boolean
  /** The dataset's id once created. */
  id?: string
  reason: string
}

/** The rows of the results, a header first: source, resource, action, reason, size, time. */
export function resultRows(
  results: readonly Result[],
  datasetResult: DatasetResult | undefined,
  order: OrderResult | undefined,
  creation?: DatasetCreation,
): string[][] {
  const rows = [['source', 'resource', 'action', 'reason', 'size', 'time']]
  if (creation !== undefined)
    rows.push([
      'dataset',
      creation.id ?? '(new)',
      creation.done ? 'created' : 'planned: create',
      creation.reason,
      '',
      '',
    ])
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
  const created = creation !== undefined && datasetResult?.patched.length === 0
  if (datasetResult !== undefined && !(created && datasetResult.error === undefined))
    rows.push([
      'dataset-metadata',
      '(dataset)',
      actionText(datasetResult.action, datasetResult.planned ?? 'update'),
      datasetResult.reason,
      '',
      '',
    ])
  if (order !== undefined)
    rows.push(['order', '(dataset)', actionText(order.action, 'reorder'), order.reason, '', ''])
  return rows
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
