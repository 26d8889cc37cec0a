import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'
import { longFunctions } from './helpers/long-functions.js'

/**
 * The emulator stays reviewable: no function longer than MAX_LINES unless a comment starting
 * with `Long:` in the lines just above it says why, and nothing imported from the Action's src/.
 */

const MAX_LINES = 60
const DIR = new URL('../emulator/', import.meta.url).pathname

function sources(): Array<{ file: string; text: string }> {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(join(DIR, file), 'utf8') }))
}

describe('emulator structure', () => {
  it(`has no function longer than ${MAX_LINES} lines without a written reason`, () => {
    expect(sources().flatMap(({ file, text }) => longFunctions(file, text, MAX_LINES))).toEqual([])
  })

  it("imports nothing from the Action's src/", () => {
    const offenders = sources().filter(
      ({ text }) => /from '\.\.\/src\//.test(text) || /import\('\.\.\/src\//.test(text),
    )
    expect(offenders.map((s) => s.file)).toEqual([])
  })
})
