/**
 * The parts in flight of one upload (src/datagouv/part-pacing.ts): fixed when the user sets a
 * number; with `auto`, one more part while each added part raises the throughput, back one level
 * when it does not. Links are simulated by how long a part of a given size takes at each level.
 */
import { describe, expect, it } from 'vitest'
import {
  AUTO_START,
  MAX_PARTS_IN_FLIGHT,
  PartPacer,
  type PartConcurrency,
} from '../src/datagouv/part-pacing.js'

const PART = 20_000_000

/**
 * Waves of parts: each wave starts as many parts as the pacer allows, all of which run at that
 * level and answer after `msAt(level)`. Returns the level of each wave, and the pacer's log.
 */
function simulate(
  setting: PartConcurrency,
  msAt: (level: number) => number,
  waves = 12,
): { levels: number[]; log: string[] } {
  const log: string[] = []
  const pacer = new PartPacer(setting, (line) => log.push(line))
  const levels: number[] = []
  for (let wave = 0; wave < waves; wave++) {
    const level = pacer.limit
    levels.push(level)
    const tickets = Array.from({ length: level }, () => pacer.start())
    for (const ticket of tickets) pacer.answered(ticket, PART, msAt(level))
  }
  return { levels, log }
}

/** One connection carries at most `perConnection` bytes/ms, all of them share `link` bytes/ms. */
const link =
  (perConnection: number, shared = Infinity) =>
  (level: number): number =>
    PART / Math.min(perConnection, shared / level)

describe('part-concurrency: a number', () => {
  it('keeps the parts in flight at that number, whatever the throughput does', () => {
    expect(simulate(5, link(10_000)).levels.every((level) => level === 5)).toBe(true)
    expect(simulate(1, link(1_000, 4_000)).levels.every((level) => level === 1)).toBe(true)
  })
})

describe('part-concurrency: auto', () => {
  it('on a link held back per connection, climbs one part at a time up to the bound', () => {
    const { levels, log } = simulate('auto', link(13_000))
    expect(levels.slice(0, 7)).toEqual([3, 4, 5, 6, 7, 8, 8])
    expect(levels.at(-1)).toBe(MAX_PARTS_IN_FLIGHT)
    expect(log[0]).toBe('parts in flight: 4 (39.0 MB/s with 3)')
    expect(log.at(-1)).toMatch(/^parts in flight: 8, kept \(/)
  })

  it('on a link every connection shares, tries one more part and goes back to where it started', () => {
    const { levels, log } = simulate('auto', link(Infinity, 50_000))
    expect(levels.slice(0, 3)).toEqual([AUTO_START, AUTO_START + 1, AUTO_START])
    expect(new Set(levels.slice(2))).toEqual(new Set([AUTO_START]))
    expect(log).toEqual([
      'parts in flight: 4 (50.0 MB/s with 3)',
      'parts in flight: 3, kept (50.0 MB/s with 3; 50.0 MB/s with 4)',
    ])
  })

  it('stops where one connection each no longer adds: a quarter of the link per connection', () => {
    // 13 MB/s per connection, 50 MB/s in all: 4 parts fill the link (52), a fifth adds nothing.
    const { levels } = simulate('auto', link(13_000, 50_000))
    expect(levels.slice(0, 3)).toEqual([3, 4, 5])
    expect(new Set(levels.slice(3))).toEqual(new Set([4]))
  })

  it('measures only parts that ran at the current level from start to answer', () => {
    const log: string[] = []
    const pacer = new PartPacer('auto', (line) => log.push(line))
    const early = pacer.start()
    const wave = Array.from({ length: 3 }, () => pacer.start())
    for (const ticket of wave) pacer.answered(ticket, PART, 1000)
    expect(pacer.limit).toBe(4)
    // Started at 3, answered at 4: far slower, and not counted against 4.
    for (let i = 0; i < 10; i++) pacer.answered(early, PART, 100_000)
    expect(pacer.limit).toBe(4)
    const next = Array.from({ length: 4 }, () => pacer.start())
    for (const ticket of next) pacer.answered(ticket, PART, 1000)
    expect(pacer.limit).toBe(5)
    expect(log).toEqual([
      'parts in flight: 4 (60.0 MB/s with 3)',
      'parts in flight: 5 (80.0 MB/s with 4)',
    ])
  })
})
