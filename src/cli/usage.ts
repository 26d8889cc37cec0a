/** `datagouv-publish --help`: what the CLI is, every flag, the environment, the exit codes. */
import { KEY_VARIABLE, OPTIONS } from './flags.js'

/** What to type, in one line: printed alone when the CLI gets no arguments. */
export const USAGE_LINE =
  'Usage: datagouv-publish --dataset <id-or-slug> [--files <glob>]... [--resources <yaml>] ' +
  '[options]'

export const USAGE = `${USAGE_LINE}

Publishes files and remote URLs into a data.gouv.fr dataset: the engine of the GitHub Action
"Publish to data.gouv.fr", from any shell. The API key is read from the ${KEY_VARIABLE}
environment variable (never from a flag).

Options (those that say what to publish mirror the action input of the same name;
--no-check-urls is check-urls: false):
${usageLines()}

Environment: ${KEY_VARIABLE} (the key; www and demo keys differ), HTTPS_PROXY, HTTP_PROXY and
NO_PROXY (honoured as curl honours them).

Values may start with a dash (--resources '- path: x.csv'); --resources and --dataset-metadata
take YAML or JSON inline, or @file to read it from a file.

Exit codes: 0 published (or nothing to do), 1 some entries failed (the others were published),
2 bad input or a problem found before publishing (nothing was written), 3 unexpected error,
130 interrupted (Ctrl-C).`

/** One flag a line, its help wrapped in a column, within 100 characters. */
function usageLines(): string {
  const rows = Object.entries(OPTIONS).map(([name, spec]) => {
    const flag =
      name === 'version'
        ? '--version'
        : name === 'help'
          ? '--help, -h'
          : `--${name}${spec.value ? ` ${spec.value}` : ''}`
    return [flag, spec.help] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return rows
    .map(
      ([flag, help]) =>
        `  ${flag.padEnd(width)}${wrap(help, 98 - width).join(`\n  ${' '.repeat(width)}`)}`,
    )
    .join('\n')
}

/** Words into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  return [...lines, line]
}
