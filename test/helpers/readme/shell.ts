/**
 * The structure of a shell block as bash reads it: statements (one per line, or split by `;` and
 * `&`), each a list of pipelines joined by `&&` / `||`, each a list of simple commands with their
 * words and redirections as written (quotes kept). Quotes, `\` escapes and continuations,
 * `$( … )` and comments are honoured; the words themselves are expanded by bash
 * (test/helpers/readme/terminal.ts), so nothing here interprets quotes or variables.
 */

export interface SimpleCommand {
  /** Its words as written, quotes kept, without its redirections. */
  words: string[]
  /** `>`, `>>`, `<`, `2>`, `2>&1`… with their target as written. */
  redirects: Array<{ op: string; target: string }>
  /** The command as written, redirections included. */
  source: string
}

export interface Pipeline {
  commands: SimpleCommand[]
  source: string
}

export interface Statement {
  /** Each pipeline with the operator before it (`''` for the first). */
  parts: Array<{ op: '' | '&&' | '||'; pipeline: Pipeline }>
  /** Ended by `&`. */
  background: boolean
  source: string
  /** 1-based line of the block where it starts. */
  line: number
}

type Token =
  | { kind: 'word'; text: string; start: number; end: number; line: number }
  | { kind: 'op'; op: string; start: number; end: number; line: number }

const OPS = ['&&', '||', '>>', '2>&1', '2>', '&>', '|', ';', '&', '>', '<', '\n']

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let line = 1
  let word: { start: number; line: number } | null = null
  const endWord = (end: number): void => {
    if (word !== null)
      tokens.push({
        kind: 'word',
        text: source.slice(word.start, end),
        start: word.start,
        end,
        line: word.line,
      })
    word = null
  }
  while (i < source.length) {
    const c = source[i] as string
    if (c === '\\' && source[i + 1] === '\n') {
      endWord(i)
      i += 2
      line++
      continue
    }
    if (word === null && c === '#') {
      while (i < source.length && source[i] !== '\n') i++
      continue
    }
    const op = OPS.find(
      (o) => source.startsWith(o, i) && (o !== '2>' && o !== '2>&1' ? true : word === null),
    )
    if (op !== undefined) {
      endWord(i)
      tokens.push({ kind: 'op', op, start: i, end: i + op.length, line })
      if (op === '\n') line++
      i += op.length
      continue
    }
    if (c === ' ' || c === '\t') {
      endWord(i)
      i++
      continue
    }
    word ??= { start: i, line }
    const after = skipQuoted(source, i)
    for (let k = i; k < after; k++) if (source[k] === '\n') line++
    i = after
  }
  endWord(i)
  return tokens
}

/** The index after the character at `i`, or after the quoted or substituted text it opens. */
function skipQuoted(source: string, i: number): number {
  const c = source[i]
  if (c === '\\') return i + 2
  if (c === "'") {
    const end = source.indexOf("'", i + 1)
    if (end < 0) throw new Error(`unclosed ' in: ${source.slice(i, i + 60)}`)
    return end + 1
  }
  if (c === '"') {
    let k = i + 1
    while (k < source.length && source[k] !== '"')
      k = source[k] === '\\' ? k + 2 : skipDollar(source, k)
    if (k >= source.length) throw new Error(`unclosed " in: ${source.slice(i, i + 60)}`)
    return k + 1
  }
  return skipDollar(source, i)
}

/** After `$( … )` (nested quotes and parentheses included) or one character. */
function skipDollar(source: string, i: number): number {
  if (!source.startsWith('$(', i)) return i + 1
  let depth = 0
  let k = i + 1
  while (k < source.length) {
    if (source[k] === '(') depth++
    else if (source[k] === ')' && --depth === 0) return k + 1
    k = source[k] === "'" || source[k] === '"' || source[k] === '\\' ? skipQuoted(source, k) : k + 1
  }
  throw new Error(`unclosed $( in: ${source.slice(i, i + 60)}`)
}

export function parseShell(source: string): Statement[] {
  const statements: Statement[] = []
  const tokens = tokenize(source)
  let i = 0
  while (i < tokens.length) {
    const first = tokens[i]
    if (first?.kind === 'op' && (first.op === '\n' || first.op === ';')) {
      i++
      continue
    }
    const statement: Statement = {
      parts: [],
      background: false,
      source: '',
      line: first?.line ?? 0,
    }
    let op: '' | '&&' | '||' = ''
    let pipeline: Pipeline = { commands: [], source: '' }
    let command: SimpleCommand = { words: [], redirects: [], source: '' }
    let start = first?.start ?? 0
    let commandStart = start
    let pipelineStart = start
    let end = start
    const closeCommand = (): void => {
      if (command.words.length === 0)
        throw new Error(`line ${statement.line}: an empty command in: ${source.slice(start, end)}`)
      command.source = source.slice(commandStart, end)
      pipeline.commands.push(command)
      command = { words: [], redirects: [], source: '' }
    }
    const closePipeline = (): void => {
      closeCommand()
      pipeline.source = source.slice(pipelineStart, end)
      statement.parts.push({ op, pipeline })
      pipeline = { commands: [], source: '' }
    }
    for (; i < tokens.length; i++) {
      const token = tokens[i] as Token
      if (token.kind === 'word') {
        if (command.words.length === 0 && command.redirects.length === 0) commandStart = token.start
        command.words.push(token.text)
        end = token.end
        continue
      }
      if (token.op === '\n' || token.op === ';' || token.op === '&') {
        statement.background = token.op === '&'
        i++
        break
      }
      if (token.op === '|' || token.op === '&&' || token.op === '||') {
        if (token.op === '|') closeCommand()
        else {
          closePipeline()
          op = token.op
        }
        // The next command starts at the next word.
        const next = tokens[i + 1]
        commandStart = next?.start ?? token.end
        if (token.op !== '|') pipelineStart = commandStart
        while (tokens[i + 1]?.kind === 'op' && (tokens[i + 1] as { op: string }).op === '\n') i++
        continue
      }
      if (token.op === '2>&1') {
        command.redirects.push({ op: token.op, target: '' })
        end = token.end
        continue
      }
      const target = tokens[i + 1]
      if (target?.kind !== 'word')
        throw new Error(`line ${token.line}: '${token.op}' without a file after it`)
      command.redirects.push({ op: token.op, target: target.text })
      end = target.end
      i++
    }
    closePipeline()
    statement.source = source.slice(start, end)
    statements.push(statement)
    start = end
  }
  return statements
}
