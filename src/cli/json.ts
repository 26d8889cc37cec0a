/**
 * `--json`: the action's outputs under the action's own names (kebab-case), each value as JSON
 * rather than the string a workflow output has to be. On exit 2 the problems, with any output
 * known by then, so that a script reading stdout always gets one JSON document.
 */
import { OUTPUT_NAMES, type Report } from '../engine/report.js'

type OutputName = (typeof OUTPUT_NAMES)[number]

/** Outputs that are text, not a JSON value, in the action. */
const TEXT_OUTPUTS: ReadonlySet<OutputName> = new Set(['dataset-url', 'dataset-id'])

/**
 * The outputs as one object: `'true'` -> true, `'3'` -> 3, JSON text -> its value, `''` -> null.
 */
export function outputsJson(outputs: Report['outputs']): Record<OutputName, unknown> {
  return Object.fromEntries(
    OUTPUT_NAMES.map((name) => {
      const value = outputs[name]
      return [
        name,
        value === '' ? null : TEXT_OUTPUTS.has(name) ? value : (JSON.parse(value) as unknown),
      ]
    }),
  ) as Record<OutputName, unknown>
}

/**
 * The document for exit 2: `{problems: [...]}`, plus the outputs when the error carries a report.
 */
export function problemsJson(
  problems: readonly string[],
  report?: Pick<Report, 'outputs'>,
): Record<string, unknown> {
  return { problems, ...(report ? outputsJson(report.outputs) : {}) }
}

export function toJsonText(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`
}
