import { describe, expect, it } from 'vitest'
import { mapConcurrent } from '../src/util/concurrency.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('mapConcurrent', () => {
  it('keeps the order of the results and never runs more than the limit at once', async () => {
    let running = 0
    let highest = 0
    const results = await mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++
      highest = Math.max(highest, running)
      await tick()
      running--
      return n * 10
    })
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(highest).toBe(3)
  })

  it('starts nothing more once a call failed, and throws that failure', async () => {
    const started: number[] = []
    const run = mapConcurrent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2, async (n) => {
      started.push(n)
      await tick()
      if (n === 1) throw new Error('part 2 refused')
      return n
    })
    await expect(run).rejects.toThrow('part 2 refused')
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Items 0 and 1 ran together; 2 may have started when 0 ended, before 1 failed; nothing after.
    expect(started.length).toBeLessThanOrEqual(3)
  })
})
