/**
 * The bundled CLI on a terminal (a pseudo-terminal through util-linux `script`) and interrupted:
 * one progress line per upload in flight plus a total, redrawn in place; Ctrl-C says what was cut
 * and what the server holds, and exits 130 with the resources untouched; a pseudo-terminal that
 * reports 0 rows and columns still gets the drawing, 80 columns wide. Only a process can be
 * interrupted: the drawing itself runs in process in test/cli-terminal.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { plain, startCli } from '../helpers/cli-terminal.js'
import { fixture, sha1, until, type Fixture } from '../helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const MiB = 1024 * 1024

/** Two resources, two local files of 3 MiB to replace them, and a server that holds every upload request for 30 s. */
async function stalledUploads() {
  f = await fixture()
  const a = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old a' })
  const b = f.emulator.addFileResource(f.dataset.id, { filename: 'b.csv', content: 'old b' })
  await f.write('a.csv', Buffer.alloc(3 * MiB, 'a'))
  await f.write('b.csv', Buffer.alloc(3 * MiB, 'b'))
  f.emulator.faults.push({ method: 'POST', path: '/upload/$', delayMs: 30_000 })
  const args = [
    '--api-url',
    f.emulator.url,
    '--dataset',
    f.dataset.id,
    '--files',
    '*.csv',
    '--chunk-size',
    String(MiB),
    // One part in flight per file, the first held by the server: each upload is cut short mid-file.
    '--part-concurrency',
    '1',
    // The files are one letter repeated, not CSV: their checks would warn before the frame.
    '--file-checks',
    'off',
  ]
  // Both uploads under way: the first part of each received whole (the client counted it sent).
  const inFlight = (): Promise<void> =>
    until(
      () =>
        f.emulator.requests.filter((q) => q.method === 'POST' && q.bodyBytes > MiB).length === 2,
    )
  const untouched = (): void => {
    expect(f.emulator.getResource(f.dataset.id, a.id)?.checksum?.value).toBe(sha1('old a'))
    expect(f.emulator.getResource(f.dataset.id, b.id)?.checksum?.value).toBe(sha1('old b'))
  }
  return { args, env: { DATAGOUV_API_KEY: f.apiKey }, inFlight, untouched }
}

describe('datagouv-publish on a terminal', () => {
  it('draws a line per upload and a total line in place, and on Ctrl-C says what was cut and exits 130', async () => {
    const { args, env, untouched } = await stalledUploads()
    const run = startCli(args, { cwd: f.workspace, env, terminal: { columns: 100, rows: 30 } })
    await run.waitFor(/Total:[^\n]*0\/2 files done/)
    const screen = plain(run.output())
    expect(screen).toMatch(/^ {2}a\.csv +\[[=> ]+\] +\d+ % +[\d.]+ (KiB|MiB) \/ 3\.00 MiB/m)
    expect(screen).toMatch(/^ {2}b\.csv +\[[=> ]+\] +\d+ % +[\d.]+ (KiB|MiB) \/ 3\.00 MiB/m)
    // The engine announced the plan: the total counts files and bytes of the whole publication.
    expect(screen).toMatch(/^ {2}Total: {2}0\/2 files done {2}[\d.]+ (KiB|MiB) \/ 6\.00 MiB/m)
    // Lines fit the terminal (one column spare).
    for (const line of screen.split('\n')) expect(line.length, line).toBeLessThan(100)
    // After a second the speeds appear (0 B/s: the server holds the requests): the frame is
    // rewritten in place (cursor up, erase line), not appended.
    const drawn = run.output().length
    await run.waitFor(/B\/s/)
    const redraw = run.output().slice(drawn)
    expect(
      redraw.includes('\u001b[1A') || redraw.includes('\u001b[2K'),
      JSON.stringify(redraw),
    ).toBe(true)
    expect(plain(run.output().slice(drawn))).not.toContain('== Publish')

    run.interrupt()
    expect(await run.exit).toBe(130)
    const after = plain(run.output())
    expect(after).toContain('Interrupted (Ctrl-C) while publishing.')
    expect(after).toContain('Uploads cut short: nothing was replaced or created for these files.')
    expect(after).toMatch(
      /- a\.csv: [\d.]+ (KiB|MiB) of 3\.00 MiB sent in parts the server never combined; it discards them/,
    )
    expect(after).toMatch(/- b\.csv: [\d.]+ (KiB|MiB) of 3\.00 MiB sent in parts/)
    expect(after).toContain('Run the same command again to finish')
    untouched()
  })

  it('on a terminal that reports no size (0 rows, 0 columns): drawn as on 24 rows of 80 columns', async () => {
    const { args, env, untouched } = await stalledUploads()
    const run = startCli(args, { cwd: f.workspace, env, terminal: { columns: 0, rows: 0 } })
    await run.waitFor(/Total:[^\n]*0\/2 files done/)
    const screen = plain(run.output())
    expect(screen).toMatch(/^ {2}a\.csv +\[[=> ]+\] +\d+ %/m)
    expect(screen).toMatch(/^ {2}b\.csv +\[[=> ]+\] +\d+ %/m)
    // The frame's lines fit 80 columns (the log's own lines are left to the terminal to wrap).
    const frame = screen.split('\n').filter((l) => /^ {2}(\S+ +\[|Total:)/.test(l))
    expect(frame.length).toBeGreaterThanOrEqual(3)
    for (const line of frame) expect(line.length, line).toBeLessThan(80)
    run.interrupt()
    expect(await run.exit).toBe(130)
    untouched()
  })

  it('without a terminal: no drawing, and SIGINT gets the same report (exit 130)', async () => {
    const { args, env, inFlight, untouched } = await stalledUploads()
    const run = startCli(args, { cwd: f.workspace, env })
    await run.waitFor(/== Publish\n/)
    await inFlight()
    run.interrupt()
    expect(await run.exit).toBe(130)
    expect(run.output()).not.toContain('\x1b[')
    expect(run.output()).toMatch(
      /Interrupted \(Ctrl-C\) while publishing\.\nUploads cut short[^\n]*\n {2}- [ab]\.csv: [^\n]*\n {2}- [ab]\.csv: /,
    )
    // Both uploads, in the order they started (they start together: either may come first).
    expect(run.output()).toContain('  - a.csv: ')
    expect(run.output()).toContain('  - b.csv: ')
    expect(run.stdout()).toBe('')
    untouched()
  })

  it('interrupted before publishing: says that nothing was written', async () => {
    f = await fixture()
    await f.write('a.csv', 'a')
    f.emulator.faults.push({ method: 'GET', path: `/datasets/${f.dataset.id}/$`, delayMs: 30_000 })
    const run = startCli(
      ['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--files', 'a.csv'],
      {
        cwd: f.workspace,
        env: { DATAGOUV_API_KEY: f.apiKey },
      },
    )
    await run.waitFor(/== Preflight/)
    await until(() => f.emulator.requests.length > 0) // the dataset's read, held by the server
    run.interrupt()
    expect(await run.exit).toBe(130)
    expect(run.output()).toContain('Interrupted (Ctrl-C) before publishing: nothing was written.')
    expect(f.writes()).toEqual([])
  })
})
