/**
 * Local files that cannot go, or should not: a file the runner cannot read is refused in the
 * preflight, before any write (one that goes after it: test/network-failures.test.ts); what a
 * pattern reaches outside the workspace, through a symbolic link, or as a folder is decided in the
 * plan (src/engine/manifest/reach.ts) and said. The emulator's requests are the evidence of what
 * was sent.
 */
import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileEntry } from '../src/engine/manifest.js'
import { readability } from '../src/engine/preflight/local.js'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'
import { writeUnder } from './helpers/write-under.js'

let f: Fixture
let outside: string | undefined
let socket: Server | undefined
afterEach(async () => {
  await f?.close()
  if (outside !== undefined) await rm(outside, { recursive: true, force: true })
  await new Promise((resolve) => (socket ? socket.close(resolve) : resolve(undefined)))
  outside = undefined
  socket = undefined
})

/** A folder beside the workspace, outside it; removed after the test. */
async function outsideFolder(): Promise<string> {
  outside = await mkdtemp(path.join(tmpdir(), 'outside-'))
  return outside
}

const asRoot = process.getuid?.() === 0

describe('a file the runner cannot read', () => {
  // Root reads a file whatever its mode (CI runs as root): the cases below hold for root too.
  it.skipIf(asRoot)(
    'is refused in the preflight, named with the system error; nothing is written',
    async () => {
      f = await fixture()
      f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old', title: 'A' })
      await f.write('a.csv', 'new')
      const locked = await f.write('b.csv', 'b')
      await chmod(locked, 0o000)

      const run = await f.run({ files: '*.csv', 'create-missing': 'true' })

      expect(run.code).toBe(1)
      expect(run.stdout).toContain(
        "files '*.csv' (b.csv): the file cannot be read (EACCES: permission denied, open",
      )
      expect(f.writes()).toEqual([])
      expect(resourcesOutput(run).map((r) => [r.source, r.action])).toEqual([
        ['a.csv', 'not-published'],
        ['b.csv', 'not-published'],
      ])
      expect(run.summary).toContain('the file cannot be read (EACCES')
    },
  )

  it('the preflight check tells a socket and a named pipe apart without waiting on the pipe (as root too)', async () => {
    f = await fixture()
    const sock = path.join(f.workspace, 'live.csv')
    socket = createServer()
    await new Promise<void>((resolve) => socket?.listen(sock, resolve))
    const pipe = path.join(f.workspace, 'pipe.csv')
    execFileSync('mkfifo', [pipe])
    const plain = await f.write('plain.csv', 'x')
    const entry = (file: string): FileEntry => {
      const name = path.basename(file)
      return {
        kind: 'file',
        label: `files '*'`,
        source: name,
        path: file,
        name,
        size: 0,
        storedName: name,
      }
    }
    const entries = [entry(plain), entry(sock), entry(pipe)]

    const found = await readability(entries, 3)

    expect(found.problems).toEqual([
      expect.stringMatching(/^files '\*' \(live\.csv\): the file cannot be read \(ENXIO: /),
      `files '*' (pipe.csv): the file cannot be read ('${pipe}' is not a regular file)`,
    ])
    expect([...found.blocked.keys()]).toEqual([entries[1], entries[2]])
  })
})

describe('what a pattern reaches', () => {
  it("outside the workspace, named by the pattern ('../x.csv'): published, with a warning", async () => {
    f = await fixture()
    const place = await outsideFolder()
    await writeUnder(place, 'x.csv', 'x')
    const pattern = `../${path.basename(place)}/*.csv`

    const run = await f.run({ files: pattern, 'create-missing': 'true' })

    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain(
      `::warning::input 'files': '${pattern}' takes 1 file from outside the workspace ` +
        `(${path.join(place, 'x.csv')}): published, since the pattern names that place`,
    )
    expect(resourcesOutput(run)).toEqual([
      expect.objectContaining({ source: path.join(place, 'x.csv'), action: 'created' }),
    ])
  })

  it('through a symbolic link a wildcard walks into: refused before any write, naming the link and where it leads; excluded or named in full, it is decided', async () => {
    f = await fixture()
    const place = await outsideFolder()
    await writeUnder(place, 'secret.csv', 's')
    await f.write('out/data.csv', 'd')
    await symlink(place, path.join(f.workspace, 'out/linked'))

    const walked = await f.run({ files: 'out/**/*.csv', 'create-missing': 'true' })

    expect(walked.code).toBe(1)
    expect(walked.stdout).toContain(
      `input 'files': 'out/**/*.csv' reaches out/linked/secret.csv through a symbolic link that ` +
        `leads outside the workspace (to ${path.join(place, 'secret.csv')}); a link a wildcard ` +
        `walks into is never published: write its path in full to publish it, or leave it out ` +
        `with '!out/linked/secret.csv'`,
    )
    expect(f.writes()).toEqual([])

    const excluded = await f.run({
      files: 'out/**/*.csv\n!out/linked/secret.csv',
      'create-missing': 'true',
    })
    expect(excluded.code, excluded.stdout).toBe(0)
    expect(resourcesOutput(excluded).map((r) => [r.source, r.action])).toEqual([
      ['out/data.csv', 'created'],
    ])

    const named = await f.run({ files: 'out/linked/secret.csv', 'create-missing': 'true' })
    expect(named.code, named.stdout).toBe(0)
    expect(named.stdout).toContain(
      "'out/linked/secret.csv' takes 1 file from outside the workspace",
    )
    expect(resourcesOutput(named).map((r) => [r.source, r.action])).toEqual([
      ['out/linked/secret.csv', 'created'],
    ])
  })

  it('a folder a wildcard matches is not published whole (said); a folder the pattern names is', async () => {
    f = await fixture()
    await f.write('out/a.csv', 'a')
    await f.write('out/archive.csv/2024.csv', '2024')
    await f.write('out/archive.csv/notes.txt', 'notes')
    const dry = { 'create-missing': 'true', 'dry-run': 'true' }

    const star = await f.run({ files: 'out/*.csv', ...dry })
    expect(star.code, star.stdout).toBe(0)
    expect(resourcesOutput(star).map((r) => r.source)).toEqual(['out/a.csv'])
    expect(star.stdout).toContain(
      `::warning::input 'files': 'out/*.csv' matches 1 folder (out/archive.csv) whose files it ` +
        `does not publish: a wildcard does not take a folder's contents; name the folder ` +
        `('out/archive.csv') or write 'out/archive.csv/**' to publish them`,
    )

    // '**' walks into the folder and takes what matches there, and nothing else of it.
    const deep = await f.run({ files: 'out/**/*.csv', ...dry })
    expect(deep.code, deep.stdout).toBe(0)
    expect(resourcesOutput(deep).map((r) => r.source)).toEqual([
      'out/a.csv',
      'out/archive.csv/2024.csv',
    ])
    expect(deep.stdout).not.toContain('whose files it does not publish')

    const named = await f.run({ files: 'out/archive.csv', ...dry })
    expect(named.code, named.stdout).toBe(0)
    expect(resourcesOutput(named).map((r) => r.source)).toEqual([
      'out/archive.csv/2024.csv',
      'out/archive.csv/notes.txt',
    ])
    expect(named.stdout).not.toContain('whose files it does not publish')
  })
})
