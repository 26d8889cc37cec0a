/**
 * The body of a dataset PUT (docs/udata-protocol.md §6.3 and §15). udata's dataset form fills a
 * field the body leaves out with its stored value for most fields, but with its EMPTY value for
 * some: `tags` (`TagField.process_formdata` sets `[]`), `temporal_coverage` (`DateRangeField`:
 * `null`) on every version seen, and `private` (`false`) on udata 7. A body carrying only the
 * changed fields would wipe those. So the body is the dataset's editable state as just read,
 * merged with the change: every simple field that udata could reset goes back as it stands, in the
 * form the API answers it (tags already slugified, as udata stores them).
 *
 * Left out on purpose, and kept by udata when absent on both versions (checked by the conformance
 * suite, test/udata/): `extras` (merged through the v2 endpoint, which keeps the analyser's keys),
 * `spatial`, `contact_points`, the `access_*` fields, `archived` and `deleted` (states, not
 * metadata), `organization` and `owner` (a transfer, not an edit), `resources` (the whole list).
 */
import type { Dataset } from './schemas.js'

/** The fields sent back as they stand with every dataset PUT (when the dataset has a value). */
export const ECHOED_FIELDS = [
  'title',
  'acronym',
  'description',
  'description_short',
  'license',
  'frequency',
  'frequency_date',
  'temporal_coverage',
  'tags',
  'private',
] as const

/**
 * `patch` over the echoed fields of `live`; a field `live` holds no value for (null, or an empty
 * text, which udata's required fields refuse) is left out.
 */
export function datasetPutBody(
  live: Dataset,
  patch: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if ('resources' in patch)
    throw new Error('a dataset patch must never carry resources: it would replace the whole list')
  const state: Record<string, unknown> = {}
  const fields = live as Record<string, unknown>
  for (const field of ECHOED_FIELDS) {
    const value = fields[field]
    if (value !== undefined && value !== null && value !== '') state[field] = value
  }
  return { ...state, ...patch }
}
