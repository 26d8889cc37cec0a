import { CLOSED_FORMATS, FREQUENCIES, QUALITY_DESCRIPTION_LENGTH } from './constants.js'
import type { DatasetState, ResourceState } from './types.js'

/**
 * A dataset's `quality` (udata v17 `Dataset.quality`, `compute_quality` and
 * `compute_quality_score` in `udata/core/dataset/models.py`): nine criteria, each worth one ninth
 * of `score`. udata caches it on save and finishes it on read (`update_fulfilled_in_time` depends
 * on the clock); the emulator computes it whole on each read, which comes to the same since every
 * write that can change it saves the dataset.
 */

/** Python's truth value of a JSON value. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0
  return Boolean(value)
}

/** `Resource.closed_or_no_format`. */
function closedOrNoFormat(resource: ResourceState): boolean {
  return !resource.format || CLOSED_FORMATS.has(resource.format.toLowerCase())
}

/** The resources' part: only when the dataset has some (`has_resources`). */
function resourceCriteria(resources: readonly ResourceState[]): Record<string, boolean> {
  if (resources.length === 0) return {}
  return {
    has_resources: true,
    has_open_format: !resources.every(closedOrNoFormat),
    // `check_availability`: remote resources only, `check:available` when hydra wrote it.
    all_resources_available: resources
      .filter((r) => r.filetype === 'remote')
      .every((r) => truthy(r.extras['check:available'] ?? 'unknown')),
    resources_documentation: resources.some(
      (r) => r.type === 'documentation' || truthy(r.description),
    ),
  }
}

/**
 * `update_fulfilled_in_time`: with a frequency that expects updates, whether `last_update` plus
 * its delay is at most one day late (`timedelta.days >= -1`); true for frequencies without a
 * delay; absent when there is no frequency.
 */
function fulfilledInTime(frequency: string, lastUpdate: Date, now: Date): boolean | undefined {
  if (frequency === 'unknown') return undefined
  const delta = FREQUENCIES.find((f) => f.id === frequency)?.deltaMs ?? null
  if (delta === null) return true
  const late = lastUpdate.getTime() + delta - now.getTime()
  return Math.floor(late / 86_400_000) >= -1
}

/**
 * v7's `update_fulfilled_in_time` (`Dataset.quality` and `next_update` in v7's
 * `udata/core/dataset/models.py`): with a frequency it knows a delay for, whether `next_update` is
 * not past at all (`-(next_update - utcnow()).days <= 0`: no day of tolerance); true for
 * continuous, irregular and punctual; absent otherwise (unknown included).
 */
function fulfilledInTimeLegacy(
  frequency: string,
  lastUpdate: Date,
  now: Date,
): boolean | undefined {
  const delta = LEGACY_DELTAS[frequency]
  if (delta !== undefined)
    return Math.floor((lastUpdate.getTime() + delta - now.getTime()) / DAY) >= 0
  return ['continuous', 'irregular', 'punctual'].includes(frequency) ? true : undefined
}

const DAY = 86_400_000

/** v7's `next_update` delays, by frequency. */
const LEGACY_DELTAS: Readonly<Record<string, number>> = {
  hourly: DAY / 24,
  ...Object.fromEntries(
    ['fourTimesADay', 'threeTimesADay', 'semidaily', 'daily'].map((f) => [f, DAY]),
  ),
  ...Object.fromEntries(
    ['fourTimesAWeek', 'threeTimesAWeek', 'semiweekly', 'weekly'].map((f) => [f, 7 * DAY]),
  ),
  biweekly: 14 * DAY,
  ...Object.fromEntries(['threeTimesAMonth', 'semimonthly', 'monthly'].map((f) => [f, 31 * DAY])),
  bimonthly: 62 * DAY,
  quarterly: (365 / 4) * DAY,
  ...Object.fromEntries(['threeTimesAYear', 'semiannual', 'annual'].map((f) => [f, 365 * DAY])),
  biennial: 2 * 365 * DAY,
  triennial: 3 * 365 * DAY,
  quinquennial: 5 * 365 * DAY,
}

/** `legacy`: as udata v7 computes it (its `update_fulfilled_in_time`; the rest is the same). */
export function renderQuality(
  dataset: DatasetState,
  lastUpdate: Date,
  now = new Date(),
  legacy = false,
): Record<string, unknown> {
  const quality: Record<string, boolean | number> = {
    license:
      dataset.license !== null ||
      dataset.licenseDroppedAt?.getTime() === dataset.lastModifiedInternal.getTime(),
    temporal_coverage: dataset.temporalCoverage !== null,
    spatial: dataset.spatial !== null,
    update_frequency: dataset.frequency !== 'unknown',
    dataset_description_quality: [...dataset.description].length > QUALITY_DESCRIPTION_LENGTH,
    ...resourceCriteria(dataset.resources),
  }
  const fulfilled = (legacy ? fulfilledInTimeLegacy : fulfilledInTime)(
    dataset.frequency,
    lastUpdate,
    now,
  )
  if (fulfilled !== undefined) quality['update_fulfilled_in_time'] = fulfilled
  const points = [
    'license',
    'temporal_coverage',
    'spatial',
    'update_frequency',
    'update_fulfilled_in_time',
    'dataset_description_quality',
    'has_open_format',
    'all_resources_available',
    'resources_documentation',
  ].filter((key) => quality[key] === true).length
  quality['score'] = points / 9
  return quality
}
