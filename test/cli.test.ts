/**
 * The CLI (`main()` of src/cli/main.ts, in process) run as a user would, against the emulator;
 * test/bundle/cli.test.ts runs the bundle (dist/cli/index.js).
 */
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { OUTPUT_NAMES } from '../src/engine/report.js'
import { VERSION } from '../src/version.js'
import { fixture, sha1, type Fixture } from './helpers/fixture.js'
import { runCli as cli } from './helpers/run-cli.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

describe('datagouv-publish CLI', () => {
  it('prints its usage and version', async () => {
    f = await fixture()
    const help = await cli(['--help'], { cwd: f.workspace })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('DATAGOUV_API_KEY')
    for (const line of help.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100)
    const version = await cli(['--version'], { cwd: f.workspace })
    expect(version.stdout.trim()).toBe(VERSION)
    expect(
      (
        JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
          version: string
        }
      ).version,
    ).toBe(VERSION)
  })

  it('says why the key is not a flag, suggests the nearest option, and explains a stray argument (exit 2, no usage dump)', async () => {
    f = await fixture()
    const opts = { cwd: f.workspace }
    for (const keyFlag of [
      ['--dataset', 'x', '--api-key', 'k-1234'],
      ['--dataset', 'x', '--api-key=k-1234'],
    ]) {
      const run = await cli(keyFlag, opts)
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('there is no --api-key option')
      expect(run.stderr).toMatch(/shell history/)
      expect(run.stderr).toMatch(/process list/)
      expect(run.stderr).toContain('export DATAGOUV_API_KEY=')
      expect(run.stderr).not.toContain('k-1234')
      expect(run.stderr).not.toContain('Usage:')
    }
    const typo = await cli(['--datset', 'x'], opts)
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain("unknown option '--datset'; did you mean '--dataset'?")
    expect((await cli(['--dataset', 'x', '--dry_run'], opts)).stderr).toContain(
      "did you mean '--dry-run'?",
    )
    expect((await cli(['--dataset', 'x', '--create-mising'], opts)).stderr).toContain(
      "did you mean '--create-missing'?",
    )
    expect((await cli(['--dataset', 'x', '--check-urls'], opts)).stderr).toContain(
      '--no-check-urls',
    )
    expect((await cli(['--dataset', 'x', '--frobnicate'], opts)).stderr).not.toContain(
      'did you mean',
    )
    // An unquoted glob the shell expanded: the second file arrives as a stray argument.
    const expanded = await cli(['--dataset', 'x', '--files', 'out/a.csv', 'out/b.csv'], opts)
    expect(expanded.code).toBe(2)
    expect(expanded.stderr).toContain("unexpected argument 'out/b.csv'")
    expect(expanded.stderr).toContain("--files 'out/*.csv'")
    const missingValue = await cli(['--dataset', '--dry-run'], opts)
    expect(missingValue.code).toBe(2)
    expect(missingValue.stderr).toContain("option '--dataset' needs a value")
    // With --json, stdout still gets one JSON document.
    const json = await cli(['--datset', 'x', '--json'], opts)
    expect(JSON.parse(json.stdout)).toEqual({
      problems: [expect.stringContaining("did you mean '--dataset'?")],
    })
  })

  it('publishes with the key from DATAGOUV_API_KEY, prints the outputs under their action names as JSON, then finds nothing to do', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'a.csv',
      content: 'old',
      title: 'A',
    })
    await f.write('out/a.csv', 'new content')
    await f.write('out/b.csv', 'b')
    const args = [
      '--api-url',
      f.emulator.url,
      '--dataset',
      f.dataset.slug,
      '--files',
      'out/*.csv',
      '--files',
      '!out/b.csv',
      '--json',
    ]
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const run = await cli(args, { cwd: f.workspace, env })
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as Record<string, unknown> & {
      resources: Array<{ id: string; action: string; checksum: { value: string } }>
    }
    expect(Object.keys(result)).toEqual([...OUTPUT_NAMES])
    expect(result).toMatchObject({
      changed: true,
      'uploaded-count': 1,
      'skipped-count': 0,
      'removed-count': 0,
      'dataset-metadata': null,
      'dataset-url': expect.stringContaining('/datasets/test-dataset'),
      urls: { 'out/a.csv': expect.stringContaining('a.csv') },
    })
    expect(result.resources).toEqual([
      expect.objectContaining({
        id: r.id,
        action: 'uploaded',
        checksum: { type: 'sha1', value: sha1('new content') },
      }),
    ])
    expect(f.emulator.getResource(f.dataset.id, r.id)?.title).toBe('A')
    expect(run.stderr).toContain('== Preflight')
    expect(run.stdout + run.stderr).not.toContain(f.apiKey)

    const again = await cli(
      args.filter((a) => a !== '--json'),
      { cwd: f.workspace, env },
    )
    expect(again.code).toBe(0)
    // The id shortened to 8 characters in text (never in --json), then the closing line.
    expect(again.stdout).toMatch(/out\/a\.csv\s+[\w-]{8}…\s+skipped\s+unchanged/)
    expect(again.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^Done in [\\d.]+ m?s: 1 skipped\\. http://127\\.0\\.0\\.1:\\d+/.*${f.dataset.slug}`,
      ),
    )
  })

  it('exits 2 on bad input or a preflight problem (nothing written), with the problems as JSON under --json, and 1 when an entry fails', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
    await f.write('a.csv', 'new')
    const base = ['--api-url', f.emulator.url, '--dataset', f.dataset.id]
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const bad = await cli([...base, '--files', 'a.csv', '--concurrency', 'lots', '--json'], {
      cwd: f.workspace,
      env,
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--concurrency must be a whole number')
    expect(JSON.parse(bad.stdout)).toEqual({
      problems: [expect.stringContaining('--concurrency must be a whole number')],
    })

    // Without a key, the CLI speaks of its environment variable, not of the action's secrets.
    const noKey = await cli([...base, '--files', 'a.csv'], { cwd: f.workspace })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain('set the DATAGOUV_API_KEY environment variable')
    expect(noKey.stderr).toContain('--dry-run')
    expect(noKey.stderr).not.toContain('secrets.')
    expect(noKey.stderr).not.toContain('api-key:')

    const missing = await cli([...base, '--files', 'zzz.csv', '--files', 'yyy.csv', '--json'], {
      cwd: f.workspace,
      env,
    })
    expect(missing.code).toBe(2)
    expect(f.writes()).toEqual([])
    const problems = JSON.parse(missing.stdout) as { problems: string[]; [output: string]: unknown }
    expect(problems.problems).toEqual([
      expect.stringContaining("'zzz.csv'"),
      expect.stringContaining("'yyy.csv'"),
    ])
    // With the outputs known when the preflight stopped, under the same names as on success.
    expect(Object.keys(problems)).toEqual(['problems', ...OUTPUT_NAMES])
    expect(problems).toMatchObject({
      changed: false,
      'uploaded-count': 0,
      'dataset-url': expect.stringContaining('/datasets/test-dataset'),
    })

    f.emulator.faults.push({ method: 'POST', status: 400, body: { message: 'refused' } })
    const failed = await cli([...base, '--files', 'a.csv'], { cwd: f.workspace, env })
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('answered 400: refused')
    expect(failed.stderr).toContain('1 of 1 entry failed to publish')
  })

  it('takes --resources inline even when the YAML starts with a dash, or from a file with @path', async () => {
    f = await fixture()
    await f.write('new.csv', 'n')
    await f.write('other.csv', 'o')
    await f.write('entries.yml', '- path: other.csv\n  title: Autre\n')
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const base = ['--api-url', f.emulator.url, '--dataset', f.dataset.id, '--create-missing']
    const inline = await cli(
      [...base, '--resources', '- path: new.csv\n  title: Nouveau\n  type: documentation'],
      { cwd: f.workspace, env },
    )
    expect(inline.code, inline.stderr).toBe(0)
    expect(f.emulator.getDataset(f.dataset.id)?.resources[0]).toMatchObject({
      title: 'Nouveau',
      type: 'documentation',
    })
    // Every option that takes a value takes one that starts with a dash (here refused by the input's own check).
    const negative = await cli([...base, '--files', 'new.csv', '--timeout', '-5'], {
      cwd: f.workspace,
      env,
    })
    expect(negative.code).toBe(2)
    expect(negative.stderr).toContain(
      "--timeout must be a duration such as 90s, 15m or 1h30m (a bare number is seconds), from 1s to 24h, got '-5'",
    )
    const fromFile = await cli([...base, '--resources', '@entries.yml'], { cwd: f.workspace, env })
    expect(fromFile.code, fromFile.stderr).toBe(0)
    expect(f.emulator.getDataset(f.dataset.id)?.resources.map((r) => r.title)).toContain('Autre')
  })

  it('--verbose logs requests, not the internals of the glob library; without a terminal, large uploads get the periodic lines', async () => {
    f = await fixture()
    await f.write('out/big.csv', Buffer.alloc(3 * 1024 * 1024, 'x'))
    const run = await cli(
      [
        '--api-url',
        f.emulator.url,
        '--dataset',
        f.dataset.id,
        '--files',
        'out/*.csv',
        '--create-missing',
        '--chunk-size',
        String(1024 * 1024),
        '--verbose',
      ],
      { cwd: f.workspace, env: { DATAGOUV_API_KEY: f.apiKey } },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/^ {2}GET \/api\/1\/datasets\/[^ ]+ -> 200/m)
    expect(run.stderr).not.toMatch(/implicitDescendants|tinyglobby|fdir|picomatch|\[glob\]/i)
    // Every line is a log line, a plan or table line, a request: nothing else leaks.
    expect(run.stderr).not.toContain('\u001b[')
    expect(run.stderr.match(/^out\/big\.csv: 3\.00 MiB of 3\.00 MiB \(100 %\)/gm)).toHaveLength(1)
  })
})
