/** The fenced code blocks of a markdown document, with the heading they stand under. */

export interface CodeBlock {
  /** The fence's language (`yaml`, `sh`…), `''` when none. */
  lang: string
  /** The lines between the fences, without the fence's indentation. */
  text: string
  /** 1-based line of the opening fence. */
  line: number
  /** The text of the nearest heading above it (`## …`, `### …`). */
  heading: string
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = markdown.split('\n')
  let heading = ''
  let open: { fence: string; indent: number; lang: string; line: number; body: string[] } | null =
    null
  lines.forEach((line, index) => {
    if (open !== null) {
      if (line.trim() === open.fence) {
        blocks.push({
          lang: open.lang,
          text: open.body.map((l) => l.slice(Math.min(open?.indent ?? 0, indentOf(l)))).join('\n'),
          line: open.line,
          heading,
        })
        open = null
      } else open.body.push(line)
      return
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(line)
    if (fence) {
      const [, indent = '', marks = '', lang = ''] = fence
      open = { fence: marks, indent: indent.length, lang, line: index + 1, body: [] }
      return
    }
    const title = /^#{1,6}\s+(.*?)\s*#*$/.exec(line)
    if (title) heading = title[1] ?? ''
  })
  if (open !== null)
    throw new Error(`README.md:${(open as { line: number }).line}: unclosed code block`)
  return blocks
}

function indentOf(line: string): number {
  return /^\s*/.exec(line)?.[0].length ?? 0
}
