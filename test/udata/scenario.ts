/**
 * A conformance scenario: a workspace of local files and the bundled action run against a real
 * udata exactly as the runner runs it (scripts/run-action.ts). Assertions read udata's own API
 * afterwards, not the action's word; the helpers here are what several files share.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { runAction, type ActionRun } from '../../scripts/run-action.js'
import { writeUnder } from '../helpers/write-under.js'
import {
  startUdata,
  storedName,
  type RealUdata,
  type UdataDataset,
  type UdataResource,
  type UdataVersion,
} from './kit.js'

export interface Workspace {
  dir: string
  write(relative: string, content: string | Buffer): Promise<string>
  /** The bundled action against `udata`, the seeded key unless `inputs` gives another. */
  run(
    udata: RealUdata,
    inputs: Record<string, string>,
    env?: Record<string, string>,
  ): Promise<ActionRun>
  close(): Promise<void>
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(tmpdir(), 'conformance-'))
  return {
    dir,
    write: (relative, content) => writeUnder(dir, relative, content),
    run(udata, inputs, env) {
      return runAction(
        { 'api-url': udata.url, 'api-key': udata.seed.api_key, ...inputs },
        { cwd: dir, ...(env ? { env } : {}) },
      )
    },
    close: () => rm(dir, { recursive: true, force: true }),
  }
}

/** A workspace removed when the current test finishes. */
export async function scenarioWorkspace(): Promise<Workspace> {
  const ws = await workspace()
  onTestFinished(() => ws.close())
  return ws
}

/**
 * One real udata of `version` for the enclosing `describe` (started before its tests, stopped
 * after them); the getter throws when it is called outside them.
 */
export function useUdata(version: UdataVersion): () => RealUdata {
  let udata: RealUdata | undefined
  beforeAll(async () => {
    udata = await startUdata(version)
  })
  afterAll(async () => {
    await udata?.close()
  })
  return () => {
    if (udata === undefined) throw new Error(`udata ${version.name} is not running`)
    return udata
  }
}

/** The `resources` output, parsed; throws with everything the action printed when absent. */
export function outputResources(run: ActionRun): Array<Record<string, unknown>> {
  const text = run.outputs.resources
  if (text === undefined) throw new Error(`no 'resources' output:\n${run.stdout}\n${run.stderr}`)
  return JSON.parse(text) as Array<Record<string, unknown>>
}

/** The `urls` output, parsed. */
export function outputUrls(run: ActionRun): Record<string, string> {
  return JSON.parse(run.outputs.urls ?? 'null') as Record<string, string>
}

/** What a failed expectation should show: the action's log and the server's last lines. */
export function context(run: ActionRun, udata?: RealUdata): string {
  return [
    `exit ${run.code}`,
    run.stdout.slice(-6000),
    run.stderr.slice(-2000),
    udata ? `--- udata ${udata.version} log:\n${udata.log().slice(-3000)}` : '',
  ].join('\n')
}

export function sha1(content: string | Buffer): string {
  return createHash('sha1').update(content).digest('hex')
}

/** Deterministic bytes of `size` (a CSV-looking text), different for each `seed`. */
export function csvBytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('sha256').update(seed).digest()
  for (let offset = 0; offset < size; offset += block.length) {
    block = createHash('sha256').update(block).digest()
    block.copy(out, offset)
  }
  return out
}

/** The ids listed more than once (a resource udata lists twice, or two entries for one id). */
export function duplicateIds(resources: readonly UdataResource[]): string[] {
  const seen = new Set<string>()
  const twice = new Set<string>()
  for (const r of resources) {
    if (seen.has(r.id)) twice.add(r.id)
    seen.add(r.id)
  }
  return [...twice]
}

/** A hosted resource by its stored file name; throws naming what the dataset holds instead. */
export function byStoredName(dataset: UdataDataset, name: string): UdataResource {
  const found = dataset.resources.filter((r) => r.filetype === 'file' && storedName(r) === name)
  if (found.length !== 1)
    throw new Error(
      `${found.length} resources stored as ${name}; the dataset holds ${dataset.resources
        .map((r) => `${storedName(r)} (${r.title})`)
        .join(', ')}`,
    )
  return found[0] as UdataResource
}

/** The dates udata moves on a write, of the dataset and of each of its resources. */
export function writeDates(dataset: UdataDataset): Record<string, unknown> {
  const dates: Record<string, unknown> = {
    dataset: [dataset.last_modified, dataset.internal?.last_modified_internal, dataset.last_update],
  }
  for (const r of dataset.resources)
    dates[r.id] = [r.last_modified, r.internal?.last_modified_internal, r.url]
  return dates
}

/**
 * The dataset without what udata derives on every write (its dates, its quality score, its
 * metrics) and without `fields`: what must stay as it was when only `fields` changed.
 */
export function stableFields(dataset: UdataDataset, ...fields: string[]): Record<string, unknown> {
  const derived = ['last_modified', 'last_update', 'internal', 'quality', 'metrics']
  return Object.fromEntries(
    Object.entries(dataset).filter(([key]) => !derived.includes(key) && !fields.includes(key)),
  )
}

/** A resource without its modification dates and without `fields`. */
export function stableResource(
  resource: UdataResource,
  ...fields: string[]
): Record<string, unknown> {
  const derived = ['last_modified', 'internal']
  return Object.fromEntries(
    Object.entries(resource).filter(([key]) => !derived.includes(key) && !fields.includes(key)),
  )
}

/** The runner's variables that make up provenance (prune recognises a publication by them). */
export function provenanceEnv(workflow: string, sha = 'a'.repeat(40)): Record<string, string> {
  return {
    GITHUB_REPOSITORY: 'example/conformance',
    GITHUB_WORKFLOW: workflow,
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
  }
}
