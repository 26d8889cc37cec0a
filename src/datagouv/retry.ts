/** Retry policy: exponential backoff with jitter, honouring `Retry-After` (capped). */
import { ApiError, isRetryable, toErrorMessage } from './errors.js'

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

function ceilingOf(policy: RetryPolicy): number {
  return policy.maxDelayMs ?? CEILING_FACTOR * policy.baseDelayMs
}

/**
 * Delay before retry number `retry` (1-based). Backoff is `base * 2^(retry-1)` with jitter in
 * [50 %, 100 %] of it, never below `base`, so two quick failures are at least `base` apart (a
 * same-second re-upload of one name answers 500 on udata, docs/udata-protocol.md §3.2 step 5). A
 * server's `Retry-After` wins when it is longer, up to the ceiling.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  const random = policy.random ?? Math.random
  const ceiling = ceilingOf(policy)
  const exponential = Math.min(
    ceiling,
    policy.baseDelayMs * 2 ** Math.min(64, Math.max(0, retry - 1)),
  )
  const jittered = Math.max(policy.baseDelayMs, exponential * (0.5 + random() * 0.5))
  const backoff = Math.min(ceiling, jittered)
  if (retryAfterMs === undefined) return Math.round(backoff)
  return Math.round(Math.min(ceiling, Math.max(backoff, retryAfterMs)))
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). `undefined`
 * when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000
    // Absurdly long: the ceiling applies anyway.
    return Number.isSafeInteger(ms) ? ms : Number.MAX_SAFE_INTEGER
  }
  if (!/[a-z]/i.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** Where retries report: a warning per retry. */
export interface RetryLogger {
  warning(message: string): void
}

/** What a failed attempt turned out to be, once the server was looked at. */
export type Settled<T> = { done: T } | undefined

/** One attempt, as its `send`, `retryable` and `settle` see it: which one, and what came before. */
export interface Attempt {
  /** 0 for the first send. */
  number: number
  /** The failures of the attempts before this one, oldest first. */
  failures: readonly unknown[]
}

/** How one request (or one part) is retried: everything but the backoff, which the policy owns. */
export interface Attempts<T> {
  /** For messages: `PUT /api/1/datasets/…/` or `part 3/12`. */
  label: string
  send: (attempt: Attempt) => Promise<T>
  /** Whether a failure is worth another try; default: network errors, 408, 429 and 5xx. */
  retryable?: (error: unknown, attempt: Attempt) => boolean
  /**
   * Looks at the server after a failure (recovery.ts): the value the request would have given, if
   * the server acted all the same, or `undefined` to go on retrying.
   */
  settle?: (error: unknown, attempt: Attempt) => Promise<Settled<T>>
}

/**
 * The one retry policy of the client: which failures are retried, how long to wait (backoff with
 * jitter, a server's Retry-After), and when to look at the server before sending again. JSON calls
 * and upload requests (parts and final requests) all go through `run`.
 */
export class Retrier {
  constructor(
    readonly policy: RetryPolicy,
    private readonly logger: RetryLogger,
  ) {}

  /** The longest wait: of the backoff, and of a server's `Retry-After`. */
  get ceilingMs(): number {
    return ceilingOf(this.policy)
  }

  async run<T>(attempts: Attempts<T>): Promise<T> {
    const retryable = attempts.retryable ?? ((error: unknown) => isRetryable(error))
    const failures: unknown[] = []
    for (;;) {
      const attempt: Attempt = { number: failures.length, failures: [...failures] }
      try {
        return await attempts.send(attempt)
      } catch (error) {
        const settled = await attempts.settle?.(error, attempt)
        if (settled !== undefined) return settled.done
        if (attempt.number >= this.policy.maxRetries || !retryable(error, attempt))
          throw named(error, attempts.label)
        failures.push(error)
        await this.wait(error, attempt.number)
      }
    }
  }

  /** Waits before retry `attempt + 1`, saying why and for how long. */
  async wait(error: unknown, attempt: number): Promise<void> {
    const delay = retryDelay(
      this.policy,
      attempt + 1,
      error instanceof ApiError ? error.retryAfterMs : undefined,
    )
    this.logger.warning(
      `${toErrorMessage(error)}; retry ${attempt + 1}/${this.policy.maxRetries} in ${(delay / 1000).toFixed(1)} ` +
        `s`,
    )
    await sleep(delay)
  }
}

/**
 * The error that ends the attempts, its message starting with what was attempted (`part 3/12: …`).
 */
function named(error: unknown, label: string): unknown {
  if (error instanceof Error && !error.message.startsWith(label))
    error.message = `${label}: ${error.message}`
  return error
}

/**
 * The test knob that shortens the backoff (`DATAGOUV_PUBLISH_RETRY_BASE_MS`, milliseconds), read
 * the same way by both edges; users have `max-retries`.
 */
export function baseDelayFromEnv(env: Record<string, string | undefined>): {
  baseDelayMs?: number
} {
  const raw = env.DATAGOUV_PUBLISH_RETRY_BASE_MS
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return {}
  return { baseDelayMs: Number(raw.trim()) }
}
