/**
 * `npm run local-action` (scripts/local-action.ts) runs the action from its sources with the inputs
 * of a dotenv file, here .env.example pointed at an emulator started with its default seed on a
 * free port instead of 8080: it prints the outputs as a table, writes the job summary to the file
 * it names, exits with the action's exit code, and never writes into the GITHUB_OUTPUT or
 * GITHUB_STEP_SUMMARY of the shell that runs it (on CI, the job's own files).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { DEFAULT_SEED, applySeed } from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { root } from '../scripts/release-refs.js'

let emulator: Emulator
let seeded: ReturnType<typeof applySeed>
let dir = ''
beforeEach(async () => {
  emulator = await startEmulator()
  seeded = applySeed(emulator, DEFAULT_SEED)
  dir = await mkdtemp(path.join(tmpdir(), 'local-action-'))
})
afterEach(async () => {
  await emulator.close()
  await rm(dir, { recursive: true, force: true })
})

/** .env.example with the emulator's URL and `lines` appended (a later line wins), as a file. */
async function envFile(...lines: string[]): Promise<string> {
  const example = await readFile(path.join(root, '.env.example'), 'utf8')
  expect(example).toContain('INPUT_API-URL=http://127.0.0.1:8080')
  const file = path.join(dir, 'local.env')
  const text = example.replace(
    'INPUT_API-URL=http://127.0.0.1:8080',
    `INPUT_API-URL=${emulator.url}`,
  )
  await writeFile(file, [text, ...lines, ''].join('\n'))
  return file
}

/**
 * The script as `npm run local-action -- <file>` runs it, from a shell whose GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY name files of its own, as in a CI step: they must come out untouched.
 */
async function localAction(file: string): Promise<{ code: number | null; output: string }> {
  const parent = {
    GITHUB_OUTPUT: path.join(dir, 'ci-output'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'ci-summary'),
  }
  for (const ciFile of Object.values(parent)) await writeFile(ciFile, 'the CI job own\n')
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-action.ts', file], {
    cwd: root,
    env: { ...process.env, ...parent, INPUT_CONCURRENCY: 'many' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  for (const ciFile of Object.values(parent))
    expect(await readFile(ciFile, 'utf8'), output).toBe('the CI job own\n')
  return { code, output }
}

it('runs the action from its sources with the inputs of .env.example, outputs as a table', async () => {
  const { code, output } = await localAction(await envFile())

  expect(output).not.toContain('ERR_MODULE_NOT_FOUND')
  expect(code, output).toBe(0)
  // The shell's INPUT_CONCURRENCY is not an input (it would fail the run); the outputs are in the
  // file, not printed as ::set-output commands.
  expect(output).not.toContain('::set-output')
  expect(output).toContain('Outputs (.tmp/local-action-outputs.txt):')
  expect(output).toMatch(new RegExp(`^  dataset-id +${seeded.datasets[0]?.id ?? '?'}$`, 'm'))
  expect(output).toMatch(/^ {2}changed +false$/m)
  expect(output).toMatch(
    /^ {2}resources +\[.*"source":"demo\/data\/ventes-2024\.csv","action":"planned"/m,
  )
  expect(output).toContain('Job summary: .tmp/local-action-summary.md')
  expect(output).toMatch(/Exit code: 0\n$/)
  expect(await readFile(path.join(root, '.tmp/local-action-summary.md'), 'utf8')).toContain(
    'ventes-2024.csv',
  )
})

it('exits 1 when the action fails, with the runner files the dotenv file names', async () => {
  const outputs = path.join(dir, 'outputs.txt')
  const summary = path.join(dir, 'summary.md')
  const { code, output } = await localAction(
    await envFile(
      'INPUT_DATASET=no-such-dataset',
      `GITHUB_OUTPUT=${outputs}`,
      `GITHUB_STEP_SUMMARY=${summary}`,
    ),
  )

  expect(code, output).toBe(1)
  expect(output).toMatch(/^::error::.*no-such-dataset/m)
  expect(output).toContain(`Outputs (${path.relative(root, outputs)}):`)
  expect(output).toContain(`Job summary: ${path.relative(root, summary)}`)
  expect(output).toMatch(/Exit code: 1\n$/)
  expect(await readFile(outputs, 'utf8')).toMatch(/^changed<<ghadelimiter_/m)
  expect(await readFile(summary, 'utf8')).toContain('no-such-dataset')
})
