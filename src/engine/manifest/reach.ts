/**
 * What a pattern reached besides the files it takes, as the plan says it (files/find.ts finds it):
 * files outside the workspace that the pattern names (published, with a warning), files a
 * wildcard reached through a symbolic link leading outside (refused: nothing outside the workspace
 * leaves the runner unless named), folders a wildcard matched (not published whole, with a
 * warning). actions/upload-artifact refuses `..` in a pattern, follows every link and uploads
 * every matched folder whole; what is published here is public, hence the differences.
 */
import path from 'node:path'
import type { Found } from '../../files/find.js'
import { plural } from '../../util/text.js'

/** Where the messages of a pattern go (the manifest's). */
interface Said {
  problems: string[]
  warnings: string[]
}

/** The problems and warnings of what `pattern` reached; `where` names the input. */
export function sayReach(said: Said, where: string, pattern: string, found: Found, cwd: string) {
  const shown = (file: string) => shownPath(file, cwd)
  for (const { path: file, target } of found.escaped)
    said.problems.push(
      `${where}: '${pattern}' reaches ${shown(file)} through a symbolic link that leads outside ` +
        `the workspace (to ${target}); a link a wildcard walks into is never published: write its ` +
        `path in full to publish it, or leave it out with '!${shown(file)}'`,
    )
  if (found.outside.length > 0)
    said.warnings.push(
      `${where}: '${pattern}' takes ${plural(found.outside.length, 'file')} from outside the ` +
        `workspace (${listed(found.outside.map(shown))}): published, since the pattern names that place`,
    )
  if (found.folders.length > 0) said.warnings.push(`${where}: ${foldersLeft(pattern, found, cwd)}`)
}

/** What a pattern that matched folders only adds to its "no file matches". */
export function foldersHint(pattern: string, found: Found, cwd: string): string {
  return found.folders.length > 0 ? ` (${foldersLeft(pattern, found, cwd)})` : ''
}

function foldersLeft(pattern: string, found: Found, cwd: string): string {
  const first = shownPath(found.folders[0] as string, cwd)
  return (
    `'${pattern}' matches ${plural(found.folders.length, 'folder')} ` +
    `(${listed(found.folders.map((f) => shownPath(f, cwd)))}) whose files it does not publish: a ` +
    `wildcard does not take a folder's contents; name the folder ('${first}') or write ` +
    `'${first}/**' to publish them`
  )
}

/** At most five, then `...`. */
function listed(items: readonly string[]): string {
  return items.slice(0, 5).join(', ') + (items.length > 5 ? ', ...' : '')
}

/** A path as messages show it: relative to the workspace with `/`, else absolute. */
function shownPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file)
  return (relative.startsWith('..') ? file : relative).split(path.sep).join('/')
}
