import { describe, expect, it } from 'vitest'
import { Gate } from '../src/util/gate.js'

/** A section that records when it starts and ends, and ends when its `finish` is called. */
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
  it('runs sections of one kind together, of another kind after them, in the order asked', async () => {
    const gate = new Gate<'edit' | 'create'>()
    const log: string[] = []
    const a = section(log, 'a')
    const b = section(log, 'b')
    const x = section(log, 'x')
    const y = section(log, 'y')
    const c = section(log, 'c')
    const running = [
      gate.run('edit', a.fn),
      gate.run('edit', b.fn),
      gate.run('create', x.fn),
      gate.run('create', y.fn),
      gate.run('edit', c.fn),
    ]
    await tick()
    // a and b together; x and y wait for both, then run together; c, asked after them, waits.
    expect(log).toEqual(['a+', 'b+'])
    a.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-'])
    b.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x+', 'y+'])
    x.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x+', 'y+', 'x-'])
    y.finish()
    await tick()
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x+', 'y+', 'x-', 'y-', 'c+'])
    c.finish()
    await Promise.all(running)
  })

  it('runs an `alone` section by itself, even beside another `alone` one', async () => {
    const gate = new Gate<'edit'>()
    const log: string[] = []
    const a = section(log, 'a')
    const b = section(log, 'b')
    const e = section(log, 'e')
    const running = [gate.run('alone', a.fn), gate.run('alone', b.fn), gate.run('edit', e.fn)]
    await tick()
    expect(log).toEqual(['a+'])
    a.finish()
    await tick()
    expect(log).toEqual(['a+', 'a-', 'b+'])
    b.finish()
    await tick()
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'e+'])
    e.finish()
    await Promise.all(running)
  })

  it('lets the next section in when a section throws', async () => {
    const gate = new Gate<'edit'>()
    await expect(gate.run('alone', () => Promise.reject(new Error('no')))).rejects.toThrow('no')
    await expect(gate.run('alone', async () => 'next')).resolves.toBe('next')
    await expect(gate.run('edit', async () => 'edit')).resolves.toBe('edit')
  })

  it('never lets kinds overlap, whatever the mix', async () => {
    const gate = new Gate<'edit' | 'create'>()
    const inside = new Map<string, number>()
    const overlaps: string[] = []
    const kinds = ['edit', 'create', 'alone'] as const
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const kind = kinds[(i * 7) % 3] as (typeof kinds)[number]
        return gate.run(kind, async () => {
          inside.set(kind, (inside.get(kind) ?? 0) + 1)
          const now = [...inside].filter(([, n]) => n > 0).map(([k, n]) => `${k}:${n}`)
          if (now.length > 1 || (kind === 'alone' && (inside.get('alone') ?? 0) > 1))
            overlaps.push(now.join(','))
          await tick()
          inside.set(kind, (inside.get(kind) ?? 0) - 1)
        })
      }),
    )
    expect(overlaps).toEqual([])
  })
})
