/**
 * Dated releases (`release: dated`): each publication adds a new resource, named from the entry's
 * template, and never replaces an earlier one. What this publication released before is recognised
 * by the provenance recorded in each resource's extras (provenance.ts) and by the entry's key: a
 * rerun of the same release (the same tag, else the same workflow run) goes to the resource it
 * created, replaced in place only if the file differs; a file equal to the newest release is not
 * released again. A run stopped between storing a release and recording its extras leaves a
 * resource without provenance under the release's name: the next run takes it up when its file is
 * the same (plan/retention.ts), and releases anew otherwise. `keep: N` removes the older releases
 * of the entry this publication wrote, last.
 */
import { storedNameOf, type Dataset, type Resource } from '../../datagouv/schemas.js'
import { lastExtension, normalizeFilename } from '../../files/normalize.js'
import type { ReleaseSpec } from '../inputs/release.js'
import type { FileEntry } from '../manifest.js'
import type { Target, WithProblems } from '../plan.js'
import { publicationOf, writtenBy, type Provenance } from '../provenance.js'

/** The extras that tie a resource to its release (besides the provenance of every write). */
const RELEASE_KEYS = { of: 'publish:release', run: 'publish:release-run' } as const

/** A release entry, as the plan resolved it. */
export interface ReleasePlan {
  /** The entry renamed: its stored name, name and title as this release publishes them. */
  entry: FileEntry & { release: ReleaseSpec }
  /** The releases of this entry this publication wrote before, newest (created) first. */
  earlier: Resource[]
  /** The release this same run (tag or workflow run) already created: a rerun goes there. */
  current?: Resource
  /**
   * `current` records no provenance: a resource under this release's name and of the local file's
   * size, which a stopped run may have stored. Taken up only if its file is the same; else `fresh`
   * (the new release, or why there can be none) goes instead.
   */
  unrecorded?: { fresh: (FileEntry & { release: ReleaseSpec }) | string }
}

export interface Releases extends WithProblems {
  targets: Target<FileEntry>[]
  plans: ReleasePlan[]
  blocked: Map<FileEntry, string>
}

/** What a run knows of itself that a release name and identity come from. */
export interface ReleaseContext {
  provenance: Provenance | undefined
  startedAt: Date
  /** The file extensions the instance accepts. */
  extensions: readonly string[]
}

export function isRelease(entry: FileEntry): entry is FileEntry & { release: ReleaseSpec } {
  return entry.release !== undefined
}

/** Where each release entry goes: the resource of this run's release, or a new one. */
export function planReleases(
  entries: readonly (FileEntry & { release: ReleaseSpec })[],
  dataset: Dataset,
  context: ReleaseContext,
): Releases {
  const found: Releases = { targets: [], plans: [], blocked: new Map(), problems: [] }
  const publication = publicationOf(context.provenance)
  const taken = new Set(
    dataset.resources.flatMap((r) => (r.filetype === 'file' ? [storedNameOf(r) ?? ''] : [])),
  )
  const run = runOf(context.provenance)
  for (const entry of entries) {
    const where = `${entry.label} (${entry.source})`
    const stop = (problem: string): void => {
      found.problems.push(`${where}: ${problem}`)
      found.blocked.set(entry, problem)
    }
    if (typeof publication === 'string') {
      stop(`'release: dated' recognises earlier releases by their provenance, but ${publication}`)
      continue
    }
    const earlier = dataset.resources
      .filter((r) => writtenBy(r, publication) && r.extras?.[RELEASE_KEYS.of] === entry.release.key)
      .sort((a, b) => createdAt(b) - createdAt(a))
    const current = run && earlier.find((r) => r.extras?.[RELEASE_KEYS.run] === run.id)
    const stopped = current ? undefined : unrecordedRelease(entry, dataset, taken, context, run)
    if (stopped !== undefined) {
      const fresh = newRelease(entry, taken, context, run)
      if (typeof fresh !== 'string') taken.add(fresh.storedName)
      found.plans.push({ ...stopped, earlier, unrecorded: { fresh } })
      found.targets.push({ entry: stopped.entry, resource: stopped.current })
      continue
    }
    const named = current
      ? sameRelease(entry, current, run)
      : newRelease(entry, taken, context, run)
    if (typeof named === 'string') {
      stop(named)
      continue
    }
    const refused = extensionRefused(named.storedName, context.extensions)
    if (refused !== undefined) {
      stop(refused)
      continue
    }
    taken.add(named.storedName)
    found.plans.push({ entry: named, earlier, ...(current ? { current } : {}) })
    found.targets.push(current ? { entry: named, resource: current } : { entry: named })
  }
  return found
}

/** What identifies this run's release: the tag it is for, else the workflow run (any attempt). */
function runOf(provenance: Provenance | undefined): { id: string; tag?: string } | undefined {
  const tag = tagOf(provenance)
  if (tag !== undefined) return { id: `tag:${tag}`, tag }
  const url = provenance?.runUrl?.replace(/\/attempts\/\d+$/, '')
  return url === undefined ? undefined : { id: `run:${url}` }
}

/** The tag a run is for (a release or a tag push: `GITHUB_REF` is `refs/tags/<tag>`). */
function tagOf(provenance: Provenance | undefined): string | undefined {
  const ref = provenance?.ref
  return ref?.startsWith('refs/tags/') === true ? ref.slice('refs/tags/'.length) : undefined
}

function createdAt(resource: Resource): number {
  const time = Date.parse(resource.created_at ?? '')
  return Number.isNaN(time) ? 0 : time
}

/** A rerun: the entry under the stored name and title of the release this run created. */
function sameRelease(
  entry: FileEntry & { release: ReleaseSpec },
  current: Resource,
  run: { id: string; tag?: string } | undefined,
): FileEntry & { release: ReleaseSpec } {
  const storedName = storedNameOf(current) ?? entry.storedName
  return {
    ...entry,
    name: storedName,
    storedName,
    // A title template would render again with this day's values: the release keeps its own.
    title: entry.title === undefined || /\{\w+\}/.test(entry.title) ? current.title : entry.title,
    extras: { ...entry.extras, ...releaseExtras(entry.release, run) },
  }
}

/** A new release: the entry under the name its template gives, `{seq}` the first one free. */
function newRelease(
  entry: FileEntry & { release: ReleaseSpec },
  taken: ReadonlySet<string>,
  context: ReleaseContext,
  run: { id: string; tag?: string } | undefined,
): (FileEntry & { release: ReleaseSpec }) | string {
  const rendered = releaseNamer(entry, context, run)
  if (typeof rendered === 'string') return rendered
  const named = rendered(firstFreeSeq(entry, rendered, taken))
  if (taken.has(named.storedName))
    return (
      `the release would be stored as '${named.storedName}', which the dataset already holds; a ` +
      `dated release never replaces another: add {seq} to 'name' (or {tag})`
    )
  return named
}

/**
 * The resource a stopped run may have left for this release: the name the template gives this run
 * (`{seq}` one before the first free one; without `{seq}`, the name itself), taken by a stored file
 * with no `publish:` extras, of the local file's size, titled with its stored name (as udata titles
 * an upload) or the release's title. The entry is the release under that name.
 */
function unrecordedRelease(
  entry: FileEntry & { release: ReleaseSpec },
  dataset: Dataset,
  taken: ReadonlySet<string>,
  context: ReleaseContext,
  run: { id: string; tag?: string } | undefined,
): Required<Pick<ReleasePlan, 'entry' | 'current'>> | undefined {
  const rendered = releaseNamer(entry, context, run)
  if (typeof rendered === 'string') return undefined
  const seqed = entry.release.name.includes('{seq}')
  const seq = seqed ? firstFreeSeq(entry, rendered, taken) - 1 : 1
  if (seq < 1) return undefined
  const named = rendered(seq)
  const current = dataset.resources.find(
    (r) =>
      r.filetype === 'file' &&
      storedNameOf(r) === named.storedName &&
      r.filesize === entry.size &&
      // Titled as the upload left it, or as the stopped run put it: not a title someone chose.
      (r.title === named.storedName || r.title === named.title) &&
      !Object.keys(r.extras ?? {}).some((key) => key.startsWith('publish:')),
  )
  return current === undefined ? undefined : { entry: named, current }
}

type Namer = (seq: number) => FileEntry & { release: ReleaseSpec }

/** The entry as released under `{seq}` = n, this run's values in the templates. */
function releaseNamer(
  entry: FileEntry & { release: ReleaseSpec },
  context: ReleaseContext,
  run: { id: string; tag?: string } | undefined,
): Namer | string {
  const { base, extension } = splitName(entry.name)
  const tag = tagOf(context.provenance)
  const uses = (p: string): boolean =>
    entry.release.name.includes(`{${p}}`) || (entry.title?.includes(`{${p}}`) ?? false)
  if (uses('tag') && tag === undefined)
    return (
      `{tag} needs a run for a tag (a release, or a push of a tag: GITHUB_REF refs/tags/…), and ` +
      `this one is for ${context.provenance?.ref ?? 'no ref'}`
    )
  const values = { name: base, date: context.startedAt.toISOString().slice(0, 10), tag: tag ?? '' }
  const render = (template: string, seq: number): string =>
    template.replace(/\{(name|date|tag|seq)\}/g, (_, p: string) =>
      p === 'seq' ? String(seq) : values[p as keyof typeof values],
    )
  return (seq) => {
    const name = withExtension(render(entry.release.name, seq), extension)
    return {
      ...entry,
      name,
      storedName: normalizeFilename(name),
      title: entry.title === undefined ? name : render(entry.title, seq),
      extras: { ...entry.extras, ...releaseExtras(entry.release, run) },
    }
  }
}

/** The first `{seq}` whose name the dataset does not hold (1 when the template has none). */
function firstFreeSeq(
  entry: FileEntry & { release: ReleaseSpec },
  named: Namer,
  taken: ReadonlySet<string>,
): number {
  if (!entry.release.name.includes('{seq}')) return 1
  let seq = 1
  while (taken.has(named(seq).storedName)) seq++
  return seq
}

function releaseExtras(
  release: ReleaseSpec,
  run: { id: string } | undefined,
): Record<string, string> {
  return { [RELEASE_KEYS.of]: release.key, ...(run ? { [RELEASE_KEYS.run]: run.id } : {}) }
}

/** A file name's base and its extension (two for a compressed file: `.csv.gz`). */
export function splitName(fileName: string): { base: string; extension: string } {
  const match = /^(.+?)((?:\.[A-Za-z0-9]+)?\.(?:gz|bz2|xz|zst|zip|7z)|\.[A-Za-z0-9]+)?$/.exec(
    fileName,
  )
  return { base: match?.[1] ?? fileName, extension: match?.[2] ?? '' }
}

function withExtension(name: string, extension: string): string {
  return extension === '' || name.toLowerCase().endsWith(extension.toLowerCase())
    ? name
    : `${name}${extension}`
}

function extensionRefused(storedName: string, extensions: readonly string[]): string | undefined {
  const allowed = new Set(extensions.map((e) => e.toLowerCase()))
  const extension = lastExtension(storedName)
  if (allowed.size === 0 || (extension !== undefined && allowed.has(extension))) return undefined
  return `the instance does not accept ${extension === undefined ? 'files without an extension' : `'.${extension}' files`} (the release's name is '${storedName}')`
}
