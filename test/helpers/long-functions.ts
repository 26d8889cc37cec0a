import ts from 'typescript'

/**
 * Functions longer than `max` lines in a TypeScript source, as `file:line (n lines)`, unless a
 * comment starting with `Long:` in the four lines above one says why.
 */
export function longFunctions(file: string, text: string, max = 60): string[] {
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
      if (end - start + 1 > max && !justified)
        found.push(`${file}:${start + 1} (${end - start + 1} lines)`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}
