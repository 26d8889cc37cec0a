/**
 * After the writes, the dataset read once and every reported outcome checked against it, so the
 * report stays the truth even when a server's answer was not: udata before 10.4.3 answers 2xx to
 * writes that another concurrent write then undoes (docs/udata-protocol.md §15). A result the
 * dataset contradicts becomes an error naming its entry, and carries the resource as the dataset
 * holds it; a resource the run did not touch that vanished or is listed twice is a problem of its
 * own. `readBack` reads the dataset; the checks are pure.
 */
import type { DatagouvClient, Logger } from '../datagouv/client.js'
import { ECHOED_FIELDS } from '../datagouv/dataset-form.js'
import { toErrorMessage } from '../datagouv/errors.js'
import type { Dataset, Resource } from '../datagouv/schemas.js'
import type { Scope } from '../datagouv/scope.js'
import { whereOf, type DatasetStep, type Plan, type WithProblems } from './plan.js'
import { extrasPatch, sameValue, sizeDiffers, unmet } from './plan/fields.js'
import type { DatasetResult, Result } from './publish.js'
import { inputName } from './inputs.js'

/** The results as the dataset holds them; `problems`: what it shows that no entry accounts for. */
interface Checked extends WithProblems {
  results: Result[]
}

/** What the run wrote, as the server answered each write (or, once read back, as the dataset holds it). */
export interface Written {
  results: Result[]
  datasetResult: DatasetResult | undefined
}

/**
 * The dataset read once after every write, and each result checked against it: what the report
 * then says is what the dataset holds. A run that wrote nothing reads nothing. When the dataset
 * cannot be read, the report keeps the server's answers, and says so.
 */
export async function readBack(
  client: DatagouvClient,
  scope: Scope,
  plan: Plan,
  written: Written,
  logger: Logger,
): Promise<Written & WithProblems & { after?: Dataset }> {
  const wrote =
    written.results.some((r) => r.action !== 'skipped') ||
    (written.datasetResult !== undefined && written.datasetResult.action !== 'skipped')
  if (!wrote) return { ...written, problems: [] }
  try {
    const after = scope.kind === 'owner' ? await client.getDataset(plan.dataset.id) : undefined
    const held = after?.resources ?? (await scope.list())
    const before = new Set(plan.dataset.resources.map((r) => r.id))
    const checked = checkResults(written.results, held, before)
    const { datasetResult } = written
    const step = plan.datasetStep
    return {
      ...(after ? { after } : {}),
      results: checked.results,
      datasetResult:
        datasetResult && step && after && plan.creation === undefined
          ? checkDataset(datasetResult, step, plan.dataset, after)
          : datasetResult,
      problems: checked.problems,
    }
  } catch (error) {
    logger.warning(
      `reading the dataset back after the writes failed (${toErrorMessage(error)}): the report ` +
        `shows udata's answers, not checked against what the dataset holds`,
    )
    return { ...written, problems: [] }
  }
}

/**
 * `held`: the resources as read after every write; `before`: the ids the dataset listed before
 * the run.
 */
function checkResults(
  results: readonly Result[],
  held: readonly Resource[],
  before: ReadonlySet<string>,
): Checked {
  const byId = new Map<string, Resource[]>()
  for (const r of held) byId.set(r.id, [...(byId.get(r.id) ?? []), r])
  const accounted = new Set<string>()
  const checked = results.map((result) => {
    if (result.resource !== undefined) accounted.add(result.resource.id)
    return checkOne(result, byId)
  })
  const problems: string[] = []
  for (const id of before) {
    if (accounted.has(id)) continue
    const listed = byId.get(id)?.length ?? 0
    if (listed === 0)
      problems.push(
        `resource ${id}, which this run did not write, is no longer listed in the dataset ` +
          `(a concurrent write on the server may have overwritten it)`,
      )
    else if (listed > 1) problems.push(`resource ${id} is listed ${listed} times in the dataset`)
  }
  return { results: checked, problems }
}

function checkOne(result: Result, byId: ReadonlyMap<string, Resource[]>): Result {
  const id = result.resource?.id
  if (id === undefined || result.action === 'failed' || result.action === 'planned') return result
  const listed = byId.get(id) ?? []
  const holding = listed[0]
  if (result.action === 'removed') {
    if (holding === undefined) return result
    return contradicted(
      { ...result, action: 'failed', resource: holding },
      'udata answered the removal, but the dataset still lists it',
    )
  }
  if (holding === undefined)
    return contradicted(
      { ...result, action: result.action === 'skipped' ? 'skipped' : 'failed' },
      'the dataset no longer lists it',
    )
  const now = { ...result, resource: holding }
  const differences = [
    ...(listed.length > 1 ? [`it is listed ${listed.length} times`] : []),
    ...(result.action === 'skipped' || result.error !== undefined ? [] : written(result, holding)),
  ]
  return differences.length === 0 ? now : contradicted(now, differences.join('; '))
}

/** What the dataset holds of a written resource that differs from what the step wrote. */
function written(result: Result, holding: Resource): string[] {
  const { step } = result
  if (step.kind === 'remove') return []
  const differences: string[] = []
  if (step.kind === 'file' && step.action !== 'update' && result.checksum !== undefined) {
    const same =
      holding.checksum?.value.toLowerCase() === result.checksum.value.toLowerCase() &&
      !sizeDiffers(holding, step.entry.size)
    if (!same)
      differences.push(
        `it holds another file (${holding.checksum?.type ?? 'checksum'} ` +
          `${holding.checksum?.value ?? 'none'}, ${holding.filesize ?? '?'} bytes)`,
      )
  }
  const fields = step.kind === 'url' && step.create !== undefined ? step.create : step.patch
  const missed = Object.keys(unmet(fields, holding))
  if (missed.length > 0)
    differences.push(`its ${missed.join(', ')} ${missed.length === 1 ? 'is' : 'are'} not as sent`)
  const lost = Object.keys(extrasPatch(step.extras, holding.extras))
  if (lost.length > 0) differences.push(`its extras ${lost.join(', ')} are not as sent`)
  return differences
}

function contradicted(result: Result, what: string): Result {
  const id = result.resource?.id ?? '(new)'
  const message =
    `${whereOf(result.step)} -> resource ${id}: read back after the writes, ${what} ` +
    `(the report shows what the dataset holds)`
  return { ...result, error: result.error === undefined ? message : `${result.error}; ${message}` }
}

/**
 * The dataset step against the dataset read back: every field sent holds its value, and every
 * field udata could reset (`ECHOED_FIELDS`) that the step did not mean to change is as it was.
 */
function checkDataset(
  result: DatasetResult,
  step: DatasetStep,
  before: Dataset,
  after: Dataset,
): DatasetResult {
  if (result.action !== 'updated') return result
  const live = after as Record<string, unknown>
  const old = before as Record<string, unknown>
  const missed = Object.entries(step.patch)
    .filter(([key, value]) => !sameValue(key, value, live[key]))
    .map(([key]) => key)
  const moved = ECHOED_FIELDS.filter(
    (key) => !(key in step.patch) && JSON.stringify(old[key]) !== JSON.stringify(live[key]),
  )
  const lost = Object.keys(extrasPatch(step.extras, after.extras))
  const differences = [
    ...(missed.length > 0 ? [`${missed.join(', ')} not as sent`] : []),
    ...moved.map(
      (key) =>
        `${key} changed, which the run did not mean to change (${JSON.stringify(old[key])} -> ${JSON.stringify(live[key])})`,
    ),
    ...(lost.length > 0 ? [`extras ${lost.join(', ')} not as sent`] : []),
  ]
  if (differences.length === 0) return result
  const message =
    `${inputName('dataset-metadata')} -> dataset ${after.id}: read back after the writes, ` +
    differences.join('; ')
  return {
    ...result,
    error: result.error === undefined ? message : `${result.error}; ${message}`,
  }
}
