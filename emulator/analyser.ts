import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { STATUS_CODES } from 'node:http'

import { mimeFor } from './constants.js'
import { isoDate, isPlainObject } from './http.js'
import type { Storage } from './storage.js'
import type { Store } from './store.js'
import type { ResourceState } from './types.js'

/**
 * The resource analyser, hydra (`datagouv/hydra`), simulated. When udata sends it a resource event
 * (`on_resource_added` after an upload or a remote creation, `on_resource_updated` after a file
 * replacement or a resource PUT — `udata/core/dataset/events.py`, with `PUBLISH_ON_RESOURCE_EVENTS`
 * on), hydra checks the URL, analyses the file and writes what it found into the resource's extras
 * through the v2 extras merge (`udata_hydra/utils/http.py` `send`: `PUT …/resources/{rid}/extras/`),
 * which never moves `last_modified_internal` (`Dataset.update_resource_extras`).
 *
 * Three payloads, each completed by `UdataPayload` (every other key of a category it touches set to
 * null, so udata removes it):
 * - the check (`crawl/preprocess_check_data.py`), only when it differs from the previous one
 *   (first check, status, timeout, Content-Length or Content-Type changed);
 * - the analysis (`analysis/resource.py`), only on a first check or a detected change (Last-Modified,
 *   then Content-Length, then the sha1 of the downloaded content), and only if the URL answered;
 * - the parsing result (`analysis/helpers.py` `notify_udata`), for tabular files
 *   (`data_formats/detect.py`: csv, csv.gz, xls, xlsx, parquet).
 *
 * Nothing is fetched: files stored by the emulator are read from disk; remote URLs are described by
 * the resource itself and the configured outcome. Community resources are never analysed: udata sends
 * no event for them and hydra only writes to a dataset's resources.
 */

export type AnalyserResult = 'success' | 'parsing-error' | 'unavailable' | 'timeout'

export interface AnalyserOutcomeSpec {
  result: AnalyserResult
  /** `unavailable`: the HTTP status (default 404); null for a connection failure. */
  status?: number | null
  /** `unavailable`: `check:error` (default the status's reason); `parsing-error`: `analysis:parsing:error`. */
  error?: string
  /** Remote URLs: the Last-Modified they answer (an HTTP or ISO date); stored files use their own. */
  lastModified?: string
  /** Remote URLs: the Content-Type they answer (default the resource's mime, else from its format). */
  contentType?: string
  /** Remote URLs: the Content-Length they answer (default the resource's filesize). */
  contentLength?: number
}

export type AnalyserOutcome = AnalyserResult | AnalyserOutcomeSpec

/** A per-resource outcome: by resource `id`, or by `url` (a regular expression source tested on the URL at check time). */
export interface AnalyserRule {
  id?: string
  url?: string
  outcome: AnalyserOutcome
}

export interface AnalyserOptions {
  /** Wait between the triggering write and the check (hydra crawls prioritised resources in its next batch). */
  delayMs: number
  /** Further wait before the parsing result of tabular files (default 0). */
  parsingDelayMs?: number
  /** For every resource no rule matches (default `success`). */
  outcome?: AnalyserOutcome
  /** Appended to the rules. */
  rules?: AnalyserRule[]
}

const RESULTS: ReadonlySet<string> = new Set(['success', 'parsing-error', 'unavailable', 'timeout'])

/** `UdataPayload.HYDRA_UDATA_METADATA`: the keys hydra owns, by category. */
const HYDRA_KEYS: Readonly<Record<string, readonly string[]>> = {
  check: ['available', 'date', 'error', 'id', 'status', 'timeout'],
  'check:headers': ['content-type', 'content-length'],
  'check:cors': [
    'status',
    'error',
    'allow-origin',
    'allow-methods',
    'allow-headers',
    'expose-headers',
    'max-age',
    'allow-credentials',
  ],
  analysis: [
    'checksum',
    'content-length',
    'error',
    'check_id',
    'last-modified-at',
    'last-modified-detection',
    'mime-type',
  ],
  'analysis:parsing': [
    'error',
    'started_at',
    'finished_at',
    'parsing_table',
    'parquet_size',
    'parquet_url',
    'pmtiles_size',
    'pmtiles_url',
    'geojson_size',
    'geojson_url',
    'ogc_metadata',
  ],
}

type Payload = Record<string, unknown>

/** `UdataPayload`: the other keys of each category present, as null (removed by the extras merge). */
function udataPayload(payload: Payload): Payload {
  const out = { ...payload }
  const categories = new Set(Object.keys(payload).map((k) => k.split(':').slice(0, -1).join(':')))
  for (const category of categories)
    for (const field of HYDRA_KEYS[category] ?? []) out[`${category}:${field}`] ??= null
  return out
}

/** What the URL answered (a simulated aiohttp response), and the content when it was downloaded. */
interface Probe {
  status: number | null
  timeout: boolean
  error: string | null
  contentType: string
  contentLength: number | null
  /** The Last-Modified header, parsed. */
  lastModified: Date | null
  content: { size: number; sha1: string; mime: string } | null
}

/** What hydra keeps of a check (its `checks` row) to compare the next one with. */
interface CheckRecord {
  probe: Probe
  createdAt: Date
  checksum: string | null
  detectedLastModifiedAt: string | null
}

type Change = { kind: 'changed' | 'unchanged' | 'unknown'; payload?: Payload }

function spec(outcome: AnalyserOutcome): AnalyserOutcomeSpec {
  return typeof outcome === 'string' ? { result: outcome } : outcome
}

/** `is_valid_status`: 2xx and 3xx are available, 429 is unknown (null). */
function available(status: number | null): boolean | null {
  if (status === null || status === 0) return false
  if (status === 429) return null
  return status >= 200 && status < 400
}

/** Python's `datetime.isoformat()` of an aware UTC datetime (no fraction when it is zero). */
function pythonIso(date: Date): string {
  return date.getUTCMilliseconds() === 0
    ? date.toISOString().replace('.000Z', '+00:00')
    : isoDate(date)
}

function parseDate(value: string | undefined): Date | null {
  if (value === undefined) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** `detect_data_format_from_check_or_catalog`, for the formats whose parsing ends in a table. */
function tabular(resource: ResourceState, probe: Probe): boolean {
  const format = resource.format ?? ''
  if (['csv', 'csv.gz', 'xls', 'xlsx', 'parquet'].includes(format)) return true
  if (resource.url.includes('csv.gz') || resource.url.includes('parquet')) return true
  const types = [
    'text/csv',
    'application/csv',
    'text/plain',
    'application/gzip',
    'application/x-gzip',
    'application/vnd.ms-excel',
  ]
  types.push(
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.apache.parquet',
  )
  return types.some((t) => probe.contentType.toLowerCase().startsWith(t))
}

/**
 * The resource analyser of one emulator: scheduled checks per resource (several writes before a
 * check make one check, of the resource as it is then), and hydra's memory of the previous check.
 */
export class Analyser {
  private options: Required<Omit<AnalyserOptions, 'rules'>> | null = null
  readonly rules: AnalyserRule[] = []
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; run: () => Promise<void> }>()
  private readonly running = new Set<Promise<void>>()
  private readonly history = new Map<string, CheckRecord>()
  private checkId = 0

  constructor(
    private readonly store: Store,
    private readonly storage: Storage,
  ) {}

  /** Turn the analyser on (or change its settings), or off with null (pending checks are dropped). */
  configure(options: AnalyserOptions | null): void {
    if (options === null) {
      this.options = null
      this.rules.length = 0
      this.cancel()
      return
    }
    const checked = parseAnalyserOptions(options)
    this.options = {
      delayMs: checked.delayMs,
      parsingDelayMs: checked.parsingDelayMs ?? 0,
      outcome: checked.outcome ?? 'success',
    }
    this.rules.push(...(checked.rules ?? []))
  }

  get enabled(): boolean {
    return this.options !== null
  }

  /** Settings, rules and the number of scheduled steps (the control endpoint's view). */
  describe(): Record<string, unknown> {
    return {
      enabled: this.enabled,
      ...(this.options ?? {}),
      rules: this.rules,
      pending: this.pending.size,
    }
  }

  /** udata's resource event: a check after the delay, when the analyser is on. */
  resourceChanged(rid: string): void {
    if (this.options !== null)
      this.schedule(`check:${rid}`, this.options.delayMs, () => this.check(rid))
  }

  /** A check of this resource after the delay (0 when the analyser is off): hydra's periodic crawl. */
  recheck(rid: string): void {
    this.schedule(`check:${rid}`, this.options?.delayMs ?? 0, () => this.check(rid))
  }

  /** Run every scheduled step now, and those they schedule, then wait until all are written. */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.running.size > 0) {
      for (const [key, step] of [...this.pending]) {
        clearTimeout(step.timer)
        this.pending.delete(key)
        this.track(step.run())
      }
      await Promise.all([...this.running])
    }
  }

  /** Drop every scheduled step (the emulator is closing, or the analyser was turned off). */
  cancel(): void {
    for (const step of this.pending.values()) clearTimeout(step.timer)
    this.pending.clear()
  }

  /** Drop every scheduled step and wait for those under way (before the data folder goes). */
  async stop(): Promise<void> {
    this.cancel()
    await Promise.all([...this.running])
  }

  private schedule(key: string, delayMs: number, run: () => Promise<void>): void {
    if (this.pending.has(key)) return // already due: that check will see the latest state
    const timer = setTimeout(() => {
      this.pending.delete(key)
      this.track(run())
    }, delayMs)
    timer.unref()
    this.pending.set(key, { timer, run })
  }

  private track(work: Promise<void>): void {
    const done = work.catch((error: unknown) => {
      process.stderr.write(`udata emulator: analyser: ${String(error)}\n`)
    })
    this.running.add(done)
    void done.finally(() => this.running.delete(done))
  }

  private outcomeFor(resource: ResourceState): AnalyserOutcomeSpec {
    const rule = this.rules.find(
      (r) =>
        (r.id === undefined || r.id.toLowerCase() === resource.id) &&
        (r.url === undefined || new RegExp(r.url).test(resource.url)),
    )
    return spec(rule?.outcome ?? this.options?.outcome ?? 'success')
  }

  /** Merge into the resource's extras as `ResourceExtrasAPI.put` does: null removes; no date moves. */
  private write(rid: string, payload: Payload): void {
    const found = this.store.findResource(rid)
    if (found === undefined || found.dataset.deleted !== null) return // hydra's PUT gets 404 / 410
    const extras = { ...found.resource.extras }
    for (const [key, value] of Object.entries(udataPayload(payload))) {
      if (value === null) delete extras[key]
      else extras[key] = value
    }
    found.resource.extras = extras
  }

  /** `check_resource` + `preprocess_check_data` + `analyse_resource`. */
  private async check(rid: string): Promise<void> {
    const found = this.store.findResource(rid)
    if (found === undefined || found.dataset.deleted !== null) return
    const { resource } = found
    const outcome = this.outcomeFor(resource)
    const probe = await this.probe(resource, outcome)
    const previous = this.history.get(rid)
    const now = new Date()
    const id = ++this.checkId
    if (checkChanged(previous?.probe, probe)) this.write(rid, checkPayload(id, probe, now))
    const record: CheckRecord = {
      probe,
      createdAt: now,
      checksum: null,
      detectedLastModifiedAt: null,
    }
    this.history.set(rid, record)
    if (available(probe.status) !== true || probe.content === null) return
    const change = detectChange(previous, record, probe.content.sha1, now)
    record.checksum = probe.content.sha1
    record.detectedLastModifiedAt =
      typeof change.payload?.['analysis:last-modified-at'] === 'string'
        ? change.payload['analysis:last-modified-at']
        : null
    if (change.kind !== 'changed' && previous !== undefined) return // "skipped re-parse and analysis udata notify"
    const { size, sha1, mime } = probe.content
    this.write(rid, {
      'analysis:check_id': id,
      'analysis:content-length': size,
      'analysis:checksum': sha1,
      'analysis:mime-type': mime,
      ...change.payload,
    })
    if (tabular(resource, probe)) this.parse(rid, resource.url, outcome, now)
  }

  /** `CsvLike.analyse` then `notify_udata`: a table named `md5(url)`, or the parsing error. */
  private parse(rid: string, url: string, outcome: AnalyserOutcomeSpec, started: Date): void {
    const write = async (): Promise<void> => {
      const finished = new Date()
      const failed = outcome.result === 'parsing-error'
      this.write(rid, {
        'analysis:parsing:error': failed
          ? (outcome.error ?? 'csv_detective:emulated parsing error')
          : null,
        'analysis:parsing:started_at': pythonIso(started),
        'analysis:parsing:finished_at': pythonIso(finished),
        ...(failed
          ? {}
          : { 'analysis:parsing:parsing_table': createHash('md5').update(url).digest('hex') }),
      })
    }
    const delay = this.options?.parsingDelayMs ?? 0
    const key = `parse:${rid}`
    clearTimeout(this.pending.get(key)?.timer) // a newer check supersedes a parsing not yet written
    this.pending.delete(key)
    if (delay === 0) this.track(write())
    else this.schedule(key, delay, write)
  }

  /** What the URL answers: the stored file for hosted resources, the outcome for the rest. */
  private async probe(resource: ResourceState, outcome: AnalyserOutcomeSpec): Promise<Probe> {
    const none = { contentType: '', contentLength: null, lastModified: null, content: null }
    if (outcome.result === 'timeout') return { status: null, timeout: true, error: null, ...none }
    if (outcome.result === 'unavailable') {
      const status = outcome.status === undefined ? 404 : outcome.status
      const error =
        outcome.error ??
        (status === null
          ? `Cannot connect to host ${hostOf(resource.url)}`
          : (STATUS_CODES[status] ?? 'Error'))
      return {
        status,
        timeout: false,
        error,
        ...none,
        contentType: status === null ? '' : 'text/html',
      }
    }
    if (resource.fsFilename !== null) return this.probeStored(resource.fsFilename)
    const size = outcome.contentLength ?? resource.filesize
    const contentType =
      outcome.contentType ??
      resource.mime ??
      (resource.format !== null ? mimeFor(`x.${resource.format}`) : 'application/octet-stream')
    // Not downloaded: the resource's own checksum stands for the content, else its URL (a new URL reads as new content).
    const sha1 =
      resource.checksum?.type === 'sha1'
        ? resource.checksum.value
        : createHash('sha1').update(resource.url).digest('hex')
    const content = { size: size ?? 0, sha1, mime: contentType }
    return {
      status: 200,
      timeout: false,
      error: null,
      contentType,
      contentLength: size,
      lastModified: parseDate(outcome.lastModified),
      content,
    }
  }

  private async probeStored(fsFilename: string): Promise<Probe> {
    const path = this.storage.staticPath(fsFilename)
    const info = path === undefined ? undefined : await stat(path).catch(() => undefined)
    if (path === undefined || info === undefined) {
      return {
        status: 404,
        timeout: false,
        error: 'Not Found',
        contentType: 'text/html',
        contentLength: null,
        lastModified: null,
        content: null,
      }
    }
    const digest = createHash('sha1')
    for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer)
    const contentType = mimeFor(path)
    const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000)
    const content = { size: info.size, sha1: digest.digest('hex'), mime: contentType }
    return {
      status: 200,
      timeout: false,
      error: null,
      contentType,
      contentLength: info.size,
      lastModified,
      content,
    }
  }
}

function hostOf(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port !== '' ? parsed.port : parsed.protocol === 'https:' ? '443' : '80'}`
  } catch {
    return url
  }
}

/** `has_check_changed` (CORS left out: the emulator sends no preflight). */
function checkChanged(previous: Probe | undefined, current: Probe): boolean {
  if (previous === undefined) return true
  const wasAvailable = available(previous.status) === true && available(current.status) !== true
  return (
    previous.status !== current.status ||
    wasAvailable ||
    previous.timeout !== current.timeout ||
    previous.contentLength !== current.contentLength ||
    previous.contentType !== current.contentType
  )
}

/** The check payload (`preprocess_check_data`). */
function checkPayload(id: number, probe: Probe, now: Date): Payload {
  return {
    'check:id': id,
    'check:available': available(probe.status),
    'check:status': probe.status,
    'check:timeout': probe.timeout,
    'check:date': isoDate(now),
    'check:error': probe.error,
    'check:headers:content-type': probe.contentType.split(';')[0] ?? '',
    'check:headers:content-length':
      probe.contentLength === null || probe.contentLength === 0 ? null : probe.contentLength,
  }
}

/**
 * `detect_resource_change_on_early_hints` (Last-Modified, then Content-Length against the previous
 * check; harvest dates do not apply) and, when they say nothing, `detect_resource_change_from_checksum`.
 */
function detectChange(
  previous: CheckRecord | undefined,
  current: CheckRecord,
  sha1: string,
  now: Date,
): Change {
  const modified = current.probe.lastModified
  const before = previous?.probe.lastModified ?? null
  const lastModifiedPayload = (date: Date): Payload => ({
    'analysis:last-modified-at': pythonIso(date),
    'analysis:last-modified-detection': 'last-modified-header',
  })
  if (modified !== null) {
    const changed = before === null || before.getTime() !== modified.getTime()
    return { kind: changed ? 'changed' : 'unchanged', payload: lastModifiedPayload(modified) }
  }
  const length = current.probe.contentLength
  if (
    previous !== undefined &&
    length !== null &&
    length !== 0 &&
    previous.probe.contentLength !== null
  ) {
    if (previous.probe.contentLength !== length) {
      return {
        kind: 'changed',
        payload: {
          'analysis:last-modified-at': pythonIso(current.createdAt),
          'analysis:last-modified-detection': 'content-length-header',
        },
      }
    }
    if (previous.detectedLastModifiedAt !== null)
      return unchangedSince(previous.detectedLastModifiedAt)
  }
  if (previous?.checksum != null) {
    if (previous.checksum !== sha1)
      return {
        kind: 'changed',
        payload: {
          'analysis:last-modified-at': pythonIso(now),
          'analysis:last-modified-detection': 'computed-checksum',
        },
      }
    if (previous.detectedLastModifiedAt !== null)
      return unchangedSince(previous.detectedLastModifiedAt)
  }
  return { kind: 'unknown' }
}

function unchangedSince(date: string): Change {
  return {
    kind: 'unchanged',
    payload: {
      'analysis:last-modified-at': date,
      'analysis:last-modified-detection': 'previous-check-detection',
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Options as given by a program, a seed, the CLI or the control endpoint

function parseOutcome(value: unknown, where: string): AnalyserOutcome {
  if (typeof value === 'string' && RESULTS.has(value)) return value as AnalyserResult
  if (
    !isPlainObject(value) ||
    typeof value['result'] !== 'string' ||
    !RESULTS.has(value['result'])
  ) {
    throw new Error(`${where}: expected one of ${[...RESULTS].join(', ')}, or {"result": ...}`)
  }
  const allowed: Readonly<Record<string, string>> = {
    result: 'string',
    status: 'number',
    error: 'string',
    lastModified: 'string',
    contentType: 'string',
    contentLength: 'number',
  }
  for (const [key, item] of Object.entries(value)) {
    if (allowed[key] === undefined) throw new Error(`${where}: unknown key "${key}"`)
    if (typeof item !== allowed[key] && !(key === 'status' && item === null))
      throw new Error(`${where}: "${key}" must be a ${allowed[key]}`)
  }
  return value as unknown as AnalyserOutcomeSpec
}

export function parseAnalyserRule(value: unknown): AnalyserRule {
  if (!isPlainObject(value)) throw new Error('an analyser rule must be an object')
  for (const key of Object.keys(value))
    if (!['id', 'url', 'outcome'].includes(key))
      throw new Error(`unknown analyser rule key "${key}"`)
  const { id, url, outcome } = value
  if (id !== undefined && typeof id !== 'string')
    throw new Error('analyser rule "id" must be a string')
  if (url !== undefined && typeof url !== 'string')
    throw new Error('analyser rule "url" must be a string (a regular expression)')
  if (typeof url === 'string') new RegExp(url) // throws on a bad pattern
  return {
    ...(id !== undefined ? { id } : {}),
    ...(url !== undefined ? { url } : {}),
    outcome: parseOutcome(outcome, 'analyser rule "outcome"'),
  }
}

/** Check options given as JSON (seed, CLI, control endpoint) or by a program. */
export function parseAnalyserOptions(value: unknown): AnalyserOptions {
  if (!isPlainObject(value)) throw new Error('analyser options must be an object')
  for (const key of Object.keys(value)) {
    if (!['delayMs', 'parsingDelayMs', 'outcome', 'rules'].includes(key))
      throw new Error(`unknown analyser option "${key}"`)
  }
  const { delayMs, parsingDelayMs, outcome, rules } = value
  const isDelay = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0
  if (!isDelay(delayMs)) throw new Error('analyser "delayMs" must be a number of milliseconds')
  if (parsingDelayMs !== undefined && !isDelay(parsingDelayMs))
    throw new Error('analyser "parsingDelayMs" must be a number of milliseconds')
  const ruleList =
    rules === undefined ? [] : (Array.isArray(rules) ? rules : [rules]).map(parseAnalyserRule)
  return {
    delayMs,
    ...(parsingDelayMs !== undefined ? { parsingDelayMs } : {}),
    ...(outcome !== undefined ? { outcome: parseOutcome(outcome, 'analyser "outcome"') } : {}),
    rules: ruleList,
  }
}
