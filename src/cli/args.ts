/**
 * The command line -> the flags given. Every value then goes through the action's own validation
 * (readSettings, after flags.ts's toInputs), so a bad value reads the same from both edges; here
 * only mistakes of the command line itself.
 */
import { parseArgs } from 'node:util'
import { OPTIONS, type Options } from './flags.js'
import { unknownOption } from './suggest.js'

/**
 * A mistake on the command line itself (exit 2, with a pointer to --help rather than a wall of
 * usage).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Parses the command line; throws UsageError with a message that says what to type instead. */
export function parseCommandLine(argv: readonly string[]): Options {
  const args = normalize(argv)
  return parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS })
    .values as Options
}

/**
 * Rewrites `--name value` as `--name=value` for every option that takes a value, so that a value
 * starting with a dash (inline YAML `- path: x.csv`, `-1`) is taken as the value rather than
 * refused as ambiguous. Only a token shaped like a flag (`--word`, `-h`) is never taken as a value:
 * `--dataset --dry-run` is a missing value, not a dataset called `--dry-run`.
 */
function normalize(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--')
      throw new UsageError(`'--' is not needed: datagouv-publish takes options only`)
    if (token.startsWith('--')) {
      const [name = '', ...rest] = token.slice(2).split('=')
      const spec = OPTIONS[name]
      if (spec === undefined) throw new UsageError(unknownOption(`--${name}`, name))
      const inline = rest.length > 0
      if (spec.type === 'boolean') {
        if (inline)
          throw new UsageError(`option '--${name}' is a switch and takes no value (got '${token}')`)
        out.push(token)
      } else if (inline) {
        out.push(token)
      } else {
        const value = argv[i + 1]
        if (value === undefined || looksLikeFlag(value)) {
          throw new UsageError(
            `option '--${name}' needs a value (${spec.value ?? 'a value'})${value === undefined ? '' : `, got the option '${value}'; for a value that looks like an option, write --${name}=VALUE`}`,
          )
        }
        out.push(`--${name}=${value}`)
        i++
      }
    } else if (token.startsWith('-') && token.length > 1) {
      if (token !== '-h') throw new UsageError(unknownOption(token, token.slice(1)))
      out.push(token)
    } else {
      throw new UsageError(
        `unexpected argument '${token}': datagouv-publish takes options only. If the shell expanded ` +
          `a glob (--files out/*.csv), quote it (--files 'out/*.csv'), or repeat --files for each ` +
          `file`,
      )
    }
  }
  return out
}

function looksLikeFlag(token: string): boolean {
  return /^--[A-Za-z][\w-]*(=|$)/.test(token) || /^-[A-Za-z]$/.test(token)
}
