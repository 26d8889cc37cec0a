/**
 * GitHub Actions' `${{ … }}` expressions, as far as the README's examples use them: contexts
 * (`github.event.release.tag_name`, `secrets.X`, `steps.<id>.outputs.<name>`, `matrix.x`, `env.X`),
 * string, number and boolean literals, `==`, `!=`, `!`, `&&`, `||`, parentheses, and the
 * functions of `FUNCTIONS`. A name the contexts do not hold, or a function or syntax outside this
 * list, throws: an example that uses it fails instead of being evaluated to `''` as GitHub would
 * for a missing property (a typo in an output's name must not pass).
 */

/** What an expression can see: the contexts by name, each a plain object. */
export type Contexts = Readonly<Record<string, unknown>>

/** The functions an expression may call; `status` is whether every previous step succeeded. */
const FUNCTIONS: Readonly<
  Record<string, (args: unknown[], status: { failed: boolean }) => unknown>
> = {
  success: (_, status) => !status.failed,
  failure: (_, status) => status.failed,
  always: () => true,
  contains: ([haystack, needle]) =>
    Array.isArray(haystack)
      ? haystack.some((item) => equal(item, needle))
      : text(haystack).toLowerCase().includes(text(needle).toLowerCase()),
  startsWith: ([value, prefix]) => text(value).toLowerCase().startsWith(text(prefix).toLowerCase()),
  fromJSON: ([value]) => JSON.parse(text(value)) as unknown,
  toJSON: ([value]) => JSON.stringify(value, null, 2),
}

type Token =
  | { kind: 'literal'; value: unknown }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }

const OPERATORS = ['==', '!=', '&&', '||', '!', '(', ')', '[', ']', '.', ',']

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const rest = source.slice(i)
    const space = /^\s+/.exec(rest)
    if (space) {
      i += space[0].length
      continue
    }
    const string = /^'((?:[^']|'')*)'/.exec(rest)
    const number = /^-?\d+(\.\d+)?/.exec(rest)
    const name = /^[A-Za-z_][\w-]*/.exec(rest)
    const op = OPERATORS.find((o) => rest.startsWith(o))
    if (string) {
      tokens.push({ kind: 'literal', value: (string[1] ?? '').replace(/''/g, "'") })
      i += string[0].length
    } else if (number) {
      tokens.push({ kind: 'literal', value: Number(number[0]) })
      i += number[0].length
    } else if (name) {
      const word = name[0]
      const literals: Record<string, unknown> = { true: true, false: false, null: null }
      tokens.push(
        word in literals
          ? { kind: 'literal', value: literals[word] }
          : { kind: 'name', value: word },
      )
      i += word.length
    } else if (op !== undefined) {
      tokens.push({ kind: 'op', value: op })
      i += op.length
    } else throw new Error(`expression '${source}': cannot read '${rest}'`)
  }
  return tokens
}

/** A recursive-descent evaluator over the tokens of one expression. */
class Evaluator {
  private at = 0
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
    private readonly contexts: Contexts,
    private readonly status: { failed: boolean },
  ) {}

  evaluate(): unknown {
    const value = this.or()
    if (this.at < this.tokens.length) this.fail('unexpected text after the expression')
    return value
  }

  private peek(op: string): boolean {
    const token = this.tokens[this.at]
    return token?.kind === 'op' && token.value === op
  }

  private expect(op: string): void {
    if (!this.peek(op)) this.fail(`'${op}' expected`)
    this.at++
  }

  private fail(message: string): never {
    throw new Error(`expression '${this.source}': ${message}`)
  }

  private or(): unknown {
    return this.chain(
      '||',
      () => this.and(),
      (left, right) => (truthy(left) ? left : right),
    )
  }

  private and(): unknown {
    return this.chain(
      '&&',
      () => this.comparison(),
      (left, right) => (truthy(left) ? right : left),
    )
  }

  /** `next (op next)*`, folded left with `combine` (both sides evaluated: no side effects here). */
  private chain(
    op: string,
    next: () => unknown,
    combine: (left: unknown, right: unknown) => unknown,
  ): unknown {
    let value = next()
    while (this.peek(op)) {
      this.at++
      value = combine(value, next())
    }
    return value
  }

  private comparison(): unknown {
    const left = this.unary()
    for (const op of ['==', '!=']) {
      if (this.peek(op)) {
        this.at++
        const same = equal(left, this.unary())
        return op === '==' ? same : !same
      }
    }
    return left
  }

  private unary(): unknown {
    if (this.peek('!')) {
      this.at++
      return !truthy(this.unary())
    }
    return this.primary()
  }

  private primary(): unknown {
    const token = this.tokens[this.at++]
    if (token === undefined) this.fail('the expression ends too soon')
    if (token.kind === 'literal') return token.value
    if (token.kind === 'op' && token.value === '(') {
      const value = this.or()
      this.expect(')')
      return value
    }
    if (token.kind !== 'name') this.fail(`unexpected '${token.value}'`)
    if (this.peek('(')) return this.call(token.value)
    return this.path(token.value)
  }

  private call(name: string): unknown {
    const fn = FUNCTIONS[name]
    if (fn === undefined)
      this.fail(`unknown function ${name}() (known: ${Object.keys(FUNCTIONS).join(', ')})`)
    this.expect('(')
    const args: unknown[] = []
    while (!this.peek(')')) {
      args.push(this.or())
      if (!this.peek(')')) this.expect(',')
    }
    this.at++
    return fn(args, this.status)
  }

  private path(root: string): unknown {
    if (!(root in this.contexts))
      this.fail(`unknown context '${root}' (known: ${Object.keys(this.contexts).join(', ')})`)
    let value = this.contexts[root]
    let name = root
    for (;;) {
      let key: string
      if (this.peek('.')) {
        this.at++
        const token = this.tokens[this.at++]
        if (token?.kind !== 'name') this.fail(`a property name expected after '${name}.'`)
        key = token.value
      } else if (this.peek('[')) {
        this.at++
        key = text(this.or())
        this.expect(']')
      } else return value
      if (value === null || typeof value !== 'object' || !(key in value)) {
        const known =
          value !== null && typeof value === 'object' ? Object.keys(value).join(', ') : 'none'
        this.fail(`'${name}' has no '${key}' (it has: ${known || 'nothing'})`)
      }
      value = (value as Record<string, unknown>)[key]
      name = `${name}.${key}`
    }
  }
}

function truthy(value: unknown): boolean {
  return value !== '' && value !== 0 && value !== null && value !== false && value !== undefined
}

/** GitHub's `==`: strings compare ignoring case; values of different types compare as numbers. */
function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase()
  if (typeof a !== typeof b) return Number(a) === Number(b)
  return a === b
}

/** A value as GitHub puts it into a string. */
function text(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value, null, 2)
}

/** One expression, `${{ }}` around it or not (as `if:` takes it). */
export function evaluate(
  expression: string,
  contexts: Contexts,
  status = { failed: false },
): unknown {
  const source = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
  return new Evaluator(source, tokenize(source), contexts, status).evaluate()
}

/** Every `${{ … }}` of a string replaced by its value. */
export function interpolate(template: string, contexts: Contexts): string {
  return template.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expression: string) =>
    text(evaluate(expression, contexts)),
  )
}

/** `if:` of a step: success() when absent, else the expression's truth. */
export function condition(
  expression: string | undefined,
  contexts: Contexts,
  status: { failed: boolean },
): boolean {
  if (expression === undefined) return !status.failed
  const value = truthy(evaluate(expression, contexts, status))
  // GitHub adds success() to a condition that calls none of the status functions.
  return /\b(success|failure|always|cancelled)\(/.test(expression) ? value : value && !status.failed
}
