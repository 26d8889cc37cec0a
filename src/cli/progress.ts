/**
 * What the progress display knows, and the lines it draws: one line per upload in flight and a
 * total line (files done, bytes, smoothed speed, ETA), as `docker push` shows layers. Pure: events
 * in, lines out, time passed in, so that tests give a sequence of events and read the frame.
 * Drawing in place is terminal.ts's job.
 */
import { formatBytes, plural } from '../engine/report.js'

/** An upload as the engine reports it (a FileEntry is one). */
export interface UploadEntry {
  /** Absolute path: the key of the upload. */
  path: string
  /** What the user sees: the relative path. */
  source: string
  size: number
}

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

export type UploadState = 'sending' | 'sent' | 'published' | 'failed'

export interface Upload extends UploadEntry {
  /** Bytes sent so far, re-sent bytes included (so it may pass `size`). */
  sent: number
  started: number
  state: UploadState
  /** With end events: the result's action (`uploaded`, `created`, `failed`). */
  action?: string
  rate: Rate
}

/**
 * The uploads of a run. `progress` is all the engine reports today; `plan` (the uploads to come)
 * and `ended` (an upload's outcome) make the total exact and keep a fully sent upload on screen
 * until the server has answered. Without them, the total counts the uploads seen so far, and an
 * upload whose bytes are all sent counts as done.
 */
export class ProgressModel {
  private readonly uploads = new Map<string, Upload>()
  private planned: Map<string, UploadEntry> | undefined
  private readonly total = new Rate()

  /** The uploads the run will make, before the first byte (optional). */
  plan(entries: readonly UploadEntry[]): void {
    this.planned = new Map(
      entries.map((e) => [e.path, { path: e.path, source: e.source, size: e.size }]),
    )
  }

  get endEvents(): boolean {
    return this.planned !== undefined
  }

  progress(entry: UploadEntry, sent: number, now: number): void {
    let upload = this.uploads.get(entry.path)
    if (upload === undefined) {
      // The speeds start counting at the next tick: what the first reads pushed into socket
      // buffers at disk speed is not counted as sent over the network.
      upload = {
        path: entry.path,
        source: entry.source,
        size: entry.size,
        sent: 0,
        started: now,
        state: 'sending',
        rate: new Rate(),
      }
      this.uploads.set(entry.path, upload)
    }
    upload.sent = sent
    if (upload.state === 'sending' && sent >= entry.size) upload.state = 'sent'
  }

  /** An upload's outcome, when the engine reports it (optional). */
  ended(entry: UploadEntry, failed: boolean, action: string, now: number): void {
    if (!this.uploads.has(entry.path)) this.progress(entry, failed ? 0 : entry.size, now)
    const upload = this.uploads.get(entry.path) as Upload
    upload.state = failed ? 'failed' : 'published'
    upload.action = action
  }

  /** Samples the speeds: call it on a steady clock (the redraw timer), so a stall reads as one. */
  tick(now: number): void {
    let sent = 0
    for (const upload of this.uploads.values()) {
      sent += upload.sent
      if (this.isActive(upload)) upload.rate.sample(upload.sent, now)
    }
    if (this.uploads.size > 0) this.total.sample(sent, now)
  }

  /** Uploads on screen: still sending, or (with end events) sent and waiting for the answer. */
  active(): Upload[] {
    return [...this.uploads.values()].filter((u) => this.isActive(u))
  }

  all(): Upload[] {
    return [...this.uploads.values()]
  }

  private isActive(upload: Upload): boolean {
    return upload.state === 'sending' || (upload.state === 'sent' && this.endEvents)
  }

  /** Files done / total, bytes done / total, speed and ETA, over the uploads known. */
  totals(): {
    done: number
    failed: number
    files: number | undefined
    bytes: number
    size: number | undefined
    perSecond: number | undefined
  } {
    const uploads = this.all()
    const done = uploads.filter((u) => !this.isActive(u))
    const bytes = uploads.reduce((sum, u) => sum + Math.min(u.sent, u.size), 0)
    const size = this.planned
      ? [...this.planned.values()].reduce((sum, e) => sum + e.size, 0)
      : undefined
    return {
      done: done.length,
      failed: done.filter((u) => u.state === 'failed').length,
      files: this.planned?.size,
      bytes,
      size,
      perSecond: this.total.perSecond,
    }
  }
}

/** `0:07`, `12:34`, `1:02:03`; undefined when unknown or beyond a day. */
export function formatEta(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400)
    return undefined
  const s = Math.ceil(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

const formatRate = (perSecond: number | undefined): string =>
  perSecond === undefined ? '' : `${formatBytes(Math.round(perSecond))}/s`

const eta = (remaining: number, perSecond: number | undefined): string => {
  const text =
    perSecond !== undefined && perSecond > 0 ? formatEta(remaining / perSecond) : undefined
  return text === undefined ? '' : `ETA ${text}`
}

/**
 * `…/end/of/a/long/path.csv` in `width` characters: the start goes, at a `/` when one is in reach.
 */
export function fitLeft(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width)
  if (width <= 1) return '…'.slice(0, width)
  const kept = text.slice(text.length - width + 1)
  const slash = kept.indexOf('/')
  return `…${slash > 0 ? kept.slice(slash) : kept}`.padEnd(width)
}

function bar(ratio: number, width: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, ratio)) * width)
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled === width ? '=' : '>') : ''}${' '.repeat(width - filled)}]`
}

/**
 * The frame: one line per upload on screen (oldest first), then the total line; `[]` when no
 * upload is on screen. Columns keep their place from one redraw to the next, and every line fits
 * in `columns`: the bar shrinks first (down to 10), then the file name loses its start.
 */
export function renderFrame(model: ProgressModel, columns: number): string[] {
  const uploads = model.active().sort((a, b) => a.started - b.started)
  if (uploads.length === 0) return []
  const rows = uploads.map((u) => {
    const shown = Math.min(u.sent, u.size)
    const ratio = u.size === 0 ? 1 : shown / u.size
    const waiting = u.state === 'sent'
    return {
      name: u.source,
      ratio,
      percent: `${String(Math.floor(ratio * 100)).padStart(3)} %`,
      bytes: `${formatBytes(shown)} / ${formatBytes(u.size)}`,
      // The speed and ETA columns, or what the upload waits for once every byte is sent.
      status: waiting
        ? 'waiting for the server'.padEnd(RATE_WIDTH + 2 + ETA_WIDTH)
        : `${formatRate(u.rate.perSecond).padStart(RATE_WIDTH)}  ${eta(u.size - shown, u.rate.perSecond).padEnd(ETA_WIDTH)}`,
    }
  })
  const bytesWidth = Math.max(...rows.map((r) => r.bytes.length))
  const statusWidth = RATE_WIDTH + 2 + ETA_WIDTH
  const longest = Math.max(...rows.map((r) => r.name.length))
  // "  name  [bar]  percent  bytes  speed  ETA", one column spare so that no terminal wraps the
  // line. On a narrow terminal the bar goes first, then the byte counts, then speed and ETA.
  type Layout = { bar: boolean; bytes: boolean; status: boolean }
  const narrowest: Layout = { bar: false, bytes: false, status: false }
  const layouts: Layout[] = [
    { bar: true, bytes: true, status: true },
    { bar: false, bytes: true, status: true },
    { bar: false, bytes: false, status: true },
  ]
  const tailWidth = (l: Layout) =>
    5 + (l.bytes ? 2 + bytesWidth : 0) + (l.status ? 2 + statusWidth : 0)
  const room = (l: Layout) => columns - 1 - 2 - 2 - tailWidth(l) - (l.bar ? 2 + MIN_BAR : 0)
  const layout = layouts.find((l) => room(l) >= Math.min(longest, 20)) ?? narrowest
  const nameWidth = Math.max(8, Math.min(longest, 50, room(layout)))
  // The bar takes what the name leaves, up to 30.
  const barWidth = layout.bar ? Math.min(30, MIN_BAR + room(layout) - nameWidth) : 0
  const lines = rows.map((r) => {
    const parts = [
      fitLeft(r.name, nameWidth),
      ...(layout.bar ? [bar(r.ratio, barWidth)] : []),
      r.percent,
      ...(layout.bytes ? [r.bytes.padStart(bytesWidth)] : []),
      ...(layout.status ? [r.status] : []),
    ]
    return clip(`  ${parts.join('  ')}`, columns)
  })

  return [...lines, clip(`  ${totalLine(model, uploads.length)}`, columns)]
}

/** `Total:  1/3 files done  12.0 MiB / 60.0 MiB  8.00 MiB/s  ETA 0:06`. */
function totalLine(model: ProgressModel, inFlight: number): string {
  const t = model.totals()
  const files =
    t.files === undefined
      ? `${plural(t.done, 'file')} done, ${inFlight} in flight`
      : `${t.done}/${plural(t.files, 'file')} done`
  const failed = t.failed > 0 ? `, ${t.failed} failed` : ''
  const bytes =
    t.size === undefined
      ? `${formatBytes(t.bytes)} sent`
      : `${formatBytes(t.bytes)} / ${formatBytes(t.size)}`
  return [
    'Total:',
    `${files}${failed}`,
    bytes,
    formatRate(t.perSecond),
    t.size === undefined ? '' : eta(t.size - t.bytes, t.perSecond),
  ]
    .filter(Boolean)
    .join('  ')
}

/** Cells of the narrowest bar worth drawing. */
const MIN_BAR = 10
/** `1023.9 MiB/s` */
const RATE_WIDTH = 12
/** `ETA 12:34:56` */
const ETA_WIDTH = 12

/**
 * The line without trailing spaces, within `columns - 1` characters (the last column makes some
 * terminals wrap).
 */
function clip(line: string, columns: number): string {
  const trimmed = line.trimEnd()
  return trimmed.length < columns ? trimmed : trimmed.slice(0, Math.max(0, columns - 1)).trimEnd()
}

/** Where the run was when it was interrupted. */
export type Phase = 'preflight' | 'dry-run' | 'publish' | 'after-publish'

/**
 * What to tell a user who pressed Ctrl-C: what was cut, what the server holds (parts sent but not
 * combined are discarded by the server, so nothing was replaced for that file), what was already
 * published (it stays), and that running the same command again finishes the work.
 */
export function interruptReport(
  model: ProgressModel,
  phase: Phase,
  chunkSize: number,
  signal = 'Ctrl-C',
): string[] {
  if (phase === 'preflight')
    return [`Interrupted (${signal}) before publishing: nothing was written.`]
  if (phase === 'dry-run')
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
