/**
 * The CLI's progress on a terminal, in process: a frame redrawn in place where the terminal can
 * move its cursor, log lines only where it cannot (TERM=dumb). The redraw timer is faked, so "a
 * second of redraws" is a second on the test's clock, not a wait. Interrupting a run (Ctrl-C,
 * SIGINT) takes a process: test/bundle/cli-terminal.test.ts.
 */
import { afterEach, expect, it, vi } from 'vitest'
import { main } from '../src/cli/main.js'
import { fixture, until, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  vi.useRealTimers()
  await f?.close()
})

const MiB = 1024 * 1024

/**
 * Two uploads that the server holds, on a terminal of 100 columns whose TERM is `term`: what the
 * CLI wrote to it once both uploads are under way and a second of redraws has passed.
 */
async function drawnWhileUploading(term: string): Promise<string> {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old a' })
  f.emulator.addFileResource(f.dataset.id, { filename: 'b.csv', content: 'old b' })
  await f.write('a.csv', Buffer.alloc(3 * MiB, 'a'))
  await f.write('b.csv', Buffer.alloc(3 * MiB, 'b'))
  f.emulator.faults.push({ method: 'POST', path: '/upload/$', delayMs: 30_000 })
  let screen = ''
  const terminal = { isTTY: true, columns: 100, rows: 30, write: (t: string) => (screen += t) }
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  const exit = main(
    [
      ...['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--files', '*.csv'],
      ...['--chunk-size', String(MiB), '--part-concurrency', '1', '--max-retries', '0'],
    ],
    {
      stdout: { write: () => true },
      stderr: terminal,
      env: { DATAGOUV_API_KEY: f.apiKey, TERM: term },
      cwd: f.workspace,
    },
  )
  // Both uploads under way: the first part of each received whole.
  await until(
    () => f.emulator.requests.filter((q) => q.method === 'POST' && q.bodyBytes > MiB).length === 2,
  )
  vi.advanceTimersByTime(1000)
  const drawn = screen
  vi.useRealTimers()
  // The server goes away: the held uploads fail, and the run ends.
  await f.emulator.close()
  expect(await exit).toBe(1)
  return drawn
}

it('on a terminal that can move its cursor: a frame with a total, redrawn in place', async () => {
  const screen = await drawnWhileUploading('xterm-256color')
  expect(screen).toContain('Total:')
  expect(screen).toContain('\u001b[')
})

it('on a terminal that cannot move its cursor (TERM=dumb): log lines only', async () => {
  const screen = await drawnWhileUploading('dumb')
  expect(screen).toContain('== Publish')
  expect(screen).not.toContain('Total:')
  expect(screen).not.toContain('\u001b[')
})
