/**
 * Local files matching glob patterns, with one glob library that knows nothing of the runner
 * (tinyglobby): the action and the CLI find files the same way, and nothing is printed.
 *
 * Hidden files and folders (a name starting with `.`) are left out unless asked for, as
 * actions/upload-artifact does since v4.4; a hidden name the pattern spells out (`.output/*.csv`)
 * counts as asked for.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { glob, isDynamicPattern } from 'tinyglobby'

export interface LocalFile {
  /** Absolute path. */
  path: string
  size: number
}

export interface FindOptions {
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
}

export async function findFiles(pattern: string, options: FindOptions): Promise<Found> {
  const matches = await glob([pattern, ...(options.exclude ?? []).map((p) => `!${p}`)], {
    cwd: options.cwd,
    absolute: true,
    dot: true,
    onlyFiles: true,
    expandDirectories: options.implicitDescendants,
    followSymbolicLinks: true,
  })
  const base = path.resolve(options.cwd, literalBase(pattern))
  const spelled = new Set(
    pattern.split(/[\\/]/).filter((s) => s.startsWith('.') && !isDynamicPattern(s)),
  )
  const kept: string[] = []
  let hidden = 0
  for (const match of matches.map((m) => path.normalize(m)).sort()) {
    const below = path.relative(base, match).split(path.sep)
    const isHidden = below.some(
      (segment) => segment.startsWith('.') && segment !== '..' && !spelled.has(segment),
    )
    if (isHidden && !options.includeHidden) hidden++
    else kept.push(match)
  }
  const files = await Promise.all(
    kept.map(async (file) => ({ path: file, size: (await stat(file)).size })),
  )
  return { files, hidden }
}

/** The pattern's leading segments that hold no wildcard: the folder the search starts from. */
function literalBase(pattern: string): string {
  const segments = pattern.split(/[\\/]/)
  const firstDynamic = segments.findIndex((s) => isDynamicPattern(s))
  const literal = firstDynamic === -1 ? segments : segments.slice(0, firstDynamic)
  return literal.join('/') || '.'
}
