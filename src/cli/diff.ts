/**
 * `--diff`: the data diff of each file that replaces a published one (what changes in its rows and
 * columns), computed before anything is written and printed on stdout after the result table;
 * with `--json` it is the `diff` output. Without `--diff` nothing is downloaded to compare.
 */
import type { Report } from '../engine/report.js'

export const DIFF_OPTION = {
  type: 'boolean',
  help:
    'compare each CSV replacing a published one with it (rows added, removed, changed; ' +
    'columns) and print it; other files by size and checksum',
} as const

/** What stdout gets after the result table without --json: the diff, when asked for. */
export function diffSection(report: Report, diff: boolean): string {
  if (!diff) return ''
  return `\n${report.diffText || 'Data diff: no file replaces a published one'}\n`
}
