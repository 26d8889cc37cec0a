/**
 * How the text of one input becomes its value: each parser takes the input's name, for its
 * messages, and gives the zod schema of the value. The table of inputs (table.ts) picks one per
 * input; every message names the input and the accepted values.
 */
import { z } from 'zod'
import { parseApiUrl } from '../../datagouv/client.js'
import { toErrorMessage } from '../../util/errors.js'

/** The schema of one input's value, from its text (`''` when not given and without default). */
export type InputParser<T> = (input: string) => z.ZodType<T, string>

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
    z.string().min(1, `input '${input}' is required: ${hint}`)

export const oneOf =
  <T extends string>(values: readonly T[]): InputParser<T> =>
  (input) =>
    z.string().transform((value, ctx): T => {
      if ((values as readonly string[]).includes(value)) return value as T
      ctx.addIssue({
        code: 'custom',
        message: `input '${input}' must be one of ${values.map((v) => `'${v}'`).join(', ')}, got '${value}'`,
      })
      return z.NEVER
    })

export const boolean: InputParser<boolean> = (input) =>
  z.string().transform((value, ctx): boolean => {
    if (TRUE.includes(value)) return true
    if (FALSE.includes(value)) return false
    ctx.addIssue({
      code: 'custom',
      message: `input '${input}' must be 'true' or 'false', got '${value}'`,
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
        message: `input '${input}' must be a whole number of ${unit} from ${min} to ${max}, got '${value}'`,
      })
      return z.NEVER
    })

/** `90`, `90s`, `15m`, `1h`, `1h30m` -> seconds; `0` or `off` -> 0. At most a day. */
export const duration: InputParser<number> = (input) =>
  z.string().transform((value, ctx): number => {
    const text = value.trim().toLowerCase()
    if (text === 'off' || text === 'false') return 0
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text)
    const seconds =
      match && text !== ''
        ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
        : Number.NaN
    if (Number.isFinite(seconds) && seconds <= 86_400) return seconds
    ctx.addIssue({
      code: 'custom',
      message:
        `input '${input}' must be a duration such as 90s, 15m or 1h30m (at most 24h), or 0 to not ` +
        `wait, got '${value}'`,
    })
    return z.NEVER
  })

/** An instance by name (INSTANCES) or a udata origin, with or without /api/1 -> its origin. */
export const instance: InputParser<string> = (input) =>
  z.string().transform((value, ctx) => {
    try {
      return parseApiUrl((INSTANCES as Record<string, string>)[value] ?? value).origin
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `input '${input}': ${toErrorMessage(error)}` })
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
