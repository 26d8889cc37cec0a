/**
 * A conformance scenario: a workspace of local files and the bundled action run against a real
 * udata exactly as the runner runs it (scripts/run-action.ts). Assertions read udata's own API
 * afterwards, not the action's word.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runAction, type ActionRun } from '../../scripts/run-action.js'
import type { RealUdata } from './kit.js'

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
    async write(relative, content) {
      const file = path.join(dir, relative)
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(file, content)
      return file
    },
    run(udata, inputs, env) {
      return runAction(
        { 'api-url': udata.url, 'api-key': udata.seed.api_key, ...inputs },
        { cwd: dir, ...(env ? { env } : {}) },
      )
    },
    close: () => rm(dir, { recursive: true, force: true }),
  }
}

/** The `resources` output, parsed; throws with everything the action printed when absent. */
export function outputResources(run: ActionRun): Array<Record<string, unknown>> {
  const text = run.outputs.resources
  if (text === undefined) throw new Error(`no 'resources' output:\n${run.stdout}\n${run.stderr}`)
  return JSON.parse(text) as Array<Record<string, unknown>>
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
