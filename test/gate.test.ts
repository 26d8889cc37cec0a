import { describe, expect, it } from 'vitest'
import { Gate } from '../src/util/gate.js'

/** A section that records when it runs and ends when its `finish` is called. */
function section(log: string[], name: string) {
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  const fn = async () => {
    log.push(`${name}+`)
    await done
    log.push(`${name}-`)
  }
  return { fn, finish }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('Gate', () => {
  it('runs shared sections together and an exclusive one alone, in the order asked', async () => {
    const gate = new Gate()
    const log: string[] = []
    const a = section(log, 'a')
    const b = section(log, 'b')
    const x = section(log, 'x')
    const c = section(log, 'c')
    const running = [gate.shared(a.fn), gate.shared(b.fn), gate.exclusive(x.fn), gate.shared(c.fn)]
    await tick()
    // a and b together; x waits for both; c, asked after x, waits for x.
    expect(log).toEqual(['a+', 'b+'])
    a.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-'])
    b.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x+'])
    x.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x+', 'x-', 'c+'])
    c.finish()
    await Promise.all(running)
  })

  it('lets the next section in when a section throws', async () => {
    const gate = new Gate()
    await expect(gate.exclusive(() => Promise.reject(new Error('no')))).rejects.toThrow('no')
    await expect(gate.exclusive(async () => 'next')).resolves.toBe('next')
    await expect(gate.shared(async () => 'shared')).resolves.toBe('shared')
  })

  it('never runs two exclusive sections at once', async () => {
    const gate = new Gate()
    let inside = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 3 === 0 ? gate.exclusive.bind(gate) : gate.shared.bind(gate))(async () => {
          inside += i % 3 === 0 ? 100 : 1
          most = Math.max(most, inside)
          await tick()
          inside -= i % 3 === 0 ? 100 : 1
        }),
      ),
    )
    // An exclusive section counts 100: never 200, and never 100 plus a shared one.
    expect(most).toBeLessThanOrEqual(100)
  })
})
