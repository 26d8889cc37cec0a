/**
 * Local files matching glob patterns, with one glob library that knows nothing of the runner
 * (tinyglobby): the action and the CLI find files the same way, and nothing is printed.
 *
 * Hidden files and folders (a name starting with `.`) are left out unless asked for, as
 * actions/upload-artifact does since v4.4; a hidden name the pattern spells out (`.output/*.csv`)
 * counts as asked for.
 *
 * What is published is public, so what a pattern reaches is told apart (workspace.ts): a file
 * whose real place is outside the workspace is published only when the pattern names that place
 * (`../x.csv`, `/data/x.csv`, a link written out in full), never when a wildcard walked into a
 * symbolic link that leads out (`escaped`); a folder a wildcard matches is not published whole, as
 * upload-artifact would (`folders`); a folder the pattern names is (`out` or `out/`).
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { glob, isDynamicPattern } from 'tinyglobby'
import { realPlace, within } from './workspace.js'

export interface LocalFile {
  /** Absolute path. */
  path: string
  size: number
}

export interface FindOptions {
  /** The workspace: patterns are relative to it, and nothing outside it leaves unless named. */
  cwd: string
  /** Patterns whose matches are left out (without their leading `!`). */
  exclude?: readonly string[]
  includeHidden: boolean
  /** A pattern naming a folder matches every file below it. */
  implicitDescendants: boolean
}

export interface Found {
  /** Sorted by path. */
  files: LocalFile[]
  /** Files matched but left out because they are hidden. */
  hidden: number
  /** Of `files`, those whose real place is outside the workspace: the pattern names it. */
  outside: string[]
  /**
   * Files a wildcard reached through a symbolic link that leads outside the workspace: left out of
   * `files`, each with the place it leads to.
   */
  escaped: Array<{ path: string; target: string }>
  /** Folders a wildcard matched and whose files the pattern does not take (absolute paths). */
  folders: string[]
}

export async function findFiles(pattern: string, options: FindOptions): Promise<Found> {
  // Only a folder the pattern names is taken whole: tinyglobby's own expansion would also take
  // the files below a folder a wildcard matched (`out/*.csv` reaching `out/x.csv/notes.txt`).
  const expand = (p: string): string[] => (options.implicitDescendants ? withDescendants(p) : [p])
  const taken = isDynamicPattern(pattern) ? [pattern] : expand(pattern)
  const excluded = (options.exclude ?? []).flatMap(expand).map((p) => `!${p}`)
  const matches = await glob([...taken, ...excluded], {
    cwd: options.cwd,
    absolute: true,
    dot: true,
    onlyFiles: false,
    expandDirectories: false,
    followSymbolicLinks: true,
  })
  const base = path.resolve(options.cwd, literalBase(pattern))
  const spelled = new Set(
    pattern.split(/[\\/]/).filter((s) => s.startsWith('.') && !isDynamicPattern(s)),
  )
  const isHidden = (match: string): boolean =>
    path
      .relative(base, match)
      .split(path.sep)
      .some((segment) => segment.startsWith('.') && segment !== '..' && !spelled.has(segment))
  const found: Found = { files: [], hidden: 0, outside: [], escaped: [], folders: [] }
  const kept: string[] = []
  const folders: string[] = []
  for (const match of matches.map((m) => path.normalize(m)).sort()) {
    const folder = match.endsWith(path.sep)
    if (isHidden(match)) {
      if (!folder && !options.includeHidden) found.hidden++
      else if (!folder) kept.push(match)
      continue
    }
    if (folder) folders.push(match.slice(0, -1))
    else kept.push(match)
  }
  await sortPlaces(found, kept, base, options.cwd)
  // `**` at the end takes every file below the folders it matches: only empty ones are left.
  const descends = /(^|[\\/])\*\*$/.test(pattern)
  found.folders = isDynamicPattern(pattern) && !descends ? leftOut(folders, kept) : []
  return found
}

/** Each kept match into `files` (with `outside` when named so), or `escaped`. */
async function sortPlaces(found: Found, kept: readonly string[], base: string, cwd: string) {
  const workspace = await realPlace(cwd)
  const named = !within(await realPlace(base), workspace)
  const placed = await Promise.all(
    kept.map(async (file) => ({
      file,
      real: await realPlace(file),
      size: (await stat(file)).size,
    })),
  )
  for (const { file, real, size } of placed) {
    if (within(real, workspace)) found.files.push({ path: file, size })
    else if (named) {
      found.files.push({ path: file, size })
      found.outside.push(file)
    } else found.escaped.push({ path: file, target: real })
  }
}

/**
 * The folders matched whose files the pattern leaves out: none of the kept files is below them.
 * (`**` takes the files below every folder it matches; `*` takes none.)
 */
function leftOut(folders: readonly string[], kept: readonly string[]): string[] {
  return folders.filter((folder) => !kept.some((file) => file.startsWith(folder + path.sep)))
}

/**
 * The pattern and what takes every file below a folder it names (`out` -> `out/**`), as
 * tinyglobby's `expandDirectories` does (not after a final `*`).
 */
function withDescendants(pattern: string): string[] {
  const trimmed = pattern.replace(/[\\/]+$/, '')
  return trimmed.endsWith('*') ? [pattern] : [pattern, `${trimmed}/**`]
}

/** The pattern's leading segments that hold no wildcard: the folder the search starts from. */
function literalBase(pattern: string): string {
  const segments = pattern.split(/[\\/]/)
  const firstDynamic = segments.findIndex((s) => isDynamicPattern(s))
  const literal = firstDynamic === -1 ? segments : segments.slice(0, firstDynamic)
  return literal.join('/') || '.'
}
