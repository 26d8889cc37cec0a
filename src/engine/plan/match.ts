/**
 * Where each entry goes: the resource of the dataset it replaces or updates (by id, stored file
 * name, title or URL), or none when a new one is created. Every problem is collected: unknown
 * ids, wrong kinds of target, ambiguous or missing matches, a resource targeted twice, extensions
 * the instance refuses, a damaged list of resources.
 */
import { storedNameOf, type Dataset, type Resource } from '../../datagouv/schemas.js'
import { lastExtension } from '../../files/normalize.js'
import { plural } from '../../util/text.js'
import type { Entry, FileEntry, RemoteEntry } from '../manifest.js'
import { writtenBy } from '../provenance.js'
import type { Target, WithProblems } from '../plan.js'
import { keptAmong } from './files.js'
import { inputWord, setInput } from '../inputs.js'

/** Where the entries go, and what stops some of them. */
export interface Matches extends WithProblems {
  targets: Target[]
  /** Each entry that cannot go anywhere, with its own problem. */
  blocked: Map<Entry, string>
  /** Duplicates this publication wrote, kept but reported (`Target.duplicates`). */
  warnings: string[]
}

/** This publication (its recorded provenance), when known: it chooses among its duplicates. */
type Publication = { repository: string; workflow: string } | undefined

/**
 * Where each entry goes. Collects every problem: unknown ids, wrong kinds of target, ambiguous or
 * missing matches, a resource targeted twice, extensions the instance refuses.
 */
export function matchEntries(
  entries: readonly Entry[],
  dataset: Dataset,
  extensions: readonly string[],
  createMissing: boolean,
  publication?: Publication,
): Matches {
  const warnings: string[] = []
  const problems: string[] = []
  const blocked = new Map<Entry, string>()
  const targets: Target[] = []
  const claimed = new Map<string, string>()
  const allowed = new Set(extensions.map((e) => e.toLowerCase()))
  // Each resource once, however many times a damaged list holds it (listedTwice says so).
  const view = { ...dataset, resources: uniqueById(dataset.resources) }
  const counts = listings(dataset)

  for (const entry of entries) {
    const where = `${entry.label} (${entry.source})`
    const matched =
      entry.kind === 'file'
        ? matchFile(entry, view, allowed, createMissing, publication)
        : matchRemote(entry, view, createMissing)
    const found =
      typeof matched === 'object' && (counts.get(matched.id) ?? 0) > 1
        ? listedTwice(matched, counts.get(matched.id) ?? 0, dataset)
        : matched
    if (typeof found === 'string') {
      problems.push(`${where}: ${found}`)
      blocked.set(entry, found)
      continue
    }
    if (found !== undefined) {
      const other = claimed.get(found.id)
      if (other !== undefined) {
        const problem =
          `resource ${found.id} is already the target of ${other}; each resource can receive one ` +
          `entry`
        problems.push(`${where}: ${problem}`)
        blocked.set(entry, problem)
        continue
      }
      claimed.set(found.id, where)
    }
    const namesakes = found && entry.kind === 'file' ? namesakesOf(found, entry, view) : []
    // Only what this publication wrote is its duplicate (prune's to remove); the rest is said.
    const duplicates = namesakes.filter((r) => publication && writtenBy(r, publication))
    const others = namesakes.filter((r) => !duplicates.includes(r))
    if (found !== undefined)
      warnings.push(...namesakeWarnings(where, found, entry, duplicates, others))
    targets.push(
      found === undefined
        ? { entry }
        : { entry, resource: found, ...(duplicates.length > 0 ? { duplicates } : {}) },
    )
  }
  return { targets, problems, blocked, warnings }
}

/**
 * What the plan says of the resources bearing the stored name of the one an entry was kept among:
 * those this publication wrote (two runs created the name at once), to remove; the others, kept.
 */
function namesakeWarnings(
  where: string,
  found: Resource,
  entry: Entry,
  duplicates: readonly Resource[],
  others: readonly Resource[],
): string[] {
  const name = (entry as FileEntry).storedName
  const ids = (resources: readonly Resource[]) => resources.map((r) => r.id).join(', ')
  const warnings: string[] = []
  if (duplicates.length > 0)
    warnings.push(
      `${where}: ${duplicates.length + 1} resources this publication wrote bear the stored file ` +
        `name '${name}' (two runs created it at once); resource ${found.id}, the oldest, is ` +
        `kept; remove ${ids(duplicates)} (remove, or prune: true)`,
    )
  if (others.length > 0)
    warnings.push(
      `${where}: resource ${found.id}, which this publication wrote, is kept; ` +
        `${plural(others.length, 'other resource')} bearing the stored file name '${name}' ` +
        `(${ids(others)}) ${others.length > 1 ? 'were' : 'was'} not written by it and ` +
        `${others.length > 1 ? 'stay' : 'stays'} as ${others.length > 1 ? 'they are' : 'it is'}`,
    )
  return warnings
}

/** The other file resources bearing the stored name a file entry matched by (no id given). */
function namesakesOf(found: Resource, entry: FileEntry, dataset: Dataset): Resource[] {
  if (entry.id !== undefined) return []
  return dataset.resources.filter(
    (r) => r.id !== found.id && r.filetype === 'file' && storedNameOf(r) === entry.storedName,
  )
}

/** The resources, each id once (its first listing). */
export function uniqueById(resources: readonly Resource[]): Resource[] {
  const seen = new Set<string>()
  return resources.filter((r) => !seen.has(r.id) && seen.add(r.id))
}

/** How many times the dataset lists each resource id. */
function listings(dataset: Dataset): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of dataset.resources) counts.set(r.id, (counts.get(r.id) ?? 0) + 1)
  return counts
}

/** The problem of an entry whose resource a damaged list holds more than once. */
function listedTwice(resource: Resource, times: number, dataset: Dataset): string {
  return (
    `resource ${resource.id} ('${resource.title}') is listed ${times} times in dataset ` +
    `'${dataset.slug}': its list of resources is damaged (udata before 10.4.3 does this when writes ` +
    `to one dataset race); nothing is written into it until the list is repaired on the instance`
  )
}

/** The warning for a dataset whose list holds some resource more than once. */
export function duplicateListings(dataset: Dataset): string[] {
  const twice = [...listings(dataset)].filter(([, n]) => n > 1).map(([id]) => id)
  if (twice.length === 0) return []
  return [
    `dataset '${dataset.slug}' lists ${plural(twice.length, 'resource')} more than once ` +
      `(${twice.join(', ')}): its list of resources is damaged (udata before 10.4.3 does this when ` +
      `writes to one dataset race); repair it on the instance`,
  ]
}

/** A resource for an entry, `undefined` to create one, or the problem that stops the entry. */
type Match = Resource | undefined | string

/** The resource for a local file, `undefined` to create one, or the problem. */
function matchFile(
  entry: FileEntry,
  dataset: Dataset,
  allowed: ReadonlySet<string>,
  createMissing: boolean,
  publication: Publication,
): Match {
  const extension = lastExtension(entry.storedName)
  if (allowed.size > 0 && (extension === undefined || !allowed.has(extension))) {
    return `the instance does not accept ${extension === undefined ? 'files without an extension' : `'.${extension}' files`} (allowed: ${[...allowed].sort().join(', ')})`
  }
  const resource =
    entry.id !== undefined
      ? byId(entry.id, dataset)
      : fileByName(entry, dataset, createMissing, publication)
  if (typeof resource !== 'object' || resource.filetype === 'file') return resource
  return (
    `resource ${resource.id} ('${resource.title}') is a ${resource.filetype} resource (a link ` +
    `to ${resource.url}); the action uploads only into file resources`
  )
}

/** The resource for a remote URL, `undefined` to create one, or the problem. */
function matchRemote(entry: RemoteEntry, dataset: Dataset, createMissing: boolean): Match {
  const resource =
    entry.id !== undefined ? byId(entry.id, dataset) : remoteByUrl(entry, dataset, createMissing)
  if (typeof resource !== 'object' || resource.filetype === 'remote') return resource
  return (
    `resource ${resource.id} ('${resource.title}') hosts a file; a url entry updates a remote ` +
    `resource (its type cannot change on udata), use 'path' to replace the file`
  )
}

/** The resource an entry names by id. */
function byId(id: string, dataset: Dataset): Resource | string {
  return (
    dataset.resources.find((r) => r.id === id) ??
    `resource ${id} is not in dataset '${dataset.slug}'`
  )
}

/**
 * The resource whose stored file name (else title) is the file's; among several bearing the name,
 * the one this publication keeps (files.ts `keptAmong`), else none: a person chooses.
 */
function fileByName(
  entry: FileEntry,
  dataset: Dataset,
  createMissing: boolean,
  publication: Publication,
): Match {
  const byName = dataset.resources.filter(
    (r) => r.filetype === 'file' && storedNameOf(r) === entry.storedName,
  )
  const byTitle =
    byName.length > 0
      ? []
      : dataset.resources.filter((r) => r.title === entry.name || r.title === entry.storedName)
  const candidates = byName.length > 0 ? byName : byTitle
  const kept = byName.length > 1 ? keptAmong(byName, publication) : undefined
  if (kept !== undefined) return kept
  if (candidates.length > 1) {
    return `${candidates.length} resources match by ${byName.length > 0 ? `stored file name '${entry.storedName}'` : `title '${entry.name}'`} (${candidates.map((r) => r.id).join(', ')}); give the one to replace with an entry in ${inputWord('resources')} ({path, id})`
  }
  if (candidates[0] !== undefined || createMissing) return candidates[0]
  return (
    `no resource of dataset '${dataset.slug}' has the stored file name '${entry.storedName}' ` +
    `or the title '${entry.name}'; ${setInput('create-missing', 'true')} to create one, or map ` +
    `the file to a resource id in ${inputWord('resources')}`
  )
}

/** The remote resource that points at the entry's URL. */
function remoteByUrl(entry: RemoteEntry, dataset: Dataset, createMissing: boolean): Match {
  const byUrl = dataset.resources.filter((r) => r.filetype === 'remote' && r.url === entry.url)
  if (byUrl.length > 1)
    return (
      `${byUrl.length} remote resources point at this URL (${byUrl.map((r) => r.id).join(', ')}); ` +
      `give the one to update with 'id'`
    )
  if (byUrl[0] !== undefined || createMissing) return byUrl[0]
  return (
    `no remote resource of dataset '${dataset.slug}' points at this URL; ` +
    `${setInput('create-missing', 'true')} to create one, or give the resource's 'id'`
  )
}
