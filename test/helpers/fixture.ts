/** A fresh emulator with one user and one dataset, and a temporary workspace of local files. */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmulator, type Emulator } from '../../emulator/server.js'
import type { DatasetSeed, DatasetState } from '../../emulator/types.js'
import { runAction, type ActionRun } from '../../scripts/run-action.js'

export interface Fixture {
  emulator: Emulator
  apiKey: string
  userId: string
  dataset: DatasetState
  workspace: string
  write(relative: string, content: string | Buffer): Promise<string>
  run(inputs: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>
  /** Requests that could change something (anything but GET and HEAD). */
  writes(): Array<{ method: string; path: string }>
  close(): Promise<void>
}

export async function fixture(seed: Omit<DatasetSeed, 'owner'> = {}): Promise<Fixture> {
  const emulator = await startEmulator()
  const user = emulator.addUser()
  const dataset = emulator.addDataset({
    slug: 'test-dataset',
    title: 'Test dataset',
    ...seed,
    owner: user.id,
  })
  const workspace = await mkdtemp(path.join(tmpdir(), 'workspace-'))
  return {
    emulator,
    apiKey: user.apiKey,
    userId: user.id,
    dataset,
    workspace,
    async write(relative, content) {
      const file = path.join(workspace, relative)
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(file, content)
      return file
    },
    run(inputs, env) {
      // Provenance (on by default in the action) adds one extras merge to every write, and parts go
      // three at a time by default: the tests of request sequences, extras and part order predate
      // both and leave them out. test/provenance.test.ts and test/parallel-parts.test.ts cover them.
      const all = {
        'api-url': emulator.url,
        'api-key': user.apiKey,
        dataset: dataset.id,
        provenance: 'false',
        'part-concurrency': '1',
        ...inputs,
      }
      return runAction(all, { cwd: workspace, ...(env ? { env } : {}) })
    },
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
