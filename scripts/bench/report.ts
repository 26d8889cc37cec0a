/** What a scenario hands back: its Markdown tables, and the targets checked on its figures. */
import type { Runtime } from './measure.js'

/** One runtime's figure for a target; `met` undefined: reported, the issue sets no limit. */
export interface Verdict {
  value: string
  met?: boolean
}

export interface Target {
  name: string
  limit: string
  /** By runtime label. */
  results: Record<string, Verdict>
}

export interface Section {
  /** `--only` name. */
  id: string
  title: string
  /** Method and tables, Markdown. */
  body: string
  targets: Target[]
}

/** A Markdown table; cells are written as given (prettier aligns them in BENCHMARKS.md). */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align?: ReadonlyArray<'l' | 'r'>,
): string {
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`
  const rule = header.map((_, i) =>
    (align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---',
  )
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n')
}

function verdictText(verdict: Verdict | undefined): string {
  if (verdict === undefined) return 'not measured'
  const word = verdict.met === undefined ? 'reported' : verdict.met ? '**met**' : '**missed**'
  return `${word}: ${verdict.value}`
}

/** Every target of every section, one row each, a column per runtime. */
export function targetsTable(sections: readonly Section[], runtimes: readonly Runtime[]): string {
  const rows = sections.flatMap((s) =>
    s.targets.map((t) => [
      t.name,
      t.limit,
      ...runtimes.map((r) => verdictText(t.results[r.label])),
    ]),
  )
  return table(['Target', 'Limit', ...runtimes.map((r) => `${r.label} (${r.version})`)], rows, [
    'l',
    'l',
    ...runtimes.map(() => 'l' as const),
  ])
}

/** The same as plain text for the terminal. */
export function targetsText(sections: readonly Section[], runtimes: readonly Runtime[]): string {
  const lines: string[] = []
  for (const section of sections) {
    for (const target of section.targets) {
      lines.push(`${target.name} (limit: ${target.limit})`)
      for (const runtime of runtimes)
        lines.push(
          `  ${runtime.label}: ${verdictText(target.results[runtime.label]).replace(/\*\*/g, '')}`,
        )
    }
  }
  return lines.join('\n')
}
