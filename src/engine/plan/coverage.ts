/**
 * `dataset-metadata`'s `temporal_coverage: {end: today}`: the end of the dataset's temporal
 * coverage follows its publications. It becomes the run's date (UTC) when the run publishes a file
 * (an upload or a new resource), and stays as it is otherwise, so a run that finds nothing new
 * sends nothing. A dataset PUT carries `temporal_coverage` whole (udata empties it when left out,
 * docs/udata-protocol.md §15.1), so the start is always sent: the one given, else the dataset's.
 */
import type { Dataset } from '../../datagouv/schemas.js'
import { inputName, type DatasetMetadata } from '../inputs.js'
import type { Step, WithProblems } from '../plan.js'

/** The run's date as udata stores a coverage date: `YYYY-MM-DD`, in UTC. */
export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10)
}

export function endsToday(metadata: DatasetMetadata | undefined): boolean {
  return metadata?.temporal_coverage?.end === 'today'
}

/** Whether the steps publish a file: what moves the end of a coverage that follows publications. */
export function publishesFile(steps: readonly Step[]): boolean {
  return steps.some((s) => s.kind === 'file' && (s.action === 'upload' || s.action === 'create'))
}

/**
 * The metadata with `end: today` resolved: the run's date when `publishing` (or when the dataset
 * has no end yet), else the end the dataset has; the start given, else the dataset's. A problem
 * when neither gives a start (`live` absent: the dataset is to be created).
 */
export function resolveCoverage(
  metadata: DatasetMetadata | undefined,
  live: Dataset | undefined,
  today: string,
  publishing: boolean,
): WithProblems & { metadata: DatasetMetadata | undefined } {
  const coverage = metadata?.temporal_coverage
  if (metadata === undefined || coverage?.end !== 'today') return { metadata, problems: [] }
  const held = live?.temporal_coverage
  const start = coverage.start ?? held?.start ?? undefined
  if (start === undefined || start === null) {
    const dataset = live === undefined ? 'the dataset to create' : `dataset '${live.slug}'`
    return {
      metadata: undefined,
      problems: [
        `${inputName('dataset-metadata')}.temporal_coverage: end: today keeps the dataset's start, and ` +
          `${dataset} has none: give temporal_coverage.start`,
      ],
    }
  }
  const heldEnd = typeof held?.end === 'string' && held.end !== '' ? held.end : undefined
  const end = publishing || heldEnd === undefined ? today : heldEnd.slice(0, 10)
  return {
    metadata: { ...metadata, temporal_coverage: { start, end } },
    problems: [],
  }
}

/**
 * The settings as the dataset's creation reads them (before the dataset is read): `end: today` is
 * the run's date (the start must then be given: resolveCoverage says so).
 */
export function withCreationCoverage<S extends { datasetMetadata: DatasetMetadata | undefined }>(
  settings: S,
  today: string,
): S {
  const metadata = settings.datasetMetadata
  const coverage = metadata?.temporal_coverage
  if (metadata === undefined || coverage?.end !== 'today') return settings
  return {
    ...settings,
    datasetMetadata: { ...metadata, temporal_coverage: { ...coverage, end: today } },
  }
}
