/**
 * A fresh emulator with one user and one dataset, and a temporary workspace of local files; the
 * action run against it in this process (`run`), or as the bundle the runner runs (`runBundle`,
 * test/bundle/ only).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/server.js'
import type { DatasetSeed, DatasetState } from '../../emulator/types.js'
import { runAction, type ActionRun } from '../../scripts/run-action.js'
import { runInProcess } from './runner.js'
import { writeUnder } from './write-under.js'

export type { ActionRun }

export interface Fixture {
  emulator: Emulator
  apiKey: string
  userId: string
  dataset: DatasetState
  workspace: string
  write(relative: string, content: string | Buffer): Promise<string>
  /** `run()` of src/action/main.ts in this process, on a recording runner (helpers/runner.ts). */
  run(inputs: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>
  /** dist/index.js as a child process, as the runner runs it (scripts/run-action.ts). */
  runBundle(inputs: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>
  /** Resolves once every request the emulator received was answered or dropped (delayed ones too). */
  settled(): Promise<void>
  /** Requests that could change something (anything but GET and HEAD). */
  writes(): Array<{ method: string; path: string }>
  close(): Promise<void>
}

/**
 * udata refuses a second upload of one file name into one dataset within the same second
 * (flask-storage's `FileExists`, a 500 the client retries until the second turns). Runs in process
 * follow each other within a second, so whether a run met it would depend on the clock: the
 * fixture's emulator stores such an upload in a suffixed folder instead (`sameSecondConflict`),
 * unless a test asks for it; test/trust.test.ts injects the conflict where it is the subject.
 */
export async function fixture(
  seed: Omit<DatasetSeed, 'owner'> = {},
  options: EmulatorOptions = {},
): Promise<Fixture> {
  const emulator = await startEmulator({ sameSecondConflict: false, ...options })
  const user = emulator.addUser()
  const dataset = emulator.addDataset({
    slug: 'test-dataset',
    title: 'Test dataset',
    ...seed,
    owner: user.id,
  })
  const workspace = await mkdtemp(path.join(tmpdir(), 'workspace-'))
  // Provenance (on by default in the action) adds one extras merge to every write, and parts go
  // three at a time by default: the tests of request sequences, extras and part order predate
  // both and leave them out. test/provenance.test.ts and test/parallel-parts.test.ts cover them.
  const withDefaults = (inputs: Record<string, string>): Record<string, string> => ({
    'api-url': emulator.url,
    'api-key': user.apiKey,
    dataset: dataset.id,
    provenance: 'false',
    'part-concurrency': '1',
    ...inputs,
  })
  return {
    emulator,
    apiKey: user.apiKey,
    userId: user.id,
    dataset,
    workspace,
    write: (relative, content) => writeUnder(workspace, relative, content),
    run(inputs, env) {
      return runInProcess(withDefaults(inputs), { cwd: workspace, ...(env ? { env } : {}) })
    },
    runBundle(inputs, env) {
      return runAction(withDefaults(inputs), { cwd: workspace, ...(env ? { env } : {}) })
    },
    settled: () => until(() => emulator.requests.every((q) => q.finishedAt !== undefined)),
    writes() {
      return emulator.requests
        .filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
        .map((r) => ({ method: r.method, path: r.path }))
    },
    async close() {
      await emulator.close()
      await rm(workspace, { recursive: true, force: true })
    },
  }
}

/**
 * Resolves once `condition()` holds, checked every 10 ms: no limit of its own, the test's timeout
 * is the only one (a slow machine waits longer, it does not fail).
 */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}

export const sha1 = (content: string | Buffer): string =>
  createHash('sha1').update(content).digest('hex')

export interface ResourceOutput {
  id: string | null
  title: string | null
  kind: 'file' | 'url' | 'remove'
  source: string
  action: string
  planned: string
  reason: string
  url: string | null
  latest: string | null
  checksum: { type: string; value: string } | null
  filesize: number | null
  remote?: {
    status: number
    size: number | null
    etag: string | null
    last_modified: string | null
  }
  patched?: string[]
  notes?: string[]
  error?: string
}

export function resourcesOutput(run: ActionRun): ResourceOutput[] {
  const text = run.outputs.resources
  if (text === undefined)
    throw new Error(`no 'resources' output; the action printed:\n${run.stdout}\n${run.stderr}`)
  return JSON.parse(text) as ResourceOutput[]
}
