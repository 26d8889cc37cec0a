/**
 * A readers-writer gate, first come first served: any number of `shared` sections run together,
 * an `exclusive` section runs alone. A section waits for every section asked before it that it
 * cannot run beside, so neither kind starves the other.
 */
export class Gate {
  private readonly queue: Array<{ exclusive: boolean; start: () => void }> = []
  private sharedRunning = 0
  private exclusiveRunning = false

  /** Runs `fn` beside other shared sections, never beside an exclusive one. */
  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.enter(false, fn)
  }

  /** Runs `fn` alone. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.enter(true, fn)
  }

  private async enter<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      this.queue.push({ exclusive, start })
      this.admit()
    })
    try {
      return await fn()
    } finally {
      if (exclusive) this.exclusiveRunning = false
      else this.sharedRunning--
      this.admit()
    }
  }

  /** Starts the waiting sections at the head of the queue that may run now. */
  private admit(): void {
    for (;;) {
      const next = this.queue[0]
      if (next === undefined || this.exclusiveRunning) return
      if (next.exclusive && this.sharedRunning > 0) return
      this.queue.shift()
      if (next.exclusive) this.exclusiveRunning = true
      else this.sharedRunning++
      next.start()
      if (next.exclusive) return
    }
  }
}
