/**
 * The lines the progress display draws: one line per upload in flight and a total line (files
 * done, bytes, smoothed speed, ETA), as `docker push` shows layers. Pure: the model in, lines out.
 */
import { formatBytes, plural } from '../engine/report.js'
import type { ProgressModel } from './progress.js'

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
function fitLeft(text: string, width: number): string {
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
