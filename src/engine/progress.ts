/**
 * Progress as log lines, where nothing can be redrawn (the runner's log, a pipe): for files larger
 * than a part, one line every 10 s, and one when every byte is sent. Both edges use it.
 */
import type { FileEntry } from './manifest.js'
import { formatBytes } from '../util/text.js'

export function periodicLines(
  chunkSize: number,
  now: () => number = Date.now,
): (entry: FileEntry, sent: number, line: (text: string) => void) => void {
  const state = new Map<string, { started: number; logged: number; finished: boolean }>()
  return (entry, sent, line) => {
    if (entry.size <= chunkSize) return
    const at = now()
    const s = state.get(entry.path) ?? { started: at, logged: at, finished: false }
    state.set(entry.path, s)
    // Every 10 s, and once when the count first reaches the size (re-sent bytes can carry it past).
    const reachedEnd = sent >= entry.size && !s.finished
    if (at - s.logged < 10_000 && !reachedEnd) return
    if (reachedEnd) s.finished = true
    s.logged = at
    const seconds = Math.max(0.001, (at - s.started) / 1000)
    const percent = entry.size === 0 ? 100 : Math.min(100, (100 * sent) / entry.size)
    const rate = formatBytes(Math.round(sent / seconds))
    line(
      `${entry.source}: ${formatBytes(Math.min(sent, entry.size))} of ${formatBytes(entry.size)} ` +
        `(${percent.toFixed(0)} %), ${rate}/s`,
    )
  }
}
