/**
 * What the progress display knows: the uploads of a run, each with its bytes sent, its state and
 * its speed, and the totals over them. Pure: events in, time passed in, so that tests give a
 * sequence of events and read the state; frame.ts draws it, terminal.ts in place.
 */
import { Rate } from './rate.js'

/** An upload as the engine reports it (a FileEntry is one). */
export interface UploadEntry {
  /** Absolute path: the key of the upload. */
  path: string
  /** What the user sees: the relative path. */
  source: string
  size: number
}

type UploadState = 'sending' | 'sent' | 'published' | 'failed'

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
 * The uploads of a run. `progress` gives the bytes sent; `plan` (the uploads to come, which the
 * engine reports before the first byte) and `ended` (an upload's outcome) make the total exact and
 * keep a fully sent upload on screen until the server has answered. Without them (a model fed by
 * `progress` alone), the total counts the uploads seen so far, and an upload whose bytes are all
 * sent counts as done.
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
