/**
 * A server's `Retry-After` on a 429 or 503 (docs/udata-protocol.md §9): the server asked every
 * client to wait, so every new request to it waits, not only the refused one while the others
 * (the other parts of a file, the other files) keep sending. Requests already under way go on.
 */
import { sleep } from './retry.js'

export class Pause {
  private end = 0

  constructor(
    /** The longest wait honoured (the retry policy's ceiling). */
    private readonly ceilingMs: number,
    private readonly logger: { info(message: string): void },
    /** The server's host, for messages. */
    private readonly host: string,
  ) {}

  /** The server asked to wait `ms` (capped at the ceiling) after `what`. */
  until(ms: number, what: string): void {
    const wait = Math.min(this.ceilingMs, ms)
    const end = Date.now() + wait
    if (end <= this.end) return
    this.end = end
    this.logger.info(
      `${what} with Retry-After: no new request goes to ${this.host} for ${(wait / 1000).toFixed(1)} s`,
    )
  }

  /** Resolves once no pause holds (a pause asked for meanwhile is waited for too). */
  async wait(): Promise<void> {
    for (let left = this.end - Date.now(); left > 0; left = this.end - Date.now()) await sleep(left)
  }
}
