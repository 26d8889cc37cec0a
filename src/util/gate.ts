/**
 * A gate for sections of named kinds, first come first served: sections of one kind run together,
 * sections of different kinds never overlap, and a section of the kind `alone` runs by itself. A
 * section waits for every section asked before it that it cannot run beside, so no kind starves
 * another.
 */
export class Gate<Kind extends string> {
  private readonly queue: Array<{ kind: Kind | 'alone'; start: () => void }> = []
  private running: { kind: Kind | 'alone'; count: number } | undefined

  /** Runs `fn` beside other sections of `kind` only (`alone`: beside none). */
  run<T>(kind: Kind | 'alone', fn: () => Promise<T>): Promise<T> {
    return this.enter(kind, fn)
  }

  private async enter<T>(kind: Kind | 'alone', fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      this.queue.push({ kind, start })
      this.admit()
    })
    try {
      return await fn()
    } finally {
      const running = this.running as { count: number }
      running.count--
      if (running.count === 0) this.running = undefined
      this.admit()
    }
  }

  /** Starts the waiting sections at the head of the queue that may run now. */
  private admit(): void {
    for (;;) {
      const next = this.queue[0]
      if (next === undefined) return
      const running = this.running
      if (running !== undefined && (running.kind !== next.kind || next.kind === 'alone')) return
      this.queue.shift()
      if (running === undefined) this.running = { kind: next.kind, count: 1 }
      else running.count++
      next.start()
    }
  }
}
