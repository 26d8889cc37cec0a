import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import ts from 'typescript'
import { describe, expect, it } from 'vitest'

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

function longFunctions(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const lines = text.split('\n')
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const justified = lines
        .slice(Math.max(0, start - 4), start)
        .some((line) => /\/\/ Long: |\* Long: /.test(line))
      if (end - start + 1 > MAX_LINES && !justified)
        found.push(`${file}:${start + 1} (${end - start + 1} lines)`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('emulator structure', () => {
  it(`has no function longer than ${MAX_LINES} lines without a written reason`, () => {
    expect(sources().flatMap(({ file, text }) => longFunctions(file, text))).toEqual([])
  })

  it("imports nothing from the Action's src/", () => {
    const offenders = sources().filter(
      ({ text }) => /from '\.\.\/src\//.test(text) || /import\('\.\.\/src\//.test(text),
    )
    expect(offenders.map((s) => s.file)).toEqual([])
  })
})
