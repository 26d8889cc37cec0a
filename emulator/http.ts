import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'

import { MESSAGES, WERKZEUG } from './constants.js'
import type {
  CommunityResourceState,
  DatasetState,
  OrganizationState,
  RecordedRequest,
  UserState,
} from './types.js'

export type Headers = Record<string, string>

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Headers; masked?: boolean }
  | { kind: 'empty'; status: number; headers?: Headers }
  | { kind: 'text'; status: number; body: string; contentType: string; headers?: Headers }
  | { kind: 'file'; status: number; headers: Headers; path: string; start: number; end: number }

/** An answer thrown from deep inside a handler; the server turns it into a JSON reply. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers = {},
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`)
    this.name = 'HttpError'
  }
}

export function json(status: number, body: unknown, masked = false): Reply {
  return { kind: 'json', status, body, masked }
}

export function empty(status: number, headers: Headers = {}): Reply {
  return { kind: 'empty', status, headers }
}

/** `&`, `<`, `>`, `"` and `'` as markupsafe's `escape` writes them. */
function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;')
}

/** Werkzeug's `redirect()`: the `Location` header and its small HTML page. */
export function redirect(status: number, location: string): Reply {
  const target = escapeHtml(location)
  return {
    kind: 'text',
    status,
    contentType: 'text/html; charset=utf-8',
    headers: { location },
    body:
      '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
      `<p>You should be redirected automatically to the target URL: <a href="${target}">${target}</a>. If not, click the link.\n`,
  }
}

/** flask-restx `api.abort(code, message)`. */
export function abort(status: number, message: string, headers: Headers = {}): HttpError {
  return new HttpError(status, { message }, headers)
}

/**
 * An unhandled exception in udata (FileExists, FileNotFound...): flask-restx's `handle_error`
 * answers the status's phrase.
 */
export function internalError(): HttpError {
  return new HttpError(500, { message: MESSAGES.internal })
}

/** `UDataApi.validate` failure: `{"errors": ...}` without a message. */
export function formErrors(errors: Record<string, unknown>): HttpError {
  return new HttpError(400, { errors })
}

export interface RequestContext {
  method: string
  pathname: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The request body, counted; read it at most once. */
  body: Readable
  record: RecordedRequest
  user: UserState | undefined
  dataset: DatasetState | undefined
  /** The `{org}` path parameter, resolved (`OrganizationConverter`). */
  org: OrganizationState | undefined
  /** Lower-cased `{rid}` path parameter. */
  rid: string | undefined
  /** The `{community}` path parameter, resolved (`CommunityResourceConverter`). */
  community: CommunityResourceState | undefined
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Read the whole body (small JSON bodies only). Leaves the rest of an oversized body unread. */
export function readBody(body: Readable, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        reject(abort(413, WERKZEUG.tooLarge))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(Buffer.concat(chunks))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
  })
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown
  } catch {
    throw abort(400, WERKZEUG.badRequest)
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `UDataApi.validate` preamble: Content-Type check, then a JSON object (docs/udata-protocol.md §2.4). */
export async function readJsonObject(ctx: RequestContext): Promise<Record<string, unknown>> {
  if (!(header(ctx.headers, 'content-type') ?? '').includes('application/json')) {
    throw formErrors({ 'Content-Type': 'expecting application/json' })
  }
  const value = parseJson(await readBody(ctx.body))
  if (!isPlainObject(value)) throw formErrors({ request: 'expecting a JSON object' })
  return value
}

/** Flask `request.json`: 415 without a JSON Content-Type, 400 when unparsable. */
export async function readFlaskJson(ctx: RequestContext): Promise<unknown> {
  const type = (header(ctx.headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    throw abort(415, MESSAGES.jsonContentType)
  }
  return parseJson(await readBody(ctx.body))
}

/**
 * `2025-04-07T08:15:26.421000+00:00`, the shape udata serialises dates with (Python's
 * `isoformat()`, which leaves the fraction out when it is zero: `2030-01-02T03:04:05+00:00`).
 */
export function isoDate(date: Date): string {
  const iso = date.toISOString()
  return iso.endsWith('.000Z') ? iso.replace('.000Z', '+00:00') : iso.replace('Z', '000+00:00')
}

/** A MongoDB-style ObjectId: 4 bytes of seconds, 8 random bytes, as 24 hex digits. */
export function objectId(): string {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
  return seconds + randomBytes(8).toString('hex')
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True when the Accept header prefers text/html over application/json (udata's 404 page). */
export function prefersHtml(headers: IncomingHttpHeaders): boolean {
  const accept = header(headers, 'accept')
  if (accept === undefined) return false
  let html = 0
  let jsonQ = 0
  for (const item of accept.split(',')) {
    const [type, ...params] = item.trim().toLowerCase().split(';')
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2)) || 0
    if (type === 'text/html') html = Math.max(html, q)
    if (type === 'application/json') jsonQ = Math.max(jsonQ, q)
  }
  return html > jsonQ
}

// ---------------------------------------------------------------------------------------------
// X-Fields masks (flask-restx): `id,title,resources{id,url}`, `*` keeps the other keys.

export type FieldMask = Map<string, FieldMask | true>

export function parseFieldMask(source: string): FieldMask {
  const tokens = source
    .replace(/\s+/g, '')
    .split(/([{},])/)
    .filter((t) => t !== '')
  let index = 0
  const parseLevel = (nested: boolean): FieldMask => {
    const mask: FieldMask = new Map()
    let last: string | undefined
    while (index < tokens.length) {
      const token = tokens[index++] as string
      if (token === ',') continue
      if (token === '{') {
        if (last === undefined) throw new Error('Unexpected opening bracket')
        mask.set(last, parseLevel(true))
        continue
      }
      if (token === '}') {
        if (!nested) throw new Error('Unexpected closing bracket')
        return mask
      }
      mask.set(token, true)
      last = token
    }
    if (nested) throw new Error('Missing closing bracket')
    return mask
  }
  return parseLevel(false)
}

export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((item) => applyFieldMask(item, mask))
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  if (mask.has('*')) {
    for (const [key, item] of Object.entries(value)) if (!mask.has(key)) out[key] = item
  }
  for (const [key, sub] of mask) {
    if (key === '*') continue
    const item = value[key] ?? null
    out[key] = sub === true ? item : applyFieldMask(item, sub)
  }
  return out
}
