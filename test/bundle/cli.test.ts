/**
 * The bundled CLI (dist/cli/index.js) as a child process, as a user runs it: its arguments, its
 * environment (the key in DATAGOUV_API_KEY), its exit code, JSON on stdout and the log on stderr.
 * Every behaviour behind these runs in process in test/cli.test.ts.
 */
import { afterEach, expect, it } from 'vitest'
import { OUTPUT_NAMES } from '../../src/engine/report.js'
import { VERSION } from '../../src/version.js'
import { fixture, sha1, type Fixture } from '../helpers/fixture.js'
import { runCliBundle as cli } from '../helpers/run-cli.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

it('prints its version and usage (exit 0), and exits 2 on a usage error', async () => {
  f = await fixture()
  const version = await cli(['--version'], { cwd: f.workspace })
  expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  const help = await cli(['--help'], { cwd: f.workspace })
  expect(help.code).toBe(0)
  expect(help.stdout).toContain('DATAGOUV_API_KEY')
  const typo = await cli(['--datset', 'x'], { cwd: f.workspace })
  expect(typo.code).toBe(2)
  expect(typo.stderr).toContain("unknown option '--datset'; did you mean '--dataset'?")
})

it('publishes with the key from DATAGOUV_API_KEY: JSON on stdout, the log on stderr; exit 1 when an entry fails', async () => {
  f = await fixture()
  const r = f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
  await f.write('a.csv', 'new content')
  const args = ['--api-url', f.emulator.url, '--dataset', f.dataset.slug, '--files', 'a.csv']
  const env = { DATAGOUV_API_KEY: f.apiKey }
  const run = await cli([...args, '--json'], { cwd: f.workspace, env })
  expect(run.code, run.stderr).toBe(0)
  const result = JSON.parse(run.stdout) as Record<string, unknown>
  expect(Object.keys(result)).toEqual([...OUTPUT_NAMES])
  expect(result).toMatchObject({
    changed: true,
    'uploaded-count': 1,
    resources: [{ id: r.id, action: 'uploaded', checksum: { value: sha1('new content') } }],
  })
  expect(run.stderr).toContain('== Preflight')
  expect(run.stdout + run.stderr).not.toContain(f.apiKey)

  await f.write('a.csv', 'newer content')
  f.emulator.faults.push({ method: 'POST', status: 400, body: { message: 'refused' } })
  const failed = await cli(args, { cwd: f.workspace, env })
  expect(failed.code).toBe(1)
  expect(failed.stderr).toContain('1 of 1 entry failed to publish')
})
