/**
 * The bundled action (dist/index.js) as a child process, exactly as the GitHub runner runs it
 * (scripts/run-action.ts): what only the process can show. Inputs arrive as `INPUT_<NAME>`
 * variables, outputs leave through the `GITHUB_OUTPUT` file and the summary through
 * `GITHUB_STEP_SUMMARY`, a failed step exits 1, the key is masked before anything is printed, the
 * proxy variables are read from the process's environment. Every behaviour behind these runs in
 * process in test/*.test.ts; scripts/test-node24.sh runs this folder again with Node 24.
 */
import { afterEach, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from '../helpers/fixture.js'
import { connectProxy, type Proxy } from '../helpers/proxy.js'

let f: Fixture
let proxy: Proxy | undefined
afterEach(async () => {
  await f?.close()
  await proxy?.close()
  proxy = undefined
})

const CSV_V1 = 'year,sales\n2023,10\n'
const CSV_V2 = 'year,sales\n2023,10\n2024,12\n'

it('reads INPUT_* variables, writes the outputs to GITHUB_OUTPUT and the summary to GITHUB_STEP_SUMMARY, exits 0', async () => {
  f = await fixture()
  const before = f.emulator.addFileResource(f.dataset.id, {
    filename: 'sales.csv',
    content: CSV_V1,
    title: 'Sales by year',
  })
  await f.write('out/sales.csv', CSV_V2)
  await f.write('out/new file.csv', 'n')

  // Hyphenated input names (INPUT_CREATE-MISSING), a multi-line value, a value with spaces around.
  const run = await f.runBundle({
    files: 'out/sales.csv\nout/new file.csv',
    'create-missing': ' true ',
  })

  expect(run.code, run.stdout + run.stderr).toBe(0)
  expect(run.stderr).toBe('')
  const results = resourcesOutput(run)
  expect(results.map((r) => [r.source, r.action])).toEqual([
    ['out/sales.csv', 'uploaded'],
    ['out/new file.csv', 'created'],
  ])
  expect(results[0]).toMatchObject({
    id: before.id,
    title: 'Sales by year',
    checksum: { type: 'sha1', value: sha1(CSV_V2) },
  })
  expect(run.outputs).toMatchObject({
    changed: 'true',
    'uploaded-count': '2',
    'skipped-count': '0',
    'dataset-id': f.dataset.id,
  })
  expect(JSON.parse(run.outputs.urls ?? '{}')).toEqual({
    'out/new file.csv': expect.stringContaining('new-file.csv'),
    'out/sales.csv': f.emulator.getResource(f.dataset.id, before.id)?.url,
  })
  expect(run.summary).toContain('| `out/sales.csv` | [Sales by year]')
  // The log: groups per phase, the table; outputs are not echoed as set-output commands.
  expect(run.stdout).toMatch(/^::group::Preflight/m)
  expect(run.stdout).toMatch(/^::endgroup::$/m)
  expect(run.stdout).toMatch(/out\/sales\.csv +[\w-]+ +uploaded/)
  expect(run.stdout).not.toContain('::set-output')
})

it('fails the step with exit code 1 and an ::error:: line; a stopped preflight still writes its outputs and summary', async () => {
  f = await fixture()
  await f.write('a.csv', 'a')
  const run = await f.runBundle({ files: 'a.csv\nmissing/*.csv' })
  expect(run.code).toBe(1)
  expect(f.writes()).toEqual([])
  expect(run.stdout).toMatch(
    /^::error::2 problems found before publishing; nothing was written:%0A- .*'missing\/\*\.csv'/m,
  )
  expect(run.outputs).toMatchObject({ changed: 'false', 'dataset-id': f.dataset.id })
  expect(run.summary).toMatch(/^### Nothing published to \[Test dataset\]\(.+\): 2 problems found/)
})

it('masks the key before printing anything, and prints it nowhere else, on success and on failure', async () => {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'x', title: 'A' })
  await f.write('a.csv', 'y')
  const ok = await f.runBundle({ files: 'a.csv' })
  expect(ok.code, ok.stdout).toBe(0)
  expect(ok.stdout.split('\n')[0]).toBe(`::add-mask::${f.apiKey}`)
  expect(ok.everything.replace(`::add-mask::${f.apiKey}`, '')).not.toContain(f.apiKey)

  const wrong = `${f.apiKey}-wrong`
  const refused = await f.runBundle({ files: 'a.csv', 'api-key': wrong })
  expect(refused.code).toBe(1)
  expect(refused.stdout.split('\n')[0]).toBe(`::add-mask::${wrong}`)
  expect(refused.stdout).toContain(
    "::error::1 problem found before publishing; nothing was written:%0A- input 'api-key'",
  )
  expect(refused.everything.replace(`::add-mask::${wrong}`, '')).not.toContain(wrong)
})

it("sends its requests through the proxy named by its process's HTTPS_PROXY / HTTP_PROXY", async () => {
  proxy = await connectProxy()
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'old' })
  await f.write('a.csv', 'via proxy')
  const run = await f.runBundle(
    { files: 'a.csv' },
    { HTTPS_PROXY: proxy.url, http_proxy: proxy.url },
  )
  expect(run.code, run.stdout).toBe(0)
  expect(resourcesOutput(run)[0]?.action).toBe('uploaded')
  expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(f.emulator.url).host]))
})
