/** The CLI's progress display: the frame drawn for a given sequence of events, the smoothed speed, the Ctrl-C report. */
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { formatEta, renderFrame } from '../src/cli/frame.js'
import { interruptReport } from '../src/cli/interrupt.js'
import { ProgressModel, type UploadEntry } from '../src/cli/progress.js'
import { Rate } from '../src/cli/rate.js'
import { terminalReporter } from '../src/cli/terminal.js'
import type { Phase } from '../src/engine/engine.js'
import type { FileEntry } from '../src/engine/manifest.js'

const MiB = 1024 * 1024
const entry = (source: string, size: number): UploadEntry => ({
  path: `/work/${source}`,
  source,
  size,
})
const speeds = (line: string | undefined): number[] =>
  [...(line ?? '').matchAll(/([\d.]+) (B|KiB|MiB|GiB)\/s/g)].map(
    (m) => Number(m[1]) * { B: 1, KiB: 1024, MiB, GiB: 1024 * MiB }[m[2] as 'B'],
  )

describe('Rate', () => {
  it('shows nothing during the first second, then the average over it, not the burst of the first read', () => {
    const rate = new Rate()
    rate.sample(0, 0)
    // The first read fills socket buffers at disk speed: 1 MiB in a millisecond (a naive rate says 1000 MiB/s).
    rate.sample(1 * MiB, 1)
    expect(rate.perSecond).toBeUndefined()
    for (let t = 100; t < 1000; t += 100) rate.sample(1 * MiB + t * 10 * 1024, t)
    expect(rate.perSecond).toBeUndefined()
    rate.sample(1 * MiB + 1000 * 10 * 1024, 1000)
    expect(rate.perSecond).toBeGreaterThan(9 * MiB)
    expect(rate.perSecond).toBeLessThan(12 * MiB)
    // Steady 10 MiB/s: it settles there.
    for (let t = 1100; t <= 10_000; t += 100) rate.sample(1 * MiB + t * 10 * 1024, t)
    expect(Math.abs((rate.perSecond ?? 0) - 10_000 * 1024) / (10_000 * 1024)).toBeLessThan(0.02)
  })

  it('follows a change within a few seconds and falls towards zero when the upload stalls', () => {
    const rate = new Rate()
    let bytes = 0
    for (let t = 0; t <= 5000; t += 100) rate.sample((bytes += 100 * 1024), t)
    expect(rate.perSecond).toBeCloseTo(1000 * 1024, -3)
    for (let t = 5100; t <= 15_000; t += 100) rate.sample(bytes, t)
    expect(rate.perSecond).toBeLessThan(0.15 * 1000 * 1024)
  })
})

describe('renderFrame', () => {
  it('draws one line per upload in flight and a total line that fit the terminal', () => {
    const model = new ProgressModel()
    const a = entry('out/ventes-2024.csv', 40 * MiB)
    const b = entry(
      'exports/a/very/long/folder/name/that/will/not/fit/stations-des-regions.geojson',
      100 * MiB,
    )
    model.progress(a, 1 * MiB, 0)
    model.progress(b, 2 * MiB, 10)
    for (let t = 100; t <= 3000; t += 100) {
      model.progress(a, 1 * MiB + t * 4 * 1024, t)
      model.progress(b, 2 * MiB + t * 2 * 1024, t)
      model.tick(t)
    }
    for (const columns of [60, 80, 100, 160]) {
      const lines = renderFrame(model, columns)
      expect(lines).toHaveLength(3)
      for (const line of lines) expect(line.length, `${columns}: ${line}`).toBeLessThan(columns)
      expect(lines[0]).toContain('out/ventes-2024.csv')
      expect(lines[1]).toMatch(
        columns >= 120 ? /…\/[\w/-]*\/stations-des-regions\.geojson / : /…[\w/-]*regions\.geojson /,
      )
      expect(lines[2]).toMatch(/^ {2}Total: {2}0 files done, 2 in flight {2}[\d.]+ MiB sent/)
    }
    const [first, second, total] = renderFrame(model, 120)
    expect(first).toMatch(/\[=+> *\] +31 % +12\.7 MiB \/ 40\.0 MiB +[\d.]+ MiB\/s {2}ETA 0:0\d/)
    expect(second).toMatch(/ 7 % +7\.86 MiB \/ 100\.0 MiB +[\d.]+ MiB\/s {2}ETA 0:\d\d/)
    // The columns line up from one upload to the next.
    expect(first?.indexOf('[')).toBe(second?.indexOf('['))
    expect(first?.indexOf(' %')).toBe(second?.indexOf(' %'))
    // 4 and 2 MB/s, 6 in total: the first reads (1 and 2 MiB at once) do not count as speed.
    expect(speeds(first)[0]).toBeCloseTo(4_096_000, -4)
    expect(speeds(second)[0]).toBeCloseTo(2_048_000, -4)
    expect(speeds(total)[0]).toBeCloseTo(6_144_000, -4)
  })

  it('shows no speed and no ETA before a second has passed, and never the first read as a speed', () => {
    const model = new ProgressModel()
    const a = entry('a.csv', 50 * MiB)
    model.progress(a, 1 * MiB, 0)
    model.tick(1)
    model.progress(a, 2 * MiB, 400)
    model.tick(400)
    const lines = renderFrame(model, 100)
    expect(lines.join('\n')).not.toMatch(/\/s|ETA/)
    expect(lines[0]).toContain('2.00 MiB / 50.0 MiB')
  })

  it('with the plan and the outcomes: files done of the total, bytes of the total, an ETA, and a sent file waits for the answer', () => {
    const model = new ProgressModel()
    const a = entry('a.csv', 10 * MiB)
    const b = entry('b.csv', 30 * MiB)
    model.plan([a, b])
    for (let t = 0; t <= 2000; t += 100) {
      model.progress(a, Math.min(10 * MiB, t * 5 * 1024 + 1), t)
      model.progress(b, t * 5 * 1024 + 1, t)
      model.tick(t)
    }
    let lines = renderFrame(model, 100)
    expect(lines[2]).toMatch(
      /Total: {2}0\/2 files done {2}[\d.]+ MiB \/ 40\.0 MiB {2}[\d.]+ MiB\/s {2}ETA \d:\d\d/,
    )
    model.progress(a, 10 * MiB, 2100)
    lines = renderFrame(model, 100)
    expect(lines[0]).toMatch(/a\.csv .*100 % +10\.0 MiB \/ 10\.0 MiB +waiting for the server/)
    model.ended(a, false, 'uploaded', 2200)
    lines = renderFrame(model, 100)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toContain('1/2 files done')
    model.ended(b, true, 'failed', 2300)
    expect(renderFrame(model, 100)).toEqual([])

    const single = new ProgressModel()
    single.plan([a])
    single.progress(a, 1, 0)
    expect(renderFrame(single, 80)[1]).toContain('0/1 file done')
  })

  it('counts in words that agree with the number', () => {
    const model = new ProgressModel()
    model.progress(entry('a.csv', 10), 10, 0)
    model.progress(entry('b.csv', 10 * MiB), 1, 0)
    expect(renderFrame(model, 100).at(-1)).toContain('1 file done, 1 in flight')
  })

  it('formats the ETA as m:ss or h:mm:ss', () => {
    expect(formatEta(7)).toBe('0:07')
    expect(formatEta(754)).toBe('12:34')
    expect(formatEta(3723)).toBe('1:02:03')
    expect(formatEta(Number.POSITIVE_INFINITY)).toBeUndefined()
  })
})

describe('interruptReport', () => {
  it('before publishing, and in a dry run: nothing was written', () => {
    expect(interruptReport(new ProgressModel(), 'preflight', MiB)).toEqual([
      'Interrupted (Ctrl-C) before publishing: nothing was written.',
    ])
    expect(interruptReport(new ProgressModel(), 'dry-run', MiB)[0]).toContain('nothing was written')
  })

  it('says which uploads were cut and that the server discards their parts, which were sent in full, and what stays published', () => {
    const model = new ProgressModel()
    model.plan([
      entry('big.csv', 50 * MiB),
      entry('small.csv', 100),
      entry('done.csv', 10),
      entry('sent.csv', 20),
    ])
    model.progress(entry('big.csv', 50 * MiB), 12 * MiB, 0)
    model.progress(entry('small.csv', 100), 50, 0)
    model.ended(entry('done.csv', 10), false, 'created', 0)
    model.progress(entry('sent.csv', 20), 20, 0)
    const text = interruptReport(model, 'publish', 20 * MiB).join('\n')
    expect(text).toContain('Interrupted (Ctrl-C) while publishing.')
    expect(text).toContain('Uploads cut short: nothing was replaced or created for these files.')
    expect(text).toContain(
      '  - big.csv: 12.0 MiB of 50.0 MiB sent in parts the server never combined; it discards them',
    )
    expect(text).toContain(
      '  - small.csv: 50 B of 100 B sent in a request cut short; the server discards it',
    )
    expect(text).toMatch(/Sent in full, the server's answer not received[^\n]*\n {2}- sent\.csv/)
    expect(text).toMatch(/Already published \(they stay published\):\n {2}- done\.csv \(created\)/)
    expect(text).toContain('Run the same command again to finish')
  })
})

describe('terminalReporter', () => {
  const file = (source: string, size: number): FileEntry => ({
    kind: 'file',
    label: `files '${source}'`,
    source,
    path: `/work/${source}`,
    name: source,
    storedName: source,
    size,
  })

  it('without a terminal: log lines as they come, and for files larger than a part one line every 10 s and one at the end', () => {
    let now = 0
    const written: string[] = []
    const reporter = terminalReporter({
      stream: { write: (t: string) => written.push(t) },
      verbose: false,
      dryRun: false,
      chunkSize: MiB,
      clock: () => now,
    })
    reporter.info('hello')
    reporter.debug('hidden')
    const big = file('big.csv', 4 * MiB)
    for (now = 0; now <= 12_000; now += 1000) reporter.progress(big, (now / 12_000) * 3 * MiB)
    reporter.progress(big, 4 * MiB)
    reporter.progress(file('small.csv', 10), 10)
    reporter.done()
    expect(written.join('')).toBe(
      'hello\nbig.csv: 2.50 MiB of 4.00 MiB (63 %), 256.0 KiB/s\nbig.csv: 4.00 MiB of 4.00 MiB (100 %), 315.1 KiB/s\n',
    )
  })

  it('on a terminal: the frame is redrawn in place under the log lines, and removed at the end', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    onTestFinished(() => void vi.useRealTimers())
    let text = ''
    const stream = { isTTY: true, columns: 80, rows: 24, write: (t: string) => (text += t) }
    const reporter = terminalReporter({
      stream,
      verbose: false,
      dryRun: false,
      chunkSize: MiB,
      redrawMs: 5,
    })
    await reporter.group(
      'Publish',
      async () => {
        reporter.progress(file('a.csv', 4 * MiB), MiB)
        reporter.progress(file('b.csv', 4 * MiB), 2 * MiB)
        vi.advanceTimersByTime(40)
        reporter.info('a line in between')
        reporter.progress(file('a.csv', 4 * MiB), 3 * MiB)
        vi.advanceTimersByTime(40)
      },
      'publish',
    )
    reporter.done()
    expect(text).toContain('== Publish\n')
    expect(text).toMatch(/a\.csv .* 25 % +1\.00 MiB \/ 4\.00 MiB/)
    expect(text).toMatch(/b\.csv .* 50 % +2\.00 MiB \/ 4\.00 MiB/)
    expect(text).toContain('Total:  0 files done, 2 in flight  3.00 MiB sent')
    // The frame was erased (cursor up, erase line) before the log line, and drawn again after it.
    const erase = '\x1b[2K\x1b[1A'
    const before = text.indexOf('a line in between')
    expect(text.lastIndexOf(erase, before)).toBeGreaterThan(text.indexOf('Total:'))
    expect(text.indexOf('75 %', before)).toBeGreaterThan(before)
    // Ctrl-C now: both uploads were cut.
    expect(reporter.interrupted('Ctrl-C').join('\n')).toMatch(
      /a\.csv: 3\.00 MiB of 4\.00 MiB sent[\s\S]*b\.csv: 2\.00 MiB of 4\.00 MiB sent/,
    )
  })

  it("knows it is publishing from the engine's phase, not from a group's title", async () => {
    const interrupted = async (name: string, phase?: Phase, dryRun = false) => {
      const reporter = terminalReporter({
        stream: { write: () => true },
        verbose: false,
        dryRun,
        chunkSize: MiB,
      })
      await reporter.group(name, async () => undefined, phase)
      return reporter.interrupted('Ctrl-C')[0]
    }
    expect(await interrupted('Preflight: dataset, files, matches, checksums', 'preflight')).toBe(
      'Interrupted (Ctrl-C) before publishing: nothing was written.',
    )
    expect(await interrupted('Publish')).toContain('before publishing')
    expect(await interrupted('Envoi', 'publish')).toBe('Interrupted (Ctrl-C) while publishing.')
    expect(await interrupted('Dry run: nothing is written', 'publish', true)).toContain(
      'during the dry run',
    )
  })
})
