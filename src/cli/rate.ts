/**
 * Bytes per second as an exponential moving average over time, whose weight halves every
 * `halfLifeMs`. Nothing is shown during the first `warmupMs`: the first reads of a file fill
 * socket buffers at disk speed, and a rate over them says nothing of the network (the
 * `953.7 MiB/s after 1 MiB` of a naive bytes / elapsed). The first reading is the plain average
 * over that first second; each later sample moves it by a weight that grows with the time elapsed,
 * so irregular samples count for their duration, and a stall pulls it down to zero.
 */
export class Rate {
  private first: { at: number; bytes: number } | undefined
  private last: { at: number; bytes: number } | undefined
  private value: number | undefined

  constructor(
    private readonly halfLifeMs = 3000,
    private readonly warmupMs = 1000,
  ) {}

  /** Records the running total of bytes at time `at` (ms). */
  sample(bytes: number, at: number): void {
    if (this.first === undefined || this.last === undefined) {
      this.first = this.last = { at, bytes }
      return
    }
    if (this.value === undefined) {
      const elapsed = at - this.first.at
      if (elapsed < this.warmupMs) return
      this.value = ((bytes - this.first.bytes) / elapsed) * 1000
      this.last = { at, bytes }
      return
    }
    const dt = at - this.last.at
    if (dt <= 0) return
    const rate = ((bytes - this.last.bytes) / dt) * 1000
    this.value += (1 - 2 ** (-dt / this.halfLifeMs)) * (rate - this.value)
    this.last = { at, bytes }
  }

  /** Bytes per second; undefined until the warm-up is over. */
  get perSecond(): number | undefined {
    return this.value
  }
}
