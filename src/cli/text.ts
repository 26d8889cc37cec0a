/**
 * What the CLI prints as text, in the terminal's width: the plan (on stderr before the writes; on
 * stdout as the result of a dry run, so that it is printed once), the result table, and a closing
 * line with the counts and the dataset's URL. `--json` prints none of it (json.ts).
 */
import type { RunResult } from '../engine/engine.js'
import type { Settings } from '../engine/inputs.js'
import type { Plan } from '../engine/plan.js'
import {
  creationReason,
  hiddenNote,
  planRows,
  resultRows,
  type DatasetCreation,
} from '../engine/report/tables.js'
import { formatDuration } from '../util/text.js'
import { fitTable, shorten, type Column } from './table.js'

/** What the plan table needs of the settings. */
export type PlanSettings = Pick<Settings, 'order' | 'waitForAnalysisSeconds' | 'dryRun'>

const PLAN_COLUMNS: readonly Column[] = [
  { fit: 'keep' },
  { fit: 'start' },
  { fit: 'keep' },
  { fit: 'wrap' },
]

const RESULT_COLUMNS: readonly Column[] = [
  { fit: 'start' },
  { fit: 'keep' },
  { fit: 'keep' },
  { fit: 'wrap' },
  { fit: 'keep', align: 'right' },
  { fit: 'keep', align: 'right' },
]

/** `Plan:` and one line per step, within `width`. */
export function planText(plan: Plan, settings: PlanSettings, width: number): string {
  const rows = planRows(plan, settings).map(([action = '', source = '', id = '', reason = '']) => [
    action,
    shorten(source),
    shorten(id),
    reason,
  ])
  const hidden = plan.hiddenLeftOut > 0 ? `\n  ${hiddenNote(plan.hiddenLeftOut)}` : ''
  if (rows.length === 0) return `Plan: nothing to publish${hidden}`
  return `Plan:\n${fitTable(rows, PLAN_COLUMNS, width, '  ').join('\n')}${hidden}`
}

/** The result table of a run, within `width`: what each entry did. */
export function resultText(outcome: RunResult, plan: Plan | undefined, width: number): string {
  const created = outcome.report.outputs['dataset-created'] === 'true'
  const creation: DatasetCreation | undefined =
    plan?.creation !== undefined && created
      ? {
          done: true,
          id: outcome.report.outputs['dataset-id'],
          reason: creationReason(plan, true),
        }
      : undefined
  const [header = [], ...rows] = resultRows(
    outcome.results,
    outcome.datasetResult,
    outcome.order,
    creation,
  )
  const shown = rows.map(([source = '', id = '', ...rest]) => [
    shorten(source),
    shorten(id),
    ...rest,
  ])
  return fitTable([header, ...shown], RESULT_COLUMNS, width).join('\n')
}

/** Result actions in the closing line, in this order. */
const DONE = [
  'failed',
  'uploaded',
  'created',
  'updated',
  'signalled',
  'removed',
  'held-back',
  'skipped',
] as const

/**
 * The last line: what was done (or, in a dry run, would be), and where.
 * `Done in 2.4 s: 1 uploaded, 2 skipped. https://www.data.gouv.fr/datasets/x/`
 */
export function closingLine(outcome: RunResult, dryRun: boolean, elapsedMs: number): string {
  const counts = dryRun ? plannedCounts(outcome) : doneCounts(outcome)
  const url = outcome.report.outputs['dataset-url']
  const what = counts.length > 0 ? counts.join(', ') : 'nothing to publish'
  const head = dryRun
    ? 'Dry run, nothing written'
    : `${outcome.report.failures.length > 0 ? 'Done, with failures,' : 'Done'} in ${formatDuration(elapsedMs)}`
  return `${head}: ${what}. ${url}`
}

function doneCounts({ results, datasetResult, order, report }: RunResult): string[] {
  const counts = DONE.flatMap((action) => {
    const n = results.filter((r) => r.action === action).length
    return n > 0 ? [`${n} ${action}`] : []
  })
  if (report.outputs['dataset-created'] === 'true') counts.unshift('dataset created')
  if (datasetResult?.action === 'updated') counts.push('dataset metadata updated')
  if (order?.action === 'reordered') counts.push('resources reordered')
  return counts
}

function plannedCounts({ results, datasetResult }: RunResult): string[] {
  const tally = new Map<string, number>()
  for (const r of results) tally.set(r.step.action, (tally.get(r.step.action) ?? 0) + 1)
  const counts = [...tally].map(([action, n]) => `${n} to ${action}`)
  if (datasetResult?.planned === 'update') counts.push('dataset metadata to update')
  return counts
}
