/**
 * Results -> outputs, job summary and log table: the `Report` an edge writes (main.ts through the
 * runner, the CLI on its streams). Pure. The outputs are built here, the job summary in
 * report/summary.ts, the log's tables in report/tables.ts.
 */
import type { Dataset } from '../datagouv/schemas.js'
import type { AnalysisReport } from './analysis.js'
import type { OrderResult } from './order.js'
import { describe } from './plan.js'
import type { PreflightError } from './preflight.js'
import type { Provenance } from './provenance.js'
import { qualityOutput, type QualityReport } from './quality.js'
import { checksOutput } from './report/guides.js'
import { CHANGES, type DatasetResult, type Result } from './publish.js'
import { plural } from '../util/text.js'
import { diffText, withOutcomes, type ReportedDiff } from './report/diff.js'
import { blockedSummary, summaryMarkdown } from './report/summary.js'
import { logTable, type DatasetCreation } from './report/tables.js'

/** The CLI takes these from here (its progress and interrupt lines); they live in util/text.ts. */
export { formatBytes, plural } from '../util/text.js'

export interface Report {
  outputs: Record<(typeof OUTPUT_NAMES)[number], string>
  /** Markdown for the job summary. */
  summary: string
  /** Plain-text table for the log. */
  table: string
  /** Messages of every failure, entry by entry. */
  failures: string[]
  /** The data diff as text (report/diff.ts); '' when there is none. */
  diffText: string
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
  'quality',
  'diff',
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
  /** `create-dataset`: the dataset created, or in a dry run to be created, and why. */
  creation?: DatasetCreation
  origin: string
  dryRun: boolean
  hiddenLeftOut: number
  /** Recorded on every written resource; the summary links the run and the dataset both ways. */
  provenance?: Provenance
  /** `wait-for-analysis`: what the analyser made of the published resources. */
  analysis?: AnalysisReport[]
  /** The dataset's quality score after the run (quality.ts); `null`: the instance answers none. */
  quality?: QualityReport | null
  /** The data diff of the uploads (engine/diff.ts); absent when not asked for (the CLI's --diff). */
  diffs?: readonly ReportedDiff[]
}

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
  const diffs =
    facts.diffs === undefined ? undefined : withOutcomes(facts.diffs, results, facts.dryRun)
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
    quality: qualityOutput(facts.quality ?? undefined),
    diff: diffs === undefined ? '' : JSON.stringify(diffs),
  }
  const summary = summaryMarkdown({ ...facts, ...(diffs ? { diffs } : {}) }, datasetUrl, failures)
  const table = logTable(results, datasetResult, order, facts.creation)
  return { outputs, summary, table, failures, diffText: diffText(diffs ?? []) }
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
    ...(r.step.kind === 'file' && r.step.release ? { release: r.step.release.name } : {}),
    ...(r.step.kind === 'file' && r.step.checks ? { checks: checksOutput(r.step.checks) } : {}),
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
    quality: '',
    diff: '',
  }
  return {
    outputs,
    summary: blockedSummary(error, datasetUrl),
    table: '',
    failures: error.problems,
    diffText: '',
  }
}

/** The failure line of a run whose entries did not all publish; `undefined` when all did. */
export function failureSummary(run: {
  report: Report
  results: readonly Result[]
  datasetResult: DatasetResult | undefined
  order: OrderResult | undefined
}): string | undefined {
  const failed =
    run.results.filter((r) => r.error !== undefined).length +
    (run.datasetResult?.error !== undefined ? 1 : 0) +
    (run.order?.error !== undefined ? 1 : 0)
  const problems = run.report.failures.length - failed
  if (failed === 0 && problems === 0) return undefined
  const total = run.results.length + (run.datasetResult ? 1 : 0) + (run.order ? 1 : 0)
  const entries = `${failed} of ${plural(total, 'entry', 'entries')} failed to publish`
  const more = `${plural(problems, 'problem')} found reading the dataset back`
  return failed === 0 ? more : problems === 0 ? entries : `${entries}; ${more}`
}
