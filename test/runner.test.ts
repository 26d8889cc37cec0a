/**
 * The runner seam (src/action/runner.ts): the recording runner the tests give `run()`
 * (test/helpers/runner.ts) prints exactly what `actionsRunner()`, on workflow.ts, prints for
 * the same calls: commands and their escaping, info lines, outputs in the GITHUB_OUTPUT file, the
 * summary, the failure's exit code. So an assertion on an in-process run means what it would on
 * the bundle's.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, expect, it, vi } from 'vitest'
import { parseOutputFile } from '../scripts/run-action.js'
import { actionsRunner, type Runner } from '../src/action/runner.js'
import { recordingRunner } from './helpers/runner.js'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

const INPUTS = {
  INPUT_FILES: '  out/*.csv\n!out/draft.csv \n',
  'INPUT_CREATE-MISSING': 'true',
  INPUT_DRY_RUN: ' false',
}

/** Every kind of call `run()` makes, with text that needs escaping. */
async function script(runner: Runner): Promise<string[]> {
  runner.setSecret('s3cr%t:key,with\nnewline')
  runner.info('Plan:\n  upload  a.csv  100% changed')
  runner.debug('GET /api/1/datasets/x/ -> 200 (5 ms)\r\nnext')
  const inGroup = await runner.group('Preflight: dataset, files', async () => {
    runner.warning("input 'files': no file matches 'none/*.csv'; 50% of: a, b")
    return 'inside'
  })
  runner.setOutput('resources', '[{"id": "r1"}]\n[second line]')
  runner.setOutput('changed', 'true')
  await runner.appendSummary('### Published\n\n| a | b |\n')
  await runner.appendSummary('more\n')
  runner.error('files a.csv: answered 400: bad\nrequest')
  runner.setFailed('1 of 2 entries failed to publish')
  return [
    inGroup,
    runner.getInput('files'),
    runner.getInput('create-missing'),
    runner.getInput('dry run'),
    runner.getInput('absent'),
  ]
}

it('prints what @actions/core prints, and sets what it sets', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'runner-'))
  try {
    const outputFile = path.join(work, 'output')
    const summaryFile = path.join(work, 'summary')
    await writeFile(outputFile, '')
    await writeFile(summaryFile, '')
    for (const [name, value] of Object.entries(INPUTS)) vi.stubEnv(name, value)
    vi.stubEnv('GITHUB_OUTPUT', outputFile)
    vi.stubEnv('GITHUB_STEP_SUMMARY', summaryFile)
    let printed = ''
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed += String(chunk)
      return true
    })
    const exitCode = process.exitCode
    let real: string[]
    let realCode: typeof process.exitCode
    try {
      real = await script(actionsRunner())
      realCode = process.exitCode
    } finally {
      process.exitCode = exitCode
      vi.restoreAllMocks()
    }

    const recording = recordingRunner({ env: { ...INPUTS }, cwd: work })
    const recorded = await script(recording.runner)
    const run = recording.result()

    expect(recorded).toEqual(real)
    expect(recorded).toEqual(['inside', 'out/*.csv\n!out/draft.csv', 'true', 'false', ''])
    expect(run.stdout).toBe(printed)
    expect(run.stdout).toContain('::add-mask::s3cr%25t:key,with%0Anewline\n')
    expect(run.outputs).toEqual(parseOutputFile(await readFile(outputFile, 'utf8')))
    expect(run.outputs).toEqual({
      resources: '[{"id": "r1"}]\n[second line]',
      changed: 'true',
    })
    expect(run.summary).toBe(await readFile(summaryFile, 'utf8'))
    expect(run.code).toBe(realCode)
    expect(run.code).toBe(1)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
})

it('gives the runner of a real step its process: environment and working directory', () => {
  vi.stubEnv('GITHUB_REPOSITORY', 'example/from-process')
  const runner = actionsRunner()
  expect(runner.env.GITHUB_REPOSITORY).toBe('example/from-process')
  expect(runner.cwd).toBe(process.cwd())
  expect(runner.http).toBeUndefined()
})
