/**
 * The data diff of a run: for every file the plan uploads into an existing resource, what it
 * changes in the data (src/diff/), computed after the preflight and before any write, so that it
 * compares with what is published now: in a dry run, what the upload would change; in a real run,
 * what it changed. A diff of a big file holds hashes of its rows: those go one at a time, so memory
 * holds one; small files (both sides at most `SMALL_FILE` bytes) go `concurrency` at a time, so
 * that many small files do not wait on one download after another.
 */
import type { DatagouvClient } from '../datagouv/client.js'
import { diffFile, type FileDiff } from '../diff/file.js'
import type { Reporter } from './engine.js'
import type { Settings } from './inputs.js'
import type { FileStep, Plan } from './plan.js'
import { diffLine } from './report/diff.js'
import { mapConcurrent } from '../util/concurrency.js'

/** A file this small on both sides is diffed beside others (its row hashes weigh little). */
const SMALL_FILE = 4 * 1024 * 1024

function small(step: FileStep): boolean {
  const published = step.resource?.filesize
  return step.entry.size <= SMALL_FILE && typeof published === 'number' && published <= SMALL_FILE
}

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
  settings: Pick<Settings, 'diffMaxSize' | 'dryRun' | 'timeoutSeconds' | 'concurrency'>,
  reporter: Reporter,
  wanted: boolean,
): Promise<FileDiff[] | undefined> {
  if (!wanted) return undefined
  const steps = diffed(plan)
  if (steps.length === 0) return []
  const title = settings.dryRun
    ? 'Data diff: what the uploads would change'
    : 'Data diff: what the uploads change'
  const one = (step: FileStep): Promise<FileDiff> => {
    const resource = step.resource as NonNullable<FileStep['resource']>
    return diffFile(
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
        http: client.requester,
        userAgent: client.userAgent,
        timeoutMs: settings.timeoutSeconds * 1000,
        retrier: client.http.retrier,
      },
    )
  }
  return reporter.group(title, async () => {
    const found = new Map<FileStep, FileDiff>()
    const few = steps.filter(small)
    const smallDiffs = await mapConcurrent(few, Math.max(1, settings.concurrency), one)
    few.forEach((step, i) => found.set(step, smallDiffs[i] as FileDiff))
    for (const step of steps) if (!found.has(step)) found.set(step, await one(step))
    // In the order of the plan, whichever finished first.
    const diffs = steps.map((step) => found.get(step) as FileDiff)
    for (const diff of diffs) reporter.info(diffLine(diff))
    return diffs
  })
}
