import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'

import { isPlainObject, type Reply } from './http.js'
import { drain, writeReply } from './respond.js'
import type { FaultRule, HeldRequest, HoldRelease, RecordedRequest } from './types.js'

/**
 * Fault rules (emulator/README.md, "Recorded requests and fault rules"): which rule applies to a
 * request, and the effects that happen before the request is handled.
 */

type KeyKind = 'string' | 'number' | 'boolean' | 'headers' | 'unknown'

const FAULT_KEYS: Readonly<Record<keyof FaultRule, KeyKind>> = {
  method: 'string',
  path: 'string',
  nth: 'number',
  times: 'number',
  status: 'number',
  body: 'unknown',
  contentType: 'string',
  retryAfter: 'string',
  headers: 'headers',
  maxBodyBytes: 'number',
  dropAfterBytes: 'number',
  delayMs: 'number',
  loseResponse: 'boolean',
  answerDelayMs: 'number',
  hold: 'boolean',
}

function checkKey(key: string, item: unknown): void {
  const expected = FAULT_KEYS[key as keyof FaultRule] as KeyKind | undefined
  if (expected === undefined) throw new Error(`unknown fault rule key "${key}"`)
  if (expected === 'headers') {
    if (!isPlainObject(item) || Object.values(item).some((v) => typeof v !== 'string')) {
      throw new Error(`fault rule key "${key}" must map header names to strings`)
    }
  } else if (expected !== 'unknown' && typeof item !== expected)
    throw new Error(`fault rule key "${key}" must be a ${expected}`)
}

/** Validate a fault rule received by `POST /__emulator/faults`. */
export function parseFaultRule(value: unknown): FaultRule {
  if (!isPlainObject(value)) throw new Error('a fault rule must be an object')
  for (const [key, item] of Object.entries(value)) checkKey(key, item)
  if (typeof value['path'] === 'string') new RegExp(value['path'])
  return value
}

/** What the request record says about the rule applied, e.g. `status:503` or `delayMs:500,loseResponse`. */
export function describeFault(rule: FaultRule): string {
  const parts: string[] = []
  if (rule.maxBodyBytes !== undefined) parts.push(`maxBodyBytes:${rule.maxBodyBytes}`)
  if (rule.delayMs !== undefined) parts.push(`delayMs:${rule.delayMs}`)
  if (rule.hold === true) parts.push('hold')
  if (rule.dropAfterBytes !== undefined) parts.push(`dropAfterBytes:${rule.dropAfterBytes}`)
  else if (rule.status !== undefined) parts.push(`status:${rule.status}`)
  else if (rule.loseResponse === true) parts.push('loseResponse')
  if (
    rule.answerDelayMs !== undefined &&
    rule.dropAfterBytes === undefined &&
    rule.status === undefined
  )
    parts.push(`answerDelayMs:${rule.answerDelayMs}`)
  return parts.join(',') || 'none'
}

/** The rules, in order, with how many requests each has matched so far. */
export class FaultSet {
  readonly rules: FaultRule[] = []
  private readonly counts = new WeakMap<FaultRule, number>()
  private readonly regexes = new Map<string, RegExp>()

  /**
   * Count the request against every rule it matches (method, path) and return the first rule
   * that applies to it: the `nth` match, one of the first `times`, or every match.
   */
  pick(method: string, pathname: string, pathWithQuery: string): FaultRule | undefined {
    let chosen: FaultRule | undefined
    for (const rule of this.rules) {
      if (!this.matches(rule, method, pathname, pathWithQuery)) continue
      const count = (this.counts.get(rule) ?? 0) + 1
      this.counts.set(rule, count)
      if (chosen !== undefined) continue
      const applies =
        rule.nth !== undefined
          ? count === rule.nth
          : rule.times !== undefined
            ? count <= rule.times
            : true
      if (applies) chosen = rule
    }
    return chosen
  }

  private matches(
    rule: FaultRule,
    method: string,
    pathname: string,
    pathWithQuery: string,
  ): boolean {
    if (rule.method !== undefined && rule.method.toUpperCase() !== method) return false
    if (rule.path === undefined) return true
    let regex = this.regexes.get(rule.path)
    if (regex === undefined) this.regexes.set(rule.path, (regex = new RegExp(rule.path)))
    return regex.test(pathname) || regex.test(pathWithQuery)
  }
}

/**
 * A rule's effects once the body was received (and forwarded, through the proxy's buffer): its
 * wait (`delayMs`, `hold`), then a dropped connection or an answer of its own instead of handling.
 * True when the request was dealt with (and recorded through `finish`), false when it is to be
 * handled.
 */
export async function faultInstead(
  rule: FaultRule,
  held: { list: HeldRequest[]; record: RecordedRequest },
  req: IncomingMessage,
  res: ServerResponse,
  body: Readable,
  finish: (status: number) => void,
): Promise<boolean> {
  if (rule.delayMs !== undefined) await sleep(rule.delayMs)
  const how = rule.hold === true ? await holdUntilReleased(held.list, held.record) : {}
  if (how.drop === true) {
    await drain(body)
    finish(0)
    req.socket.destroy()
    return true
  }
  return answerInstead(afterRelease(rule, how), req, res, body, finish)
}

/** Keeps a request waiting in `held` until a test releases it, and says how it goes on. */
function holdUntilReleased(held: HeldRequest[], record: RecordedRequest): Promise<HoldRelease> {
  return new Promise((resolve) => {
    const entry: HeldRequest = {
      record,
      release(how = {}) {
        const index = held.indexOf(entry)
        if (index >= 0) held.splice(index, 1)
        resolve(how)
      },
    }
    held.push(entry)
  })
}

/** The rule a release turns a held request's into: its own answer, when it gives one. */
function afterRelease(rule: FaultRule, how: HoldRelease): FaultRule {
  if (how.status === undefined) return rule
  const { body, contentType } = how
  return {
    ...rule,
    status: how.status,
    ...(body !== undefined ? { body } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The answer a `status` rule sends instead of handling the request. */
function injectedReply(rule: FaultRule & { status: number }): Reply {
  const headers: Record<string, string> = {
    ...rule.headers,
    ...(rule.retryAfter !== undefined ? { 'retry-after': rule.retryAfter } : {}),
  }
  if (typeof rule.body === 'string') {
    return {
      kind: 'text',
      status: rule.status,
      body: rule.body,
      contentType: rule.contentType ?? 'text/plain; charset=utf-8',
      headers,
    }
  }
  return {
    kind: 'json',
    status: rule.status,
    body: rule.body ?? { message: `Injected fault (${rule.status})` },
    headers,
  }
}

/** Cut the connection once `limit` body bytes have arrived (or at the end of a shorter body). */
async function dropAfter(req: IncomingMessage, body: Readable, limit: number): Promise<void> {
  if (limit <= 0) {
    req.socket.destroy()
    return
  }
  await new Promise<void>((done) => {
    let received = 0
    const cut = (): void => {
      req.socket.destroy()
      done()
    }
    body.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received >= limit) cut()
    })
    body.once('end', cut)
    body.once('close', done)
  })
}

/**
 * The effects that replace handling: a dropped connection or an injected status. True when the
 * request was dealt with (and recorded through `finish`), false when it is to be handled.
 */
async function answerInstead(
  rule: FaultRule,
  req: IncomingMessage,
  res: ServerResponse,
  body: Readable,
  finish: (status: number) => void,
): Promise<boolean> {
  if (rule.dropAfterBytes !== undefined) {
    await dropAfter(req, body, rule.dropAfterBytes)
    finish(0)
    return true
  }
  if (rule.status !== undefined) {
    await drain(body)
    finish(rule.status)
    writeReply(req, res, injectedReply({ ...rule, status: rule.status }))
    return true
  }
  return false
}
