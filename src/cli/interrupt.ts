/** What the CLI says when a run is interrupted (Ctrl-C, SIGTERM): what was cut, what stays. */
import { formatBytes } from '../engine/report.js'
import type { ProgressModel } from './progress.js'

/**
 * Where the run was when it was interrupted: before its first write (`preflight`), in a dry run
 * (which writes nothing), or publishing (from the engine's `publish` phase on, until the end).
 */
export type Stage = 'preflight' | 'dry-run' | 'publish'

/**
 * What to tell a user who pressed Ctrl-C: what was cut, what the server holds (parts sent but not
 * combined are discarded by the server, so nothing was replaced for that file), what was already
 * published (it stays), and that running the same command again finishes the work.
 */
export function interruptReport(
  model: ProgressModel,
  stage: Stage,
  chunkSize: number,
  signal = 'Ctrl-C',
): string[] {
  if (stage === 'preflight')
    return [`Interrupted (${signal}) before publishing: nothing was written.`]
  if (stage === 'dry-run')
    return [`Interrupted (${signal}) during the dry run: nothing was written.`]
  const lines = [`Interrupted (${signal}) while publishing.`]
  const uploads = model.all()
  const cut = uploads.filter((u) => u.state === 'sending')
  const waiting = uploads.filter((u) => u.state === 'sent')
  const published = uploads.filter((u) => u.state === 'published')
  if (cut.length > 0) {
    lines.push('Uploads cut short: nothing was replaced or created for these files.')
    for (const u of cut) {
      const how =
        u.size > chunkSize
          ? 'in parts the server never combined; it discards them'
          : 'in a request cut short; the server discards it'
      lines.push(
        `  - ${u.source}: ${formatBytes(Math.min(u.sent, u.size))} of ${formatBytes(u.size)} sent ` +
          `${how}`,
      )
    }
  }
  if (waiting.length > 0) {
    lines.push(
      model.endEvents
        ? "Sent in full, the server's answer not received (the resource holds the new file or still the previous one):"
        : 'Sent in full before the interruption (published if the server had time to store them):',
    )
    for (const u of waiting) lines.push(`  - ${u.source} (${formatBytes(u.size)})`)
  }
  if (published.length > 0) {
    lines.push('Already published (they stay published):')
    for (const u of published) lines.push(`  - ${u.source} (${u.action ?? 'uploaded'})`)
  }
  const failed = uploads.filter((u) => u.state === 'failed')
  if (failed.length > 0) {
    lines.push('Failed before the interruption (nothing replaced):')
    for (const u of failed) lines.push(`  - ${u.source}`)
  }
  lines.push(
    uploads.length === 0
      ? 'No upload had started; metadata updates, signals or removals under way may or may not have been applied.'
      : 'Metadata updates, signals or removals under way, if any, may or may not have been applied.',
  )
  lines.push(
    'Run the same command again to finish (what the server already holds is skipped as unchanged).',
  )
  return lines
}
