/**
 * The data diff of a run: for every file the plan uploads into an existing resource, what it
 * changes in the data (src/diff/), computed after the preflight and before any write, so that it
 * compares with what is published now: in a dry run, what the upload would change; in a real run,
 * what it changed. One file at a time, so memory holds one diff.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { diffFile, type FileDiff } from '../diff/file.js'
import type { Reporter } from './engine.js'
import type { Settings } from './inputs.js'
import type { FileStep, Plan } from './plan.js'
import { diffLine } from './report/diff.js'

export type { FileDiff } from '../diff/file.js'

/** The steps a diff is made for: an upload into a resource that holds a file. */
function diffed(plan: Plan): FileStep[] {
  return plan.steps.filter(
    (s): s is FileStep =>
      s.kind === 'file' &&
      s.action === 'upload' &&
      s.resource !== undefined &&
      s.resource.filetype !== 'remote',
  )
}

/** The diffs, in the order of the plan; `undefined` when not `wanted` (the CLI without --diff). */
export async function diffPlan(
  client: DatagouvClient,
  plan: Plan,
  settings: Pick<Settings, 'diffMaxSize' | 'dryRun' | 'timeoutSeconds'>,
  reporter: Reporter,
  wanted: boolean,
): Promise<FileDiff[] | undefined> {
  if (!wanted) return undefined
  const steps = diffed(plan)
  if (steps.length === 0) return []
  const title = settings.dryRun
    ? 'Data diff: what the uploads would change'
    : 'Data diff: what the uploads change'
  return reporter.group(title, async () => {
    const diffs: FileDiff[] = []
    for (const step of steps) {
      const resource = step.resource as NonNullable<FileStep['resource']>
      const diff = await diffFile(
        {
          source: step.entry.source,
          path: step.entry.path,
          size: step.entry.size,
          ...(step.entry.key !== undefined ? { key: step.entry.key } : {}),
          ...(step.checksum !== undefined ? { checksum: step.checksum } : {}),
          resource,
        },
        {
          maxBytes: settings.diffMaxSize,
          dispatcher: client.dispatcher,
          userAgent: client.userAgent,
          timeoutMs: settings.timeoutSeconds * 1000,
          retrier: client.http.retrier,
        },
      )
      reporter.info(diffLine(diff))
      diffs.push(diff)
    }
    return diffs
  })
}
