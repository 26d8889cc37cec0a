/**
 * `files` globs and `resources` entries -> what the user asked to publish: local files, each with
 * its size and the name udata will store it under, and remote URLs. Problems are collected, not
 * thrown, so the preflight reports them all together.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { findFiles, type LocalFile } from '../files/find.js'
import { normalizeFilename } from '../files/normalize.js'
import { realPlace, within } from '../files/workspace.js'
import { plural } from '../util/text.js'
import type { EntryMetadata, IfNoFilesFound, ResourceEntrySpec, Settings } from './inputs.js'
import { foldersHint, sayReach } from './manifest/reach.js'
import type { ReleaseSpec } from './inputs/release.js'
import { inputName, inputWord, setInput } from './inputs.js'

interface EntryBase extends Omit<EntryMetadata, 'id'> {
  /** Where the user asked for it, for messages: `resources[2]` or `files 'out/*.csv'`. */
  label: string
  /** What the user sees as the entry's source: the local path (relative, with `/`) or the URL. */
  source: string
  /** The resource id the entry names, lower-cased. */
  id?: string
}

/** A local file to upload. */
export interface FileEntry extends EntryBase {
  kind: 'file'
  /** Absolute path. */
  path: string
  /** Local file name (last segment). */
  name: string
  size: number
  /** udata's normalised form of the name: what the server stores (docs/udata-protocol.md §3.2). */
  storedName: string
  /** `release: dated`: published as a new resource each time (plan/releases.ts names it). */
  release?: ReleaseSpec
  /** The columns that identify a row, for the data diff (src/diff/). */
  key?: string[]
}

/** A remote resource: a URL the producer serves. */
export interface RemoteEntry extends EntryBase {
  kind: 'url'
  url: string
  format?: string
}

export type Entry = FileEntry | RemoteEntry

export interface Manifest {
  entries: Entry[]
  /** Errors: the run must stop before any write. */
  problems: string[]
  /** Degraded paths the user chose to tolerate (`if-no-files-found: warn`). */
  warnings: string[]
  /** Hidden files the patterns matched and left out (`include-hidden-files: false`). */
  hiddenLeftOut: number
}

type ManifestSettings = Pick<
  Settings,
  'files' | 'resources' | 'ifNoFilesFound' | 'includeHiddenFiles'
>

export async function buildManifest(settings: ManifestSettings, cwd: string): Promise<Manifest> {
  const manifest: Manifest = { entries: [], problems: [], warnings: [], hiddenLeftOut: 0 }
  const seen = new Map<string, Entry>()
  for (const spec of settings.resources) {
    if (spec.kind === 'url') addRemoteEntry(manifest, seen, spec)
    else await addFileEntry(manifest, seen, spec, settings, cwd)
  }
  await addGlobbedFiles(manifest, seen, settings, cwd)
  manifest.problems.push(...sharedStoredNames(manifest.entries))
  return manifest
}

type Seen = Map<string, Entry>

function addRemoteEntry(
  manifest: Manifest,
  seen: Seen,
  spec: ResourceEntrySpec & { kind: 'url' },
): void {
  const previous = seen.get(spec.url)
  if (previous !== undefined) {
    manifest.problems.push(
      `${inputName('resources')}, entry ${spec.label}: ${spec.url} is already published by entry ${previous.label}`,
    )
    return
  }
  const { kind, label, url, ...metadata } = spec
  const entry: RemoteEntry = { ...metadata, kind, label, url, source: url }
  if (spec.id !== undefined) entry.id = spec.id.toLowerCase()
  add(manifest, seen, spec.url, entry)
}

/** A `resources` entry with a `path`: it must name exactly one file. */
async function addFileEntry(
  manifest: Manifest,
  seen: Seen,
  spec: ResourceEntrySpec & { kind: 'file' },
  settings: ManifestSettings,
  cwd: string,
): Promise<void> {
  const where = `${inputName('resources')}, entry ${spec.label}`
  const files = await resolveEntryPath(spec.path, cwd, settings.includeHiddenFiles, manifest, where)
  if (typeof files === 'string') {
    manifest.problems.push(`${where}: ${files}`)
    return
  }
  if (files.length === 0) {
    noMatch(manifest, settings.ifNoFilesFound, `${where}: no file matches '${spec.path}'`)
    return
  }
  if (files.length > 1) {
    const shown = files.slice(0, 5).map((f) => display(f.path, cwd))
    const more = files.length > 5 ? ', ...' : ''
    manifest.problems.push(
      `${where}: '${spec.path}' matches ${files.length} files (${shown.join(', ')}${more}); an entry's ` +
        `path must match exactly one file`,
    )
    return
  }
  const file = files[0] as LocalFile
  const previous = seen.get(file.path)
  if (previous !== undefined) {
    manifest.problems.push(
      `${where}: ${display(file.path, cwd)} is already published by entry ${previous.label}`,
    )
    return
  }
  add(manifest, seen, file.path, toEntry(file, cwd, spec.label, spec))
}

function add(manifest: Manifest, seen: Seen, key: string, entry: Entry): void {
  seen.set(key, entry)
  manifest.entries.push(entry)
}

/**
 * The `files` patterns; `!` patterns exclude from all of them; a file already named by an entry
 * keeps that entry.
 */
async function addGlobbedFiles(
  manifest: Manifest,
  seen: Seen,
  settings: ManifestSettings,
  cwd: string,
): Promise<void> {
  const excludes = settings.files.filter((p) => p.startsWith('!')).map((p) => p.slice(1))
  for (const pattern of settings.files.filter((p) => !p.startsWith('!'))) {
    const found = await findFiles(pattern, {
      cwd,
      exclude: excludes,
      includeHidden: settings.includeHiddenFiles,
      implicitDescendants: true,
    })
    manifest.hiddenLeftOut += found.hidden
    sayReach(manifest, inputName('files'), pattern, found, cwd)
    if (found.files.length === 0 && found.escaped.length === 0) {
      const hidden =
        found.hidden > 0
          ? ` (${plural(found.hidden, 'hidden file')} left out; ` +
            `${setInput('include-hidden-files', 'true')} to publish them)`
          : ''
      noMatch(
        manifest,
        settings.ifNoFilesFound,
        `${inputName('files')}: no file matches '${pattern}'${hidden}${foldersHint(pattern, found, cwd)}`,
      )
      continue
    }
    for (const file of found.files) {
      if (seen.has(file.path)) continue
      add(manifest, seen, file.path, toEntry(file, cwd, `files '${pattern}'`))
    }
  }
}

/** An entry's path: the file itself when it exists, else a glob; a message when it is unusable. */
async function resolveEntryPath(
  pattern: string,
  cwd: string,
  includeHidden: boolean,
  manifest: Manifest,
  where: string,
): Promise<LocalFile[] | string> {
  const literal = path.resolve(cwd, pattern)
  const info = await stat(literal).catch(() => undefined)
  if (info?.isFile() === true) {
    const inside = within(await realPlace(literal), await realPlace(cwd))
    const found = {
      files: [],
      hidden: 0,
      outside: inside ? [] : [literal],
      escaped: [],
      folders: [],
    }
    sayReach(manifest, where, pattern, found, cwd)
    return [{ path: literal, size: info.size }]
  }
  if (info?.isDirectory() === true)
    return `'${pattern}' is a directory; an entry's path must name one file`
  const found = await findFiles(pattern, { cwd, includeHidden, implicitDescendants: false })
  manifest.hiddenLeftOut += found.hidden
  sayReach(manifest, where, pattern, found, cwd)
  return found.files
}

/**
 * Local files that udata would store under the same name: the second upload would take the
 * first one's place in every later match by name. Allowed only when each names its own resource.
 */
function sharedStoredNames(entries: readonly Entry[]): string[] {
  const byName = new Map<string, FileEntry[]>()
  for (const entry of entries) {
    // A release is stored under the name its template gives, not the local one.
    if (entry.kind !== 'file' || entry.release !== undefined) continue
    byName.set(entry.storedName, [...(byName.get(entry.storedName) ?? []), entry])
  }
  const problems: string[] = []
  for (const [name, group] of byName) {
    if (group.length < 2 || group.every((e) => e.id !== undefined)) continue
    const files = group.map((e) => `'${e.source}' (${e.label})`).join(' and ')
    problems.push(
      `${files} would both be stored as '${name}' on data.gouv.fr, which normalises file names; ` +
        `rename one, or map each to its own resource with an entry in ${inputWord('resources')} ` +
        `({path, id})`,
    )
  }
  return problems
}

function toEntry(
  file: LocalFile,
  cwd: string,
  label: string,
  spec?: ResourceEntrySpec & { kind: 'file' },
): FileEntry {
  const name = path.basename(file.path)
  const {
    kind: _kind,
    label: _label,
    path: _path,
    id,
    ...metadata
  } = spec ?? { kind: 'file', label, path: file.path }
  const entry: FileEntry = {
    ...metadata,
    kind: 'file',
    label,
    source: display(file.path, cwd),
    path: file.path,
    name,
    size: file.size,
    storedName: normalizeFilename(name),
  }
  if (id !== undefined) entry.id = id.toLowerCase()
  return entry
}

function noMatch(manifest: Manifest, mode: IfNoFilesFound, message: string): void {
  if (mode === 'error')
    manifest.problems.push(
      `${message} (${setInput('if-no-files-found', 'warn', 'ignore')} to allow this)`,
    )
  else if (mode === 'warn') manifest.warnings.push(message)
}

function display(file: string, cwd: string): string {
  const relative = path.relative(cwd, file)
  return (relative.startsWith('..') ? file : relative).split(path.sep).join('/')
}
