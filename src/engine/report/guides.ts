/**
 * What the report says of data.gouv.fr's guides: the quality score after the run (quality.ts) and
 * the files checked before they went (checks.ts), in the job summary and the outputs.
 */
import type { FileCheck } from '../checks.js'
import type { Result } from '../publish.js'
import { percent, type QualityReport } from '../quality.js'
import { formatBytes } from '../../util/text.js'

/** The `checks` of an item of the `resources` output. */
export function checksOutput(check: FileCheck): Record<string, unknown> {
  return {
    format: check.format,
    converted: check.converted,
    platform: check.platform,
    limit: check.limit,
    ...(check.csv ?? {}),
    warnings: check.warnings,
    notes: check.notes,
  }
}

/** The summary's section on the quality score; none when there is nothing to say. */
export function qualityLines(quality: QualityReport | null | undefined, dryRun: boolean): string[] {
  if (quality === undefined) return []
  if (quality === null) return ['_The instance does not report a quality score for datasets._']
  const met = quality.criteria.filter((c) => c.met).length
  const when =
    quality.when === 'after'
      ? ''
      : dryRun
        ? ', before this run (a dry run writes nothing)'
        : ', as the dataset stands (this run wrote nothing)'
  const lines = [
    `#### Quality score: ${percent(quality.score)} (${met} of ${quality.criteria.length} criteria met${when})`,
    '',
  ]
  const missing = quality.criteria.filter((c) => !c.met)
  if (missing.length === 0) return [...lines, 'Every criterion of data.gouv.fr is met.']
  lines.push('| Not met | What to do |', '| --- | --- |')
  for (const c of missing) lines.push(`| ${cell(c.label)} (\`${c.id}\`) | ${cell(c.advice)} |`)
  return lines
}

/** The summary's section on the files checked before they went; none when none was. */
export function checksLines(results: readonly Result[]): string[] {
  const checked = results.flatMap((r) =>
    r.step.kind === 'file' && r.step.checks !== undefined
      ? [{ source: r.step.entry.source, size: r.step.entry.size, check: r.step.checks }]
      : [],
  )
  if (checked.length === 0) return []
  const lines = [
    '#### Files checked for data.gouv.fr',
    '',
    '| Source | Format | Encoding, separator | Columns | data.gouv.fr | Warnings and notes |',
    '| --- | --- | --- | ---: | --- | --- |',
  ]
  for (const { source, size, check } of checked) {
    const csv = check.csv
    const read = csv ? `${csv.encoding}${csv.bom ? ' (BOM)' : ''}, \`${shown(csv.separator)}\`` : ''
    const verdict = check.converted ? 'converts it (preview, tabular API)' : 'will not convert it'
    const said = [...check.warnings.map((w) => `⚠ ${w}`), ...check.notes].join('; ')
    lines.push(
      `| \`${cell(source)}\` | ${check.format}, ${formatBytes(size)} | ${read} | ${csv?.columns ?? ''} | ${verdict} | ${cell(said)} |`,
    )
  }
  return lines
}

function shown(separator: string): string {
  return separator === '\t' ? 'tab' : separator === '|' ? '\\|' : separator
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;')
}
