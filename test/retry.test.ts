import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRetryAfter, retryDelay } from '../src/datagouv/retry.js'

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T12:00:00Z')
  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now)).toBe(0)
  })
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('-3', now)).toBeUndefined()
    expect(parseRetryAfter('1.5', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
  it('never throws and never returns a negative delay', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const ms = parseRetryAfter(value, now)
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true)
      }),
    )
  })
})

describe('retryDelay', () => {
  const policy = { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 60_000 }
  it('doubles with jitter between half and all of the exponential step, never below the base', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (retry, r) => {
          const delay = retryDelay({ ...policy, random: () => r }, retry)
          const step = Math.min(60_000, 1000 * 2 ** (retry - 1))
          expect(delay).toBeGreaterThanOrEqual(Math.max(1000, Math.floor(step / 2)))
          expect(delay).toBeLessThanOrEqual(step)
        },
      ),
    )
  })
  it('honours a longer Retry-After, capped at the ceiling', () => {
    const fixed = { ...policy, random: () => 0 }
    expect(retryDelay(fixed, 1, 20_000)).toBe(20_000)
    expect(retryDelay(fixed, 1, 3_600_000)).toBe(60_000)
    expect(retryDelay(fixed, 3, 10)).toBe(2000)
  })
})
