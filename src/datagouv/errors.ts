/** Errors raised by the data.gouv.fr client. Messages never contain the API key. */
export { toErrorMessage } from '../util/errors.js'

/** The server answered with a status the caller did not accept. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly method: string,
    /** Path and query, relative to the instance origin; never carries credentials. */
    readonly path: string,
    readonly status: number,
    /** The API's own message (`message`, else `errors`, else `error`), or the body's start. */
    readonly apiMessage: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${method} ${path} answered ${status}${apiMessage ? `: ${apiMessage}` : ''}`)
  }
}

/** No answer: connection refused or reset, timeout, TLS failure. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError'
  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${method} ${path} failed: ${describeCause(cause)}`, { cause })
  }
}

/** The server answered, but not with what the protocol says (bad JSON, unexpected shape). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

/**
 * Statuses worth another try: the request may succeed later unchanged (docs/udata-protocol.md §9,
 * and its last section: the client also retries 500).
 */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true
  return error instanceof ApiError && isRetryableStatus(error.status)
}

/**
 * The API's own message from an error body (docs/udata-protocol.md §2.4): `message` if present,
 * else the `errors` object flattened, else `error`; a non-JSON body in one line (`textOf`).
 */
export function apiMessageOf(body: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return textOf(body)
  }
  if (parsed !== null && typeof parsed === 'object') {
    const record = parsed as Record<string, unknown>
    const parts: string[] = []
    if (typeof record.message === 'string' && record.message !== '') parts.push(record.message)
    if (record.errors !== undefined && record.errors !== null)
      parts.push(flattenErrors(record.errors))
    if (parts.length === 0 && typeof record.error === 'string' && record.error !== '')
      parts.push(record.error)
    if (parts.length > 0) return parts.join(' ')
  }
  return body.slice(0, 300)
}

/**
 * A non-JSON body in one line: an HTML page (a proxy's 502 or 413) by its title, else the text
 * without its tags, cut to 300 characters.
 */
function textOf(body: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.replace(/\s+/g, ' ').trim()
  if (title !== undefined && title !== '') return title
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return text.slice(0, 300)
}

function flattenErrors(errors: unknown, prefix = ''): string {
  if (Array.isArray(errors)) return `${prefix ? `${prefix}: ` : ''}${errors.map(String).join(', ')}`
  if (errors !== null && typeof errors === 'object') {
    return Object.entries(errors as Record<string, unknown>)
      .map(([key, value]) => flattenErrors(value, prefix ? `${prefix}.${key}` : key))
      .join('; ')
  }
  return `${prefix ? `${prefix}: ` : ''}${String(errors)}`
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message
  }
  return String(cause)
}
