/**
 * `npm run local-action` (scripts/local-action.ts, @github/local-action) runs the action from its
 * sources with the inputs of .env.example against the emulator it names, started here with its
 * default seed on a free port instead of 8080. local-action exits 0 even when the action fails, so
 * the outputs it prints are the check: the dry run's plan for the seeded dataset.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { DEFAULT_SEED, applySeed } from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { root } from '../scripts/release-refs.js'

let emulator: Emulator | undefined
let dir = ''
afterEach(async () => {
  await emulator?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

it('runs the action from its sources with the inputs of .env.example', async () => {
  emulator = await startEmulator()
  const seeded = applySeed(emulator, DEFAULT_SEED)
  dir = await mkdtemp(path.join(tmpdir(), 'local-action-'))
  const example = await readFile(path.join(root, '.env.example'), 'utf8')
  expect(example).toContain('INPUT_API-URL=http://127.0.0.1:8080')
  const envFile = path.join(dir, 'local.env')
  await writeFile(
    envFile,
    example.replace('INPUT_API-URL=http://127.0.0.1:8080', `INPUT_API-URL=${emulator.url}`),
  )
  const env = { ...process.env, GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md') }
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-action.ts', envFile], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))

  expect(output).not.toContain('ERR_MODULE_NOT_FOUND')
  expect(code, output).toBe(0)
  expect(output).toContain(`::set-output name=dataset-id::${seeded.datasets[0]?.id ?? '?'}`)
  expect(output).toContain('::set-output name=changed::false')
  expect(output).toMatch(/"source":"demo\/data\/ventes-2024\.csv","action":"planned"/)
  expect(await readFile(env.GITHUB_STEP_SUMMARY, 'utf8')).not.toBe('')
})
