/** Retry policy: exponential backoff with jitter, honouring `Retry-After` (capped). */

export interface RetryPolicy {
  /** Further attempts after the first one. */
  maxRetries: number
  /** Delay before the first retry, doubled at each further one. */
  baseDelayMs: number
  /**
   * Ceiling of the backoff and of a server's `Retry-After`; default `CEILING_FACTOR` × the base
   * (60 s at the default base), so a shortened base (the tests') shortens the ceiling with it.
   */
  maxDelayMs?: number
  /** Injected for tests; defaults to Math.random. */
  random?: () => number
}

/** The default ceiling, in multiples of the base delay. */
export const CEILING_FACTOR = 60

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1000 }

export function ceilingOf(policy: RetryPolicy): number {
  return policy.maxDelayMs ?? CEILING_FACTOR * policy.baseDelayMs
}

/**
 * Delay before retry number `retry` (1-based). Backoff is `base * 2^(retry-1)` with jitter in
 * [50 %, 100 %] of it, never below `base`, so two quick failures are at least `base` apart (a
 * same-second re-upload of one name answers 500 on udata, reference §3.2 step 5). A server's
 * `Retry-After` wins when it is longer, up to the ceiling.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  const random = policy.random ?? Math.random
  const ceiling = ceilingOf(policy)
  const exponential = Math.min(ceiling, policy.baseDelayMs * 2 ** Math.min(64, Math.max(0, retry - 1)))
  const jittered = Math.max(policy.baseDelayMs, exponential * (0.5 + random() * 0.5))
  const backoff = Math.min(ceiling, jittered)
  if (retryAfterMs === undefined) return Math.round(backoff)
  return Math.round(Math.min(ceiling, Math.max(backoff, retryAfterMs)))
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). `undefined`
 * when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000
    return Number.isSafeInteger(ms) ? ms : Number.MAX_SAFE_INTEGER // absurdly long: the ceiling applies anyway
  }
  if (!/[a-z]/i.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
