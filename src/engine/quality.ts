/**
 * The dataset's quality score as data.gouv.fr computes it (udata's `Dataset.quality`, in
 * `udata/core/dataset/models.py`; docs/udata-protocol.md §16): nine criteria, each one ninth of
 * the score. After a publication it is read back and reported, each criterion not met with what to
 * do; a run that wrote nothing (or a dry run) reports the score the dataset has.
 */
import { z } from 'zod'
import type { Logger } from '../datagouv/client.js'
import type { Dataset } from '../datagouv/schemas.js'
import type { Plan } from './plan.js'
import type { DatasetResult, Result } from './publish.js'

/** One criterion of the score. */
interface Criterion {
  /** udata's key in `quality`. */
  id: string
  label: string
  met: boolean
  /** What to do when it is not met. */
  advice: string
}

export interface QualityReport {
  /** From 0 to 1, as the server computes it. */
  score: number
  criteria: Criterion[]
  /** `after`: read after this run's writes; `before`: as the dataset was (nothing written, or a dry run). */
  when: 'after' | 'before'
}

/** The criteria in udata's order, what each means and what to do when it is not met. */
const CRITERIA: ReadonlyArray<{ id: string; label: string; advice: string }> = [
  {
    id: 'dataset_description_quality',
    label: 'A description of useful length',
    advice: 'write a description longer than 100 characters (`description` in dataset-metadata)',
  },
  {
    id: 'license',
    label: 'A license',
    advice: 'choose a license (`license` in dataset-metadata, e.g. lov2)',
  },
  {
    id: 'update_frequency',
    label: 'An update frequency',
    advice: 'declare how often it is updated (`frequency` in dataset-metadata)',
  },
  {
    id: 'update_fulfilled_in_time',
    label: 'Updated as often as declared',
    advice:
      'publish within the declared frequency (one day of tolerance), or declare one the updates keep',
  },
  {
    id: 'temporal_coverage',
    label: 'A temporal coverage',
    advice:
      '`temporal_coverage: {start, end}` in dataset-metadata (`end: today` follows the publications)',
  },
  {
    id: 'spatial',
    label: 'A spatial coverage',
    advice: '`spatial: {zones, granularity}` in dataset-metadata',
  },
  {
    id: 'resources_documentation',
    label: 'Documented resources',
    advice: 'give a resource a `description`, or publish a documentation (`type: documentation`)',
  },
  {
    id: 'has_open_format',
    label: 'An open format',
    advice:
      'publish at least one file in an open format (CSV, JSON, GeoJSON, parquet…); PDF, DOC(X), ' +
      'XLS(X) and a resource without a format count as closed',
  },
  {
    id: 'all_resources_available',
    label: 'Resources available',
    advice: "a remote resource does not answer data.gouv.fr's checks: fix its URL, or remove it",
  },
]

const QualitySchema = z.looseObject({ score: z.number() })

/**
 * The report of a dataset's `quality`; `undefined` when the server answers none. A criterion udata
 * leaves out counts as not met (no frequency: not updated in time; no resource: the three criteria
 * of resources).
 */
export function qualityOf(
  dataset: Dataset,
  when: QualityReport['when'],
): QualityReport | undefined {
  const parsed = QualitySchema.safeParse((dataset as Record<string, unknown>)['quality'])
  if (!parsed.success) return undefined
  const quality = parsed.data as Record<string, unknown>
  const criteria = CRITERIA.map(({ id, label, advice }) => ({
    id,
    label,
    met: quality[id] === true,
    advice: adviceFor(id, advice, quality),
  }))
  return { score: parsed.data.score, criteria, when }
}

function adviceFor(id: string, advice: string, quality: Record<string, unknown>): string {
  if (id === 'update_fulfilled_in_time' && quality['update_frequency'] !== true)
    return 'declare an update frequency first (`frequency` in dataset-metadata)'
  if (
    quality['has_resources'] !== true &&
    ['resources_documentation', 'has_open_format', 'all_resources_available'].includes(id)
  )
    return 'publish a resource first'
  return advice
}

/** `67 %`. */
export function percent(score: number): string {
  return `${Math.round(score * 100)} %`
}

/** The `quality` output: score, criteria met and not met (with what to do); `''` without one. */
export function qualityOutput(report: QualityReport | undefined): string {
  if (report === undefined) return ''
  return JSON.stringify({
    score: Math.round(report.score * 1000) / 1000,
    when: report.when,
    met: report.criteria.filter((c) => c.met).map((c) => c.id),
    not_met: report.criteria
      .filter((c) => !c.met)
      .map((c) => ({ criterion: c.id, label: c.label, advice: c.advice })),
  })
}

/** One log line: the score and the criteria not met. */
function qualityLine(report: QualityReport | undefined): string {
  if (report === undefined) return 'Quality score: the instance reports none'
  const missing = report.criteria.filter((c) => !c.met).map((c) => c.id)
  const when = report.when === 'before' ? ' (as the dataset is; nothing written)' : ''
  return (
    `Quality score: ${percent(report.score)}${when}` +
    (missing.length > 0 ? `; not met: ${missing.join(', ')}` : '; every criterion met')
  )
}

/**
 * The quality to report after a run: as the dataset was read back after the writes (verify.ts;
 * the score moves with what was written), else, when nothing was written, as the preflight read
 * it. `null`: the instance answers none; nothing when the read back failed (its warning says so),
 * for community resources (the dataset is its owner's), or for a dataset a dry run would create.
 */
export function qualityAfter(
  plan: Plan,
  after: Dataset | undefined,
  written: { results: readonly Result[]; datasetResult: DatasetResult | undefined },
  logger: Logger,
): { quality?: QualityReport | null } {
  if (plan.communityOwner !== undefined || plan.dataset.id === '(new)') return {}
  const wrote =
    written.results.some((r) => r.action !== 'skipped' && r.action !== 'planned') ||
    (written.datasetResult !== undefined &&
      !['skipped', 'planned'].includes(written.datasetResult.action))
  if (wrote && after === undefined) return {}
  const quality = qualityOf(after ?? plan.dataset, after ? 'after' : 'before') ?? null
  logger.info(qualityLine(quality ?? undefined))
  return { quality }
}
