/**
 * How the text of one input becomes its value: each parser takes the input's name, for its
 * messages (named through naming.ts, in the edge's words), and gives the zod schema of the value.
 * The table of inputs (table.ts) picks one per input; every message names the input, the value
 * given and the accepted values. Durations and sizes are written one way for every input: `90s`,
 * `15m`, `1h30m` (a bare number is seconds) and `20MB`, `8MiB` (a bare number is bytes).
 */
import { z } from 'zod'
import { parseApiUrl } from '../../datagouv/client.js'
import { toErrorMessage } from '../../util/errors.js'
import { closest, didYouMean } from '../../util/suggest.js'
import { inputName } from './naming.js'
import type { InputName } from './table.js'

/**
 * The schema of one input's value, from its text (`''` when not given and without default).
 * `input` is an input's name (`InputName`, which this type cannot name: the table's type is made
 * from its parsers).
 */
export type InputParser<T> = (input: string) => z.ZodType<T, string>

/** How messages name `input` (naming.ts). */
const named = (input: string): string => inputName(input as InputName)

/** The public data.gouv.fr instances by name, as the official Python client names them. */
const INSTANCES = {
  www: 'https://www.data.gouv.fr',
  demo: 'https://demo.data.gouv.fr',
  dev: 'https://dev.data.gouv.fr',
} as const

const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

/** Whether a boolean input's text says true (what `boolean` accepts as true). */
export const isTrue = (text: string | undefined): boolean => TRUE.includes(text ?? '')

/** Non-empty lines, trimmed; `#` starts a comment line. */
export const lines: InputParser<string[]> = () =>
  z.string().transform((value) =>
    value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  )

/** The text as given; `''` (not given) is `undefined`. */
export const optionalText: InputParser<string | undefined> = () =>
  z.string().transform((value) => (value === '' ? undefined : value))

/** The text as given, which must not be empty; `hint` says what to give. */
export const requiredText =
  (hint: string): InputParser<string> =>
  (input) =>
    z.string().transform((value, ctx) => {
      if (value !== '') return value
      ctx.addIssue({ code: 'custom', message: `${named(input)} is required: ${hint}` })
      return z.NEVER
    })

export const oneOf =
  <T extends string>(values: readonly T[]): InputParser<T> =>
  (input) =>
    z.string().transform((value, ctx): T => {
      if ((values as readonly string[]).includes(value)) return value as T
      ctx.addIssue({
        code: 'custom',
        message: `${named(input)} must be one of ${values.map((v) => `'${v}'`).join(', ')}, got '${value}'${didYouMean(value, values)}`,
      })
      return z.NEVER
    })

export const boolean: InputParser<boolean> = (input) =>
  z.string().transform((value, ctx): boolean => {
    if (TRUE.includes(value)) return true
    if (FALSE.includes(value)) return false
    ctx.addIssue({
      code: 'custom',
      message: `${named(input)} must be 'true' or 'false', got '${value}'`,
    })
    return z.NEVER
  })

export const wholeNumber =
  (min: number, max: number, unit: string): InputParser<number> =>
  (input) =>
    z.string().transform((value, ctx): number => {
      const number = /^\d+$/.test(value) ? Number(value) : Number.NaN
      if (Number.isSafeInteger(number) && number >= min && number <= max) return number
      ctx.addIssue({
        code: 'custom',
        message: `${named(input)} must be a whole number of ${unit} from ${min} to ${max}, got '${value}'`,
      })
      return z.NEVER
    })

/**
 * `auto`, or a value `parser` accepts: its message then names `auto` among the accepted values.
 */
export const autoOr =
  <T>(parser: InputParser<T>): InputParser<T | 'auto'> =>
  (input) =>
    z.string().transform((value, ctx): T | 'auto' => {
      if (value === 'auto') return 'auto'
      const parsed = parser(input).safeParse(value)
      if (parsed.success) return parsed.data
      for (const issue of parsed.error.issues)
        ctx.addIssue({
          code: 'custom',
          message: issue.message.replace(' must be ', " must be 'auto' or "),
        })
      return z.NEVER
    })

/** `90`, `90s`, `15m`, `1h`, `1h30m`, `1h 30m` -> seconds. */
function parseDuration(text: string): number | undefined {
  const compact = text.trim().toLowerCase().replace(/\s+/g, '')
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(compact)
  if (match === null || compact === '') return undefined
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
}

/**
 * A duration in seconds, from `min` to `max`: `90`, `90s`, `15m`, `1h30m`; with `off`, also `0`,
 * `off` or `false` for none.
 */
export const duration =
  (min: number, max: number, off = false): InputParser<number> =>
  (input) =>
    z.string().transform((value, ctx): number => {
      const text = value.trim().toLowerCase()
      if (off && (text === 'off' || text === 'false')) return 0
      const seconds = parseDuration(text)
      if (seconds !== undefined && (seconds >= min || (off && seconds === 0)) && seconds <= max)
        return seconds
      const range = `${off ? 'at most' : `from ${words(min)} to`} ${words(max)}`
      ctx.addIssue({
        code: 'custom',
        message:
          `${named(input)} must be a duration such as 90s, 15m or 1h30m (a bare number is ` +
          `seconds), ${range}${off ? ', or 0 for none' : ''}, got '${value}'`,
      })
      return z.NEVER
    })

/** `86400` -> `24h`, `90` -> `1m30s`: how a duration is written back. */
function words(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || seconds === 0 ? `${s}s` : ''}`
}

/** Bytes per unit: kB, MB, GB are powers of 1000 (as udata and the web front count), KiB... of 1024. */
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
}

/** `5000000`, `20MB`, `20 MB`, `1.5GB`, `8MiB` -> bytes (whole). */
function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text.trim().toLowerCase())
  const unit = match === null ? undefined : UNITS[match[2] ?? '']
  return match !== null && unit !== undefined ? Math.round(Number(match[1]) * unit) : undefined
}

/** A size in bytes, from `min` to `max`: `5000000`, `20MB`, `8MiB`. */
export const size =
  (min: number, max: number): InputParser<number> =>
  (input) =>
    z.string().transform((value, ctx): number => {
      const bytes = parseSize(value)
      if (bytes !== undefined && bytes >= min && bytes <= max) return bytes
      ctx.addIssue({
        code: 'custom',
        message:
          `${named(input)} must be a size such as 20MB, 8MiB or 5000000 (a bare number is ` +
          `bytes; kB, MB, GB count by 1000, KiB, MiB, GiB by 1024), from ${min} to ${max} bytes, ` +
          `got '${value}'`,
      })
      return z.NEVER
    })

/** An instance by name (INSTANCES) or a udata origin, with or without /api/1 -> its origin. */
export const instance: InputParser<string> = (input) =>
  z.string().transform((value, ctx) => {
    try {
      return parseApiUrl((INSTANCES as Record<string, string>)[value] ?? value).origin
    } catch (error) {
      const near = closest(value, Object.keys(INSTANCES))
      const why = /^[\w.-]+$/.test(value)
        ? `'${value}' is neither an instance name nor a URL${near ? ` (did you mean '${near}'?)` : ''}`
        : toErrorMessage(error)
      const accepted = Object.entries(INSTANCES)
        .map(([name, url]) => `${name} (${url})`)
        .join(', ')
      ctx.addIssue({
        code: 'custom',
        message:
          `${named(input)}: ${why}. Accepted: an instance name, ${accepted}, or the https:// ` +
          `origin of a udata instance, optionally followed by /api/1`,
      })
      return z.NEVER
    }
  })

/**
 * A document parsed by `parse` (entries.ts), whose error message, naming the input, becomes the
 * problem as it is.
 */
export const document =
  <T>(parse: (text: string) => T): InputParser<T> =>
  () =>
    z.string().transform((value, ctx) => {
      try {
        return parse(value)
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: toErrorMessage(error) })
        return z.NEVER
      }
    })

/**
 * A token the workflow gives (`github-token`, whose default is `${{ github.token }}`); `undefined`
 * when empty, or when the expression was not substituted (outside a workflow run: the CLI,
 * `npm run local-action`).
 */
export const workflowToken: InputParser<string | undefined> = () =>
  z
    .string()
    .transform((value) => (value === '' || /^\$\{\{.*\}\}$/.test(value) ? undefined : value))
