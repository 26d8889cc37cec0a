/**
 * What data.gouv.fr's producer guides ask beyond replacing files, applied once each step is
 * decided and before anything is written: dated releases settled and `keep` planned
 * (plan/retention.ts), each tabular file checked (checks.ts), the declared frequency's deadline
 * (plan/frequency.ts), and a temporal coverage whose end follows the publications
 * (plan/coverage.ts).
 */
import type { Dataset } from '../datagouv/schemas.js'
import { hashFile } from '../files/hash.js'
import { checkFiles } from './checks.js'
import { inputName, type Settings } from './inputs.js'
import type { DatasetStep, RemovalStep, Step, WithProblems } from './plan.js'
import { dayOf, endsToday, publishesFile, resolveCoverage } from './plan/coverage.js'
import { planDataset } from './plan/dataset.js'
import { missedFrequency } from './plan/frequency.js'
import type { ReleasePlan } from './plan/releases.js'
import { settleReleases } from './plan/retention.js'

export interface Guided extends WithProblems {
  /** The decided steps, releases settled, tabular files checked. */
  steps: Step[]
  /** `keep`: older releases to remove, after everything else. */
  retention: RemovalStep[]
  /** The dataset's step, its coverage's end resolved (`end: today`). */
  datasetStep: DatasetStep | undefined
  warnings: string[]
}

export interface GuidesInput {
  settings: Settings
  /** The dataset as read before the run (absent when it is to be created). */
  found: Dataset | undefined
  known: { frequencies?: readonly string[]; licenses?: readonly string[] }
  releases: readonly ReleasePlan[]
  removals: readonly RemovalStep[]
  /** The dataset step planned with the coverage's end at the run's date. */
  planned: DatasetStep | undefined
  startedAt: Date
  /** `as: community`: the dataset's metadata and quality are its owner's. */
  community: boolean
}

export async function followGuides(decided: readonly Step[], input: GuidesInput): Promise<Guided> {
  const { settings, found } = input
  const settled = await settleReleases(decided, input.releases, {
    ifUnchanged: settings.ifUnchanged,
    removed: new Set(input.removals.map((r) => r.resource.id)),
    hash: hashFile,
  })
  const checked = await checkFiles(settled.steps, settings.fileChecks, settings.concurrency)
  const publishing = publishesFile(checked.steps)
  const failing = settings.fileChecks === 'error'
  const late =
    found === undefined || input.community
      ? []
      : missedFrequency(found, input.startedAt, publishing)
  return {
    steps: checked.steps,
    retention: settled.retention,
    datasetStep: datasetStepOf(input, publishing),
    warnings: [...(failing ? [] : checked.warnings), ...late],
    problems: [
      ...settled.problems,
      ...(failing
        ? checked.warnings.map(
            (w) => `${w} (${inputName('file-checks')} is 'error'; 'warn' lets it go)`,
          )
        : []),
    ],
  }
}

/**
 * The dataset step: as planned, unless `end: today` and the run publishes no file, when the end
 * stays the dataset's.
 */
function datasetStepOf(input: GuidesInput, publishing: boolean): DatasetStep | undefined {
  const metadata = input.settings.datasetMetadata
  if (publishing || !endsToday(metadata) || input.found === undefined) return input.planned
  const kept = resolveCoverage(metadata, input.found, dayOf(input.startedAt), false)
  return kept.metadata === undefined
    ? input.planned
    : planDataset(kept.metadata, input.found, input.known).step
}
