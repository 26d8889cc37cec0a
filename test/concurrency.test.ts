import { describe, expect, it } from 'vitest'
import { mapConcurrent, mapPaced } from '../src/util/concurrency.js'

/** One turn of the event loop: every call that could start has started. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Calls that end when the test says so. */
function controlledCalls() {
  const started: number[] = []
  const pending = new Map<number, { resolve(value: number): void; reject(error: Error): void }>()
  const fn = (n: number): Promise<number> => {
    started.push(n)
    return new Promise((resolve, reject) => pending.set(n, { resolve, reject }))
  }
  const end = (n: number, outcome: number | Error): void => {
    const call = pending.get(n)
    if (call === undefined) throw new Error(`call ${n} is not running`)
    pending.delete(n)
    if (outcome instanceof Error) call.reject(outcome)
    else call.resolve(outcome)
  }
  return { started, pending, fn, end }
}

describe('mapConcurrent', () => {
  it('keeps the order of the results and never runs more than the limit at once', async () => {
    const calls = controlledCalls()
    const run = mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, calls.fn)
    let highest = 0
    // Ended from the last started: results come back out of order.
    while (calls.started.length < 7 || calls.pending.size > 0) {
      await turn()
      highest = Math.max(highest, calls.pending.size)
      const last = [...calls.pending.keys()].at(-1)
      if (last !== undefined) calls.end(last, last * 10)
    }
    expect(await run).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(highest).toBe(3)
  })

  it('starts nothing more once a call failed, and throws that failure', async () => {
    const calls = controlledCalls()
    const run = mapConcurrent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2, calls.fn)
    await turn()
    expect(calls.started).toEqual([0, 1])
    calls.end(1, new Error('part 2 refused'))
    await expect(run).rejects.toThrow('part 2 refused')
    // The other call ends after the failure: its worker takes no further item.
    calls.end(0, 0)
    await turn()
    expect(calls.started).toEqual([0, 1])
  })
})

describe('mapPaced', () => {
  it('reads the limit again whenever a call ends: more start when it rises, none while it is exceeded', async () => {
    const calls = controlledCalls()
    let limit = 2
    const run = mapPaced([0, 1, 2, 3, 4, 5, 6, 7], () => limit, calls.fn)
    await turn()
    expect(calls.started).toEqual([0, 1])
    limit = 4
    calls.end(0, 0)
    await turn()
    // One call ended and the limit rose by two: three start at once.
    expect(calls.started).toEqual([0, 1, 2, 3, 4])
    limit = 2
    calls.end(1, 10)
    calls.end(2, 20)
    await turn()
    // Two still run (3 and 4): at the new limit, nothing more starts.
    expect(calls.started).toEqual([0, 1, 2, 3, 4])
    calls.end(3, 30)
    await turn()
    expect(calls.started).toEqual([0, 1, 2, 3, 4, 5])
    limit = 0
    for (const n of [4, 5, 6, 7]) {
      calls.end(n, n * 10)
      await turn()
    }
    // A limit below 1 still lets one call run at a time.
    expect(await run).toEqual([0, 10, 20, 30, 40, 50, 60, 70])
  })
})
