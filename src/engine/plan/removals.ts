/**
 * What is removed: the resources that `remove` names (by id or stored file name), and with
 * `prune` those this publication wrote before and no longer publishes. Nothing is ever removed
 * that neither names, nor anything this run also publishes.
 */
import { storedNameOf, type Dataset, type Resource } from '../../datagouv/schemas.js'
import { normalizeFilename } from '../../files/normalize.js'
import type { RemovalStep, Target, WithProblems } from '../plan.js'
import { publicationOf, writtenBy, type Provenance } from '../provenance.js'
import { uniqueById } from './match.js'
import { inputName } from '../inputs.js'

/** The removals `remove` asks for, and what stops some of its items. */
export interface Removals extends WithProblems {
  steps: RemovalStep[]
}

/**
 * `remove` items -> removal steps: each an id or a stored file name of the dataset, never also
 * published by this run.
 */
export function planRemovals(
  items: readonly string[],
  dataset: Dataset,
  targets: readonly Target[],
): Removals {
  const steps: RemovalStep[] = []
  const problems: string[] = []
  const targeted = new Map(
    targets.flatMap((t) => (t.resource ? [[t.resource.id, t.entry.label] as const] : [])),
  )
  const seen = new Set<string>()
  const unique = uniqueById(dataset.resources)
  items.forEach((item, index) => {
    const label = `remove[${index}]`
    const where = `${inputName('remove')}, ${label} '${item}'`
    const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(item)
    const matches = isId
      ? unique.filter((r) => r.id === item.toLowerCase())
      : unique.filter(
          (r) =>
            r.filetype === 'file' &&
            (storedNameOf(r) === item || storedNameOf(r) === normalizeFilename(item)),
        )
    if (matches.length === 0) {
      problems.push(
        `${where}: no resource of dataset '${dataset.slug}' has this ${isId ? 'id' : 'stored file name'}`,
      )
      return
    }
    if (matches.length > 1) {
      problems.push(
        `${where}: ${matches.length} resources have this stored file name (${matches.map((r) => r.id).join(', ')}); ` +
          `give the id of the one to remove`,
      )
      return
    }
    const resource = matches[0] as Resource
    const by = targeted.get(resource.id)
    if (by !== undefined) {
      problems.push(
        `${where}: resource ${resource.id} is also published by ${by} in this run; remove it from ` +
          `one of them`,
      )
      return
    }
    if (seen.has(resource.id)) return
    seen.add(resource.id)
    steps.push({
      kind: 'remove',
      source: item,
      label,
      resource,
      action: 'remove',
      reason: `named in remove (${resource.filetype} '${resource.title}')`,
    })
  })
  return { steps, problems }
}

/**
 * `prune`: removal steps for the resources this publication wrote before (its recorded
 * provenance) that no entry publishes now and no `remove` item already names, `kept` apart (the
 * earlier dated releases, which `keep` decides on); a problem when the provenance does not tell
 * which publication this is.
 */
export function planPrune(
  dataset: Dataset,
  targets: readonly Target[],
  removals: readonly RemovalStep[],
  provenance: Provenance | undefined,
  kept: readonly string[] = [],
): Removals {
  const publication = publicationOf(provenance)
  if (typeof publication === 'string')
    return {
      steps: [],
      problems: [`${inputName('prune')}: ${publication}; nothing can be pruned safely`],
    }
  const published = new Set([
    ...targets.flatMap((t) => (t.resource ? [t.resource.id] : [])),
    ...removals.map((r) => r.resource.id),
    ...kept,
  ])
  const steps = dataset.resources
    .filter((r) => !published.has(r.id) && writtenBy(r, publication))
    .map((resource) => ({
      kind: 'remove' as const,
      source: storedNameOf(resource) ?? resource.url,
      label: 'prune',
      resource,
      action: 'remove' as const,
      reason: `pruned: written by ${publication.repository} (${publication.workflow}) and no longer published`,
    }))
  return { steps, problems: [] }
}
