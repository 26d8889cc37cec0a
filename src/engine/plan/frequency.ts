/**
 * The declared update frequency, kept or missed: udata's quality score has a criterion for it
 * (`update_fulfilled_in_time`, docs/udata-protocol.md §16): the dataset's `last_update` plus the
 * frequency's delay, with one day of tolerance, must not be past. The delays are udata v17's
 * (`UpdateFrequency` in `udata/core/dataset/constants.py`), v7's former ids included.
 */
import type { Dataset } from '../../datagouv/schemas.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The delay each frequency expects between two updates; absent: no update is expected. */
const DELAYS: Readonly<Record<string, number>> = {
  oneMinute: 60_000,
  fiveMinutes: 5 * 60_000,
  tenMinutes: 10 * 60_000,
  fifteenMinutes: 15 * 60_000,
  thirtyMinutes: 30 * 60_000,
  hourly: HOUR,
  bihourly: 2 * HOUR,
  trihourly: 3 * HOUR,
  twelveHours: 12 * HOUR,
  severalTimesADay: DAY,
  fourTimesADay: DAY,
  threeTimesADay: DAY,
  semidaily: DAY,
  daily: DAY,
  fiveTimesAWeek: 7 * DAY,
  fourTimesAWeek: 7 * DAY,
  threeTimesAWeek: 7 * DAY,
  semiweekly: 7 * DAY,
  weekly: 7 * DAY,
  biweekly: 14 * DAY,
  threeTimesAMonth: 31 * DAY,
  semimonthly: 31 * DAY,
  monthly: 31 * DAY,
  bimonthly: 62 * DAY,
  quarterly: 93 * DAY,
  threeTimesAYear: 365 * DAY,
  semiannual: 365 * DAY,
  annual: 365 * DAY,
  biennial: 2 * 365 * DAY,
  triennial: 3 * 365 * DAY,
  quadrennial: 4 * 365 * DAY,
  quinquennial: 5 * 365 * DAY,
  decennial: 10 * 365 * DAY,
  bidecennial: 20 * 365 * DAY,
  tridecennial: 30 * 365 * DAY,
}

/**
 * A warning when the dataset's declared frequency was missed before this run: its last update is
 * older than the frequency allows (udata's delay plus one day). `publishing`: this run publishes a
 * file, which brings it up to date.
 */
export function missedFrequency(dataset: Dataset, now: Date, publishing: boolean): string[] {
  const frequency = dataset.frequency ?? undefined
  const delay = frequency === undefined ? undefined : DELAYS[frequency]
  const held = (dataset as Record<string, unknown>)['last_update']
  const last = typeof held === 'string' ? Date.parse(held) : Number.NaN
  if (frequency === undefined || delay === undefined || Number.isNaN(last)) return []
  const late = now.getTime() - (last + delay)
  if (late <= DAY) return []
  const days = Math.floor((now.getTime() - last) / DAY)
  const then = new Date(last).toISOString().slice(0, 10)
  const next = publishing
    ? 'this run publishes a file, which brings it up to date'
    : 'this run publishes no file: publish one, or declare a frequency the updates keep'
  return [
    `dataset '${dataset.slug}' declares the frequency '${frequency}' (an update at least every ` +
      `${every(delay)}), and its last update was on ${then}, ${days} days before this run: ` +
      `data.gouv.fr's quality score counts it as not updated in time; ${next}`,
  ]
}

function every(delay: number): string {
  const [n, unit] =
    delay < HOUR
      ? [delay / 60_000, 'minute']
      : delay < DAY
        ? [delay / HOUR, 'hour']
        : [delay / DAY, 'day']
  return n === 1 ? unit : `${n} ${unit}s`
}
