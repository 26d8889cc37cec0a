/**
 * The dataset's own rules: whether it can be published into (deleted, archived, the key's
 * rights), its metadata step (`dataset-metadata` against the live dataset and the instance's
 * lists), and its creation (`create-dataset`).
 */
import type { Dataset } from '../../datagouv/schemas.js'
import { slugify } from '../../files/normalize.js'
import type { DatasetMetadata } from '../inputs.js'
import type { DatasetStep, WithProblems } from '../plan.js'
import { changedFields, differ, extrasPatch, sameValue } from './fields.js'
import { inputName, inputWord, setInput } from '../inputs.js'
import { didYouMean } from '../../util/suggest.js'

/** The dataset's metadata step, and the values of `dataset-metadata` that stop it. */
export interface DatasetPlan extends WithProblems {
  step: DatasetStep
}

/** The body of the dataset's creation, and what stops it. */
export interface CreationPlan extends WithProblems {
  body: Record<string, unknown>
}

/** Problems with the dataset itself or the key's rights, before any entry is looked at. */
export function datasetProblems(
  dataset: Dataset,
  writing: { resources: boolean; dataset: boolean },
): string[] {
  const problems: string[] = []
  const deleted = dateOf(dataset.deleted)
  if (deleted !== undefined) {
    problems.push(
      `${inputName('dataset')}: dataset '${dataset.slug}' (${dataset.id}) has been deleted${deleted}; nothing ` +
        `is published into a deleted dataset: restore it on data.gouv.fr first, or name another dataset`,
    )
    return problems
  }
  if (writing.resources && dataset.permissions?.edit_resources === false) {
    problems.push(
      `${inputName('api-key')}: the key's owner may not edit the resources of dataset '${dataset.slug}' ` +
        `(${dataset.id})`,
    )
  }
  if (writing.dataset && dataset.permissions?.edit === false) {
    problems.push(
      `${inputName('api-key')}: the key's owner may not edit dataset '${dataset.slug}' (${dataset.id}), ` +
        `so ${inputWord('dataset-metadata')} cannot be applied`,
    )
  }
  return problems
}

/**
 * The dataset's metadata step: the fields of `dataset-metadata` whose value differs from the live
 * dataset, extras apart (merged through v2 so that the analyser's keys stay). `problems` names the
 * values the instance does not know (frequency, license).
 */
export function planDataset(
  wanted: DatasetMetadata,
  dataset: Dataset,
  known: { frequencies?: readonly string[]; licenses?: readonly string[] },
): DatasetPlan {
  const { extras, organization, ...fields } = wanted
  const owner = dataset.organization?.id
  const problems = [
    ...unknownValue('frequency', wanted.frequency, known.frequencies),
    ...unknownValue('license', wanted.license, known.licenses),
    ...tagProblems(wanted.tags),
  ]
  if (organization !== undefined && organization !== owner) {
    problems.push(
      `${inputName('dataset-metadata')}.organization: dataset '${dataset.slug}' belongs to ${typeof owner === 'string' ? `organisation ${owner}` : 'a user'}; udata does not change a dataset's owner through this API (it is a transfer): 'organization' applies only when ${inputWord('create-dataset')} creates the dataset`,
    )
  }
  const patch: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (!sameValue(key, value, (dataset as Record<string, unknown>)[key]))
      patch[key] = key === 'tags' ? [...new Set((value as string[]).map(slugify))] : value
  }
  const extrasChanges = extrasPatch(extras, dataset.extras)
  const changed = changedFields(patch, extrasChanges)
  const step: DatasetStep =
    changed.length > 0
      ? { action: 'update', reason: differ(changed), patch, extras: extrasChanges }
      : { action: 'skip', reason: 'metadata unchanged', patch, extras: extrasChanges }
  return { step, problems }
}

/** A value of `dataset-metadata` that is not in the instance's list (when the list was read). */
function unknownValue(
  field: 'frequency' | 'license',
  value: string | undefined,
  accepted: readonly string[] | undefined,
): string[] {
  if (value === undefined || accepted === undefined || accepted.includes(value)) return []
  return [
    `${inputName('dataset-metadata')}.${field}: '${value}' is not a ${field} of the instance${didYouMean(value, accepted)} (accepted: ` +
      `${accepted.join(', ')})`,
  ]
}

/**
 * The dataset step left once `create-dataset` has created the dataset with its fields: the extras
 * merge only.
 */
export function extrasOnly(step: DatasetStep): DatasetStep {
  const extras = Object.keys(step.extras)
  return extras.length > 0
    ? { action: 'update', reason: 'extras of the new dataset', patch: {}, extras: step.extras }
    : { action: 'skip', reason: 'created with its metadata', patch: {}, extras: {} }
}

/** udata's default `TAG_MIN_LENGTH` and `TAG_MAX_LENGTH`, on the slugified tag (udata/forms/fields.py `TagField`). */
const TAG_LENGTH = { min: 3, max: 96 } as const

/** Tags udata would refuse (400), named with what udata would store. */
function tagProblems(tags: readonly string[] | undefined): string[] {
  return (tags ?? []).flatMap((tag) => {
    const stored = slugify(tag)
    if (stored.length >= TAG_LENGTH.min && stored.length <= TAG_LENGTH.max) return []
    return [
      `${inputName('dataset-metadata')}.tags: '${tag}' is stored by udata as '${stored}', which must be ` +
        `${TAG_LENGTH.min} to ${TAG_LENGTH.max} characters long (udata slugifies tags: lower case, ` +
        `words joined by '-')`,
    ]
  })
}

/**
 * `create-dataset`: the body of the dataset creation, from `dataset-metadata` (extras apart: merged
 * through v2 once it exists). udata derives the slug from the title: it must be the slug asked for,
 * or the next run would not find the dataset.
 */
export function planCreation(wanted: DatasetMetadata | undefined, slug: string): CreationPlan {
  const problems: string[] = []
  const where = `${inputName('dataset')}: no dataset '${slug}' exists; ${inputWord('create-dataset')}`
  if (/^[0-9a-f]{24}$/i.test(slug))
    problems.push(`${where} needs a slug, not an id: give the slug the dataset should have`)
  if (wanted?.title === undefined || wanted.description === undefined) {
    problems.push(
      `${where} needs 'title' and 'description' in ${inputWord('dataset-metadata')} (udata requires both)`,
    )
    return { body: {}, problems }
  }
  const derived = slugify(wanted.title)
  if (derived !== slug) {
    problems.push(
      `${where} would create it with the slug '${derived}' (udata derives it from the title '${wanted.title}'); ` +
        `${setInput('dataset', derived)}, or a title that gives '${slug}'`,
    )
  }
  const { extras: _extras, ...body } = wanted
  return { body, problems }
}

/**
 * What a dataset step changes beyond its fields: a new title gives the dataset a new slug
 * (udata's `SlugField(populate_from='title', update=True)`; the old slug answers with a redirect).
 */
export function datasetStepWarnings(step: DatasetStep | undefined, dataset: Dataset): string[] {
  const title = step?.patch.title
  if (step?.action !== 'update' || typeof title !== 'string') return []
  return [
    `dataset-metadata changes the title of dataset '${dataset.slug}': udata then gives it the slug ` +
      `'${slugify(title)}' (or that slug followed by a number when it is taken); the old slug keeps ` +
      `leading to it (a redirect), so links and 'dataset: ${dataset.slug}' keep working`,
  ]
}

/** What the dataset's state tolerates but the user should know. */
export function datasetWarnings(dataset: Dataset): string[] {
  const archived = dateOf(dataset.archived)
  if (archived !== undefined) {
    return [
      `dataset '${dataset.slug}' (${dataset.id}) is archived${archived}: it is published to all ` +
        `the same, but data.gouv.fr shows it as archived`,
    ]
  }
  return []
}

/** ` (on <date>)` for a date, `''` for `true`, `undefined` when the flag is not set. */
function dateOf(flag: string | boolean | null | undefined): string | undefined {
  if (flag === undefined || flag === null || flag === false || flag === '') return undefined
  return flag === true ? '' : ` (${flag})`
}
