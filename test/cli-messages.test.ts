/**
 * The CLI speaks its own language: messages name its flags and DATAGOUV_API_KEY, never the
 * action's inputs; a usage line without arguments; "did you mean" for a mistyped metadata key,
 * value (the instance's lists) and dataset slug (those the key's owner can see); a server that
 * does not resolve stops the preflight at once, naming --api-url. In process
 * (src/cli/main.ts) against the emulator.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, type Fixture } from './helpers/fixture.js'
import { runCli as cli, type CliRun } from './helpers/run-cli.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

/** No message of the CLI names an input the action's way. */
function speaksCli(run: CliRun): void {
  const all = run.stdout + run.stderr
  expect(all).not.toMatch(/input '/)
  expect(all).not.toMatch(/\bset [a-z-]+: /)
  expect(all).not.toMatch(/\bset [a-z-]+ to '/)
}

describe('the CLI names its flags', () => {
  it('prints the usage line when it gets no arguments (exit 2)', async () => {
    f = await fixture()
    const run = await cli([], { cwd: f.workspace })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      'Usage: datagouv-publish --dataset <id-or-slug> [--files <glob>]... [--resources <yaml>] ' +
        "[options]\nRun 'datagouv-publish --help' for the options.\n",
    )
  })

  it('in the problems of the inputs', async () => {
    f = await fixture()
    const run = await cli(['--files', 'a.csv', '--order', 'random', '--timeout', 'soon'], {
      cwd: f.workspace,
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error: --dataset is required: a dataset id or slug')
    expect(run.stderr).toContain("error: --order must be one of 'keep', 'as-listed', got 'random'")
    expect(run.stderr).toContain('error: --timeout must be a duration such as 90s, 15m or 1h30m')
    expect(run.stderr).toContain('set the DATAGOUV_API_KEY environment variable')
    speaksCli(run)
    const nothing = await cli(['--dataset', 'x', '--dry-run'], { cwd: f.workspace })
    expect(nothing.stderr).toContain(
      'nothing to publish: give --files (files or globs), --resources (entries with a path or a ' +
        'url), --dataset-metadata or --remove',
    )
  })

  it('in the problems of the preflight: the flag to use, the key by its variable', async () => {
    f = await fixture()
    await f.write('new.csv', 'a\n1\n')
    const base = ['--api-url', f.emulator.url, '--dataset', f.dataset.slug]
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const run = await cli([...base, '--files', 'new.csv', '--files', 'gone.csv'], {
      cwd: f.workspace,
      env,
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      "--files: no file matches 'gone.csv' (use --if-no-files-found warn or ignore to allow this)",
    )
    expect(run.stderr).toContain('use --create-missing to create one')
    speaksCli(run)

    const refused = await cli([...base, '--files', 'new.csv'], {
      cwd: f.workspace,
      env: { DATAGOUV_API_KEY: 'not-a-key' },
    })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/DATAGOUV_API_KEY: http:\/\/127\.0\.0\.1:\d+ refused the key/)
    expect(refused.stderr).not.toContain('not-a-key')
    speaksCli(refused)
  })

  it('suggests the nearest metadata key, and the nearest frequency and license of the instance', async () => {
    f = await fixture()
    const base = ['--api-url', f.emulator.url, '--dataset', f.dataset.slug, '--dry-run']
    const key = await cli([...base, '--dataset-metadata', 'licence: lov2'], { cwd: f.workspace })
    expect(key.code).toBe(2)
    expect(key.stderr).toMatch(
      /--dataset-metadata: unknown key 'licence' \(accepted: [^)]*\); did you mean 'license'\?/,
    )
    const values = await cli(
      [...base, '--dataset-metadata', 'frequency: montly\nlicense: odc-odbI'],
      {
        cwd: f.workspace,
      },
    )
    expect(values.code).toBe(2)
    expect(values.stderr).toContain(
      "--dataset-metadata.frequency: 'montly' is not a frequency of the instance; did you mean 'monthly'? (accepted: ",
    )
    expect(values.stderr).toContain("did you mean 'odc-odbl'?")
    speaksCli(values)
  })

  it("suggests the slugs nearest a dataset that is not found, among those the key's owner can see", async () => {
    f = await fixture()
    const org = f.emulator.addOrganization({
      name: 'Ministère',
      members: [{ user: f.userId, role: 'editor' }],
    })
    f.emulator.addDataset({ slug: 'prix-des-carburants', organization: org.id, private: true })
    f.emulator.addDataset({ slug: 'prix-des-carburants-2025', organization: org.id })
    const other = f.emulator.addUser()
    f.emulator.addDataset({ slug: 'prix-des-carburant', owner: other.id, private: true })
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const base = ['--api-url', f.emulator.url, '--files', 'a.csv', '--dry-run']

    f.emulator.resetRequests()
    const typo = await cli([...base, '--dataset', 'prix-des-carburnts'], { cwd: f.workspace, env })
    expect(typo.code).toBe(2)
    expect(f.emulator.requests.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/1/me/', '/api/1/me/datasets/']),
    )
    expect(typo.stderr).toContain(
      "--dataset: no dataset 'prix-des-carburnts' on " +
        `${f.emulator.url} (or it is private and the key's owner cannot see it); did you mean ` +
        "'prix-des-carburants' or 'prix-des-carburants-2025'? (--create-dataset creates a new one)",
    )
    // Someone else's private dataset is not suggested; nothing near: the way to create it.
    const far = await cli([...base, '--dataset', 'zzz-unrelated'], { cwd: f.workspace, env })
    expect(far.stderr).toContain('cannot see it); use --create-dataset to create it')
    expect(far.stderr).not.toContain('did you mean')
    // Without a key there is no one to ask about: no suggestion, and nothing else is read.
    f.emulator.resetRequests()
    const anonymous = await cli([...base, '--dataset', 'prix-des-carburnts'], { cwd: f.workspace })
    expect(anonymous.stderr).toContain('use --create-dataset to create it')
    expect(f.emulator.requests.map((r) => r.path)).not.toContain('/api/1/me/')
    // A listing that fails only means no suggestion.
    f.emulator.faults.push({ method: 'GET', path: '/me/datasets/', status: 500 })
    const failing = await cli([...base, '--dataset', 'prix-des-carburnts'], {
      cwd: f.workspace,
      env,
    })
    expect(failing.code).toBe(2)
    expect(failing.stderr).toContain('use --create-dataset to create it')
  })

  it('a server that does not answer: the preflight stops at once (exit 2), naming --api-url', async () => {
    f = await fixture()
    await f.write('a.csv', 'a\n1\n')
    const run = await cli(
      ['--api-url', 'https://publish-test.invalid', '--dataset', 'x', '--files', 'a.csv'],
      { cwd: f.workspace, env: { DATAGOUV_API_KEY: f.apiKey } },
    )
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toMatch(
      /the host publish-test\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\): check the address and the runner's DNS \(--api-url https:\/\/publish-test\.invalid\)/,
    )
    expect(run.stderr).toContain('nothing was written')
    expect(run.stderr).not.toContain('; retry ')
    speaksCli(run)
  })
})

describe('durations and sizes, written one way', () => {
  it('takes --timeout 5m, --chunk-size 20MB and --wait-for-analysis 10m alike', async () => {
    f = await fixture()
    await f.write('a.csv', 'a\n1\n')
    const run = await cli(
      [
        '--api-url',
        f.emulator.url,
        '--dataset',
        f.dataset.slug,
        '--files',
        'a.csv',
        '--create-missing',
        '--timeout',
        '5m',
        '--chunk-size',
        '20MB',
        '--json',
      ],
      { cwd: f.workspace, env: { DATAGOUV_API_KEY: f.apiKey } },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ 'uploaded-count': 1 })
    const bad = await cli(
      ['--dataset', 'x', '--files', 'a.csv', '--dry-run', '--chunk-size', '20 MO'],
      { cwd: f.workspace },
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      "--chunk-size must be a size such as 20MB, 8MiB or 5000000 (a bare number is bytes; kB, MB, GB count by 1000, KiB, MiB, GiB by 1024), from 1024 to 2147483648 bytes, got '20 MO'",
    )
  })
})
