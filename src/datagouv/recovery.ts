/**
 * What a failed request means, and looking at the server before sending again.
 *
 * A request that creates something (a dataset, a resource) or stores a file may have acted
 * although it failed: its answer lost with the connection, a gateway's 502 or 504 while the
 * application behind it goes on, an answer later than the timeout. Sent again blindly, it would
 * create a second dataset or resource. `createOnce` sends such a request through the client's one
 * retry policy and, after every failure worth a retry, looks at the server (`find`): when the
 * server holds the result, that is the result, and a warning says so. A look that fails fails the
 * request, saying so: a write whose outcome is unknown is not sent again.
 */
import { ApiError, isRetryable, NetworkError, toErrorMessage } from './errors.js'
import { retryDelay, sleep, type Attempt, type Settled } from './retry.js'
import type { Transport } from './transport.js'

/**
 * A failure after which the server may have acted, or may still be acting: no answer at all
 * (connection lost, timeout), or a gateway's 502/504 while the application behind it goes on. A
 * request that never left (a name that does not resolve, a proxy that refuses the tunnel) did
 * not act.
 */
function mayHideSuccess(error: unknown): boolean {
  return (
    (error instanceof NetworkError && error.transient) ||
    (error instanceof ApiError && (error.status === 502 || error.status === 504))
  )
}

/** An earlier attempt failed in a way that may hide a success: the server may hold its result. */
export function mayHaveActed(attempt: Attempt): boolean {
  return attempt.failures.some(mayHideSuccess)
}

/**
 * A failure after which the server may still be at work: the answer did not come in time (our
 * timeout, or a gateway's 504). A reset connection is different: the server acted already or never
 * will, and one look tells which.
 */
function mayStillAct(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 504
  const code =
    error instanceof NetworkError
      ? (error.cause as { code?: unknown } | undefined)?.code
      : undefined
  // http.ts: no answer after the whole body was sent, or an answer that stopped.
  return code === 'HEADERS_TIMEOUT' || code === 'BODY_TIMEOUT'
}

/** A request that must not be repeated blindly, and where its result would be. */
export interface Once<T> {
  /** For messages: `POST /api/1/datasets/`. */
  label: string
  /** Sends the request once. */
  send: () => Promise<T>
  /** The result, if the server holds it although the request failed; `undefined`: not there. */
  find: () => Promise<T | undefined>
  /**
   * Whether the request can have acted at all, for `creation` (default: yes): an upload whose bytes
   * did not all leave stored nothing, and is not waited for.
   */
  findable?: () => Promise<boolean>
  /** For messages: what the request stores (`the file`, `the dataset 'sales'`). */
  what: string
  /** For messages: how `find` looks (`reading the dataset`). */
  where: string
  /** For messages: the result found (`resource 1f2e…`). */
  nameOf: (found: T) => string
  /**
   * A creation, named for messages (`the new resource`): after an answer that did not come in
   * time, the server is looked at again and again, with backoff, for four times the timeout before
   * anything is sent again, so that a server up to five times slower than the timeout never
   * creates it twice. Absent: a change in place, looked at once after each failure.
   */
  creation?: string
  /**
   * For a creation refused by an answer (not lost): what another client created in its place
   * meanwhile (udata refuses a second file of one name within a second, docs/udata-protocol.md
   * §3.2 step 5, because another run stored it), taken instead of creating a second one.
   */
  taken?: () => Promise<T | undefined>
}

export interface Created<T> {
  value: T
  /** The server was found to hold the result of a request whose answer was lost. */
  recovered: boolean
  /**
   * The result is another client's: a creation refused by an answer, while what it would have
   * created was found created by someone else (`find` or `taken`).
   */
  adopted: boolean
}

/**
 * Sends `once` through the retry policy; after a failure worth a retry, looks before anything else
 * (and again just before the re-send, after a failure that may hide a success: the server may act
 * late), and takes what it finds as the result.
 */
export async function createOnce<T>(http: Transport, once: Once<T>): Promise<Created<T>> {
  let recovered = false
  let adopted = false
  const look = async (error: unknown, ours = true): Promise<Settled<T>> => {
    const found = await lookFor(once, error)
    if (found === undefined) return undefined
    const held = ours ? `the server holds ${once.what} all the same` : anothers(once)
    http.logger.warning(
      `${error === undefined ? 'before sending again' : `${toErrorMessage(error)};`} ${held} ` +
        `(${once.nameOf(found)}), not sending it again`,
    )
    recovered = ours
    adopted = !ours
    return { done: found }
  }
  const value = await http.retrier.run<T>({
    label: once.label,
    send: async (attempt) => {
      const found = mayHaveActed(attempt) ? await look(undefined) : undefined
      return found !== undefined ? found.done : once.send()
    },
    settle: async (error, attempt) => {
      if (!isRetryable(error)) return undefined
      // An answered refusal of a creation created nothing: what is found is someone else's.
      const ours = once.creation === undefined || mayHideSuccess(error) || mayHaveActed(attempt)
      const found =
        (await look(error, ours)) ?? (ours ? undefined : await takenFor(http, once, error))
      if (found !== undefined) adopted ||= !ours
      if (found !== undefined || once.creation === undefined || !mayStillAct(error)) return found
      if (!(await (once.findable?.() ?? true))) return undefined
      return keepLooking(http, once.creation, error, look)
    },
  })
  return { value, recovered, adopted }
}

/** What the warning says of a creation found made by someone else. */
function anothers<T>(once: Once<T>): string {
  return `another run created ${once.what} meanwhile, under the same name`
}

/** `once.taken`, for a creation refused by an answer; a failure to look fails with its reason. */
async function takenFor<T>(http: Transport, once: Once<T>, error: unknown): Promise<Settled<T>> {
  if (once.taken === undefined) return undefined
  const found = await lookFor({ ...once, find: once.taken }, error)
  if (found === undefined) return undefined
  http.logger.warning(
    `${toErrorMessage(error)}; another run created a resource under the same name meanwhile ` +
      `(${once.nameOf(found)}): taken instead of creating a second`,
  )
  return { done: found }
}

/** `once.find`; a failure to look fails with its reason. */
async function lookFor<T>(once: Once<T>, error: unknown): Promise<T | undefined> {
  try {
    return await once.find()
  } catch (lookError) {
    const before = error === undefined ? 'before sending again' : `${toErrorMessage(error)}; then`
    throw new Error(
      `${before} ${once.where}, to see whether the server stored ${once.what} all the same, ` +
        `failed: ${toErrorMessage(lookError)}`,
      { cause: lookError },
    )
  }
}

/** Looks with backoff for four times the timeout, until the server holds the creation. */
async function keepLooking<T>(
  http: Transport,
  creation: string,
  error: unknown,
  lookAgain: (error: unknown) => Promise<Settled<T>>,
): Promise<Settled<T>> {
  const patience = 4 * http.timeoutMs
  const until = Date.now() + patience
  http.logger.info(
    `${toErrorMessage(error)}; looking for ${creation} for up to ${Math.round(patience / 1000)} s ` +
      `before sending again`,
  )
  for (let look = 1; Date.now() < until; look++) {
    await sleep(Math.min(retryDelay(http.retrier.policy, look), Math.max(0, until - Date.now())))
    const found = await lookAgain(error)
    if (found !== undefined) return found
  }
  return undefined
}
