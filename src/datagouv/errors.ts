/** Errors raised by the data.gouv.fr client. Messages never contain the API key. */
export { toErrorMessage } from '../util/errors.js'

/** The server answered with a status the caller did not accept. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly method: string,
    /**
     * What was asked, as messages show it: the instance's origin, path and query
     * (`https://demo.data.gouv.fr/api/1/datasets/x/`), so that www, demo and dev read apart;
     * never carries credentials.
     */
    readonly url: string,
    readonly status: number,
    /** The API's own message (`message`, else `errors`, else `error`), or the body's start. */
    readonly apiMessage: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${method} ${url} answered ${status}${apiMessage ? `: ${apiMessage}` : ''}`)
  }
}

/**
 * No answer: connection refused or reset, timeout, TLS failure; or the request could not even
 * leave (a name that does not resolve, a proxy that refuses the tunnel), which no retry cures.
 */
export class NetworkError extends Error {
  override readonly name = 'NetworkError'
  constructor(
    readonly method: string,
    /** As `ApiError.url`. */
    readonly url: string,
    cause: unknown,
    /** Why, in words (`describeCause` by default; transport.ts names the host and the proxy). */
    why: string = describeCause(cause),
    /**
     * Whether another try may succeed. False when the request never reached the server and will
     * not the next time either: the host or the proxy does not resolve, the proxy refuses the
     * tunnel. Such a request cannot have acted.
     */
    readonly transient: boolean = true,
  ) {
    super(`${method} ${url} failed: ${why}`, { cause })
  }
}

/**
 * A local file could not be read while a request was being sent (removed, made unreadable, cut
 * short): the runner's fault, not the network's. Never retried: the next try reads the same file.
 */
export class LocalFileError extends Error {
  override readonly name = 'LocalFileError'
  constructor(
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause })
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
  if (error instanceof NetworkError) return error.transient
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

/** A failure's own message, with its code when the message lacks it (`ECONNRESET socket hang up`). */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message
  }
  return String(cause)
}
