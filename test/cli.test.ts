/** The bundled CLI (dist/cli/index.js) run as a user would, against the emulator. */
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { VERSION } from '../src/version.js'
import { fixture, sha1, type Fixture } from './helpers/fixture.js'
import { runCli as cli } from './helpers/run-cli.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

describe('datagouv-publish CLI', () => {
  it('prints its usage and version, and refuses unknown flags (the key is never a flag) with exit code 2', async () => {
    f = await fixture()
    const help = await cli(['--help'], { cwd: f.workspace })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('DATAGOUV_API_KEY')
    const version = await cli(['--version'], { cwd: f.workspace })
    expect(version.stdout.trim()).toBe(VERSION)
    expect((JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version).toBe(VERSION)
    const keyFlag = await cli(['--dataset', 'x', '--api-key', 'secret'], { cwd: f.workspace })
    expect(keyFlag.code).toBe(2)
    expect(keyFlag.stderr).toMatch(/Unknown option '--api-key'/)
  })

  it('publishes with the key from DATAGOUV_API_KEY, prints the result as JSON, then finds nothing to do', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old', title: 'A' })
    await f.write('out/a.csv', 'new content')
    await f.write('out/b.csv', 'b')
    const args = ['--api-url', f.emulator.url, '--dataset', f.dataset.slug, '--files', 'out/*.csv', '--files', '!out/b.csv', '--json']
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const run = await cli(args, { cwd: f.workspace, env })
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as { changed: boolean; resources: Array<{ id: string; action: string; checksum: { value: string } }> }
    expect(result.changed).toBe(true)
    expect(result.resources).toEqual([expect.objectContaining({ id: r.id, action: 'uploaded', checksum: { type: 'sha1', value: sha1('new content') } })])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.title).toBe('A')
    expect(run.stderr).toContain('== Preflight')
    expect(run.stdout + run.stderr).not.toContain(f.apiKey)

    const again = await cli(
      args.filter((a) => a !== '--json'),
      { cwd: f.workspace, env },
    )
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/out\/a\.csv\s+[\w-]+\s+skipped\s+unchanged/)
  })

  it('exits 2 on bad input or a preflight problem (nothing written) and 1 when an entry fails', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    await f.write('a.csv', 'new')
    const base = ['--api-url', f.emulator.url, '--dataset', f.dataset.id]
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const bad = await cli([...base, '--files', 'a.csv', '--concurrency', 'lots'], { cwd: f.workspace, env })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("input 'concurrency' must be a whole number")
    const noKey = await cli([...base, '--files', 'a.csv'], { cwd: f.workspace })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain("input 'api-key' is required")
    const missing = await cli([...base, '--files', 'zzz.csv'], { cwd: f.workspace, env })
    expect(missing.code).toBe(2)
    expect(f.writes()).toEqual([])
    f.emulator.faults.push({ method: 'POST', status: 400, body: { message: 'refused' } })
    const failed = await cli([...base, '--files', 'a.csv'], { cwd: f.workspace, env })
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('answered 400: refused')
  })

  it('reads --resources from a file with @path', async () => {
    f = await fixture()
    await f.write('new.csv', 'n')
    await f.write('entries.yml', '- path: new.csv\n  title: Nouveau\n  type: documentation\n')
    const run = await cli(['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--resources', '@entries.yml', '--create-missing'], {
      cwd: f.workspace,
      env: { DATAGOUV_API_KEY: f.apiKey },
    })
    expect(run.code, run.stderr).toBe(0)
    expect(f.emulator.getDataset(f.dataset.id)?.resources[0]).toMatchObject({ title: 'Nouveau', type: 'documentation' })
  })
})
