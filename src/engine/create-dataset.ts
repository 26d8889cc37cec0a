/**
 * `create-dataset`: the dataset is created before anything is published into it, and the report
 * says what was created (or, in a dry run, would be).
 */
import type { DatagouvClient } from '../datagouv/client.js'
import type { Dataset } from '../datagouv/schemas.js'
import type { Reporter, RunResult } from './engine.js'
import { inputName, setInput } from './inputs.js'
import type { Plan } from './plan.js'
import type { DatasetResult } from './publish.js'
import { buildReport } from './report.js'
import { creationReason, type DatasetCreation } from './report/tables.js'

/**
 * `create-dataset`: the dataset first, then everything is published into it. When udata gave it
 * another slug than asked (a private dataset of someone else holds it), nothing more is done: the
 * next run would not find it by that slug and would create another.
 */
export async function createDataset(
  client: DatagouvClient,
  plan: Plan,
  reporter: Reporter,
): Promise<{ dataset: Dataset; stop?: RunResult }> {
  const { body, slug } = plan.creation as NonNullable<Plan['creation']>
  const dataset = await reporter.group(
    'Create the dataset',
    async () => {
      const created = await client.createDataset(body, slug)
      reporter.info(
        `Created dataset '${created.title}' (${created.id}) at ${created.page ?? created.slug}`,
      )
      return created
    },
    'create-dataset',
  )
  if (dataset.slug === slug) return { dataset }
  const datasetResult: DatasetResult = {
    action: 'failed',
    reason: 'created with another slug',
    patched: [],
    error:
      `${inputName('dataset')}: the dataset was created (${dataset.id}), but udata gave it the slug ` +
      `'${dataset.slug}', not '${slug}' (the slug is taken, maybe by a private dataset); nothing ` +
      `was published into it: ${setInput('dataset', dataset.slug)} and run again`,
  }
  const report = buildReport({
    results: [],
    datasetResult,
    dataset,
    datasetCreated: true,
    origin: client.origin,
    dryRun: false,
    hiddenLeftOut: 0,
  })
  return { dataset, stop: { report, results: [], datasetResult, order: undefined } }
}

/** The dataset `create-dataset` created (`done`), or in a dry run would create. */
export function creationFact(plan: Plan, id: string | undefined, done: boolean): DatasetCreation {
  return { done, ...(id !== undefined ? { id } : {}), reason: creationReason(plan, done) }
}
