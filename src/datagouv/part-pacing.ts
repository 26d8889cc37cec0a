/**
 * How many parts of one file are in flight at once (`part-concurrency`): the number the user set,
 * or, with `auto`, as many as make the upload faster.
 *
 * Why it matters: a far server's round trip leaves a gap after each part, which parts in flight
 * together fill (two or three do on an open link); and a link on which one connection carries
 * only so many bytes per round trip (a small TCP window, or the buffer of a proxy on the way)
 * needs as many connections as fill it, which nothing on this side can know in advance.
 *
 * `auto` climbs: it starts with `AUTO_START` parts in flight and, once a whole wave of parts ran
 * at that level from start to answer, tries one more; it keeps climbing while each added part
 * raises the throughput by at least half of what a part adds when every connection is held back
 * by its own limit (1/L of the throughput at L parts), up to `MAX_PARTS_IN_FLIGHT`, and otherwise
 * goes back one level and stays there. The throughput at a level is measured from the parts that
 * ran entirely at it, on their first attempt: parts in flight × bytes / duration (Little's law),
 * which a link shared by every connection keeps flat whatever the level, and a link held back
 * per connection raises with each part. Retried parts are not measured: their time is backoff.
 */

/** `auto`, or a fixed number of parts in flight (1: in order). */
export type PartConcurrency = number | 'auto'

/** Where `auto` starts: what an open far link needs to hide its round trips (BENCHMARKS.md). */
export const AUTO_START = 3

/** The most parts `auto` puts in flight, and the most a user may set. */
export const MAX_PARTS_IN_FLIGHT = 8

/** A part as it started: the level it started at, and the level's epoch (changed at each step). */
export interface PartTicket {
  readonly level: number
  readonly epoch: number
}

/** The parts in flight of one upload round. */
export class PartPacer {
  private level: number
  private epoch = 0
  private settled: boolean
  /** Bytes per ms of each part measured at a level, by level. */
  private readonly rates = new Map<number, number[]>()

  constructor(
    setting: PartConcurrency,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.settled = setting !== 'auto'
    this.level = setting === 'auto' ? AUTO_START : Math.max(1, setting)
  }

  /** Parts that may be in flight now. */
  get limit(): number {
    return this.level
  }

  /** A part starts. */
  start(): PartTicket {
    return { level: this.level, epoch: this.epoch }
  }

  /**
   * A part answered on its first attempt, `ms` after its request began: measured if it ran
   * entirely at the current level, and once a wave of such parts is in, the level may change.
   */
  answered(ticket: PartTicket, bytes: number, ms: number): void {
    if (this.settled || ticket.epoch !== this.epoch || ms <= 0) return
    const rates = this.rates.get(this.level) ?? []
    rates.push(bytes / ms)
    this.rates.set(this.level, rates)
    if (rates.length < this.level) return
    const here = this.throughput(this.level) as number
    const below = this.throughput(this.level - 1)
    if (below === undefined || here >= below * (1 + 0.5 / (this.level - 1))) {
      if (this.level >= MAX_PARTS_IN_FLIGHT) return this.settle(this.level, here)
      this.log(`parts in flight: ${this.level + 1} (${mbps(here)} with ${this.level})`)
      this.level++
      this.epoch++
      return
    }
    this.settle(this.level - 1, below, here)
  }

  /** Parts in flight × mean bytes per ms of one part, at `level`; undefined if not measured. */
  private throughput(level: number): number | undefined {
    const rates = this.rates.get(level)
    if (rates === undefined || rates.length === 0) return undefined
    return (level * rates.reduce((sum, rate) => sum + rate, 0)) / rates.length
  }

  private settle(level: number, throughput: number, above?: number): void {
    const tried = above === undefined ? '' : `; ${mbps(above)} with ${this.level}`
    this.log(`parts in flight: ${level}, kept (${mbps(throughput)} with ${level}${tried})`)
    this.level = level
    this.epoch++
    this.settled = true
  }
}

/** Bytes per ms as MB/s, for the log. */
function mbps(bytesPerMs: number): string {
  return `${(bytesPerMs / 1000).toFixed(1)} MB/s`
}
