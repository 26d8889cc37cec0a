/**
 * A shell block of the README run as a terminal would run it, line by line (test/helpers/readme/
 * shell.ts reads its structure; bash expands every word). `datagouv-publish` (also as `npx
 * datagouv-publish` or `node dist/cli/index.js`) runs the CLI's `main()` in this process,
 * `udata-emulator` (`npx …`, `node dist/emulator/index.js`, `npm run emulator`) starts an
 * emulator in this process; `cd` and `export` change the terminal; the commands of the table's
 * rules (world.ts `commandRules`) are checked, not run; everything else runs in bash. Any line
 * that exits non-zero fails the example.
 */
import { spawn } from 'node:child_process'
import { appendFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { runCli } from '../run-cli.js'
import type { Scene } from './scene.js'
import { parseShell, type Pipeline, type SimpleCommand, type Statement } from './shell.js'
import { baseEnv } from './workflow.js'
import type { CommandRule } from './world.js'

/** Rules of the table a line used: a test fails on one no line uses. */
export const usedRules = new Set<string>()

interface Exit {
  code: number
  stdout: string
  stderr: string
}

/** The CLI's flags that print and exit without reaching an instance. */
const NO_INSTANCE = new Set(['--help', '-h', '--version'])

export class Terminal {
  constructor(
    private readonly scene: Scene,
    public cwd: string,
    private readonly env: Record<string, string>,
    private readonly rules: readonly CommandRule[],
  ) {}

  /** Every statement of `source`; throws at the first that fails. */
  async run(source: string): Promise<void> {
    const statements = parseShell(source)
    for (const [index, statement] of statements.entries()) {
      const code = await this.statement(statement)
      if (code === 'occupied') {
        if (index < statements.length - 1)
          throw new Error(
            `line ${statement.line}: the emulator keeps this terminal; what follows never runs: ` +
              `start it with & or in a block of its own`,
          )
        return
      }
      if (code !== 0)
        throw new Error(
          `line ${statement.line}: \`${statement.source}\` exited ${code}:\n${this.scene.transcript.join('\n')}`,
        )
    }
  }

  private async statement(statement: Statement): Promise<number | 'occupied'> {
    let code = 0
    for (const { op, pipeline } of statement.parts) {
      if ((op === '&&' && code !== 0) || (op === '||' && code === 0)) continue
      const result = await this.pipeline(pipeline, statement.background)
      if (result === 'occupied') return statement.background ? 0 : 'occupied'
      code = result
    }
    return code
  }

  private async pipeline(pipeline: Pipeline, background: boolean): Promise<number | 'occupied'> {
    const [first, ...rest] = pipeline.commands as [SimpleCommand, ...SimpleCommand[]]
    const words = await this.expand(first.words)
    this.scene.transcript.push(`$ ${this.scene.substitute(pipeline.source)}`)
    const [name = '', ...args] = words
    const own = inProcess(words)
    if (own === undefined) {
      for (const later of rest)
        if (inProcess(await this.expand(later.words)) !== undefined)
          throw new Error(
            `\`${pipeline.source}\`: only the first command of a pipeline runs in process`,
          )
      if (background)
        throw new Error(`\`${pipeline.source}\`: only an emulator runs in the background`)
      if (name === 'cd' && rest.length === 0) {
        this.cwd = path.resolve(this.cwd, args[0] ?? this.env.HOME ?? '.')
        return 0
      }
      if (name === 'export' && rest.length === 0) return this.exports(args)
      const rule = this.rules.find((r) => r.match.test(words.join(' ')))
      if (rule !== undefined && rest.length === 0) {
        usedRules.add(rule.match.source)
        rule.check(words)
        this.scene.transcript.push(`(not run here: ${rule.why})`)
        return 0
      }
      return this.shell(pipeline.source)
    }
    if (own.kind === 'emulator') {
      if (rest.length > 0 || first.redirects.length > 0)
        throw new Error(`\`${pipeline.source}\`: the emulator with a pipe or a redirection`)
      await this.scene.startEmulator(own.args, this.cwd)
      return 'occupied'
    }
    if (background)
      throw new Error(`\`${pipeline.source}\`: only an emulator runs in the background`)
    const exit = await this.cli(own.args)
    await this.redirect(first, exit)
    if (rest.length === 0) return exit.code
    if (exit.code !== 0) return exit.code
    const tail = rest.map((c) => c.source).join(' | ')
    return this.shell(tail, exit.stdout)
  }

  /** `export NAME=value…`. */
  private exports(assignments: string[]): number {
    for (const assignment of assignments) {
      const at = assignment.indexOf('=')
      if (at < 1) throw new Error(`export ${assignment}: only NAME=value is run here`)
      this.env[assignment.slice(0, at)] = assignment.slice(at + 1)
    }
    return 0
  }

  /** The CLI's `main()` with the terminal's environment; `--api-url` as the table says. */
  private async cli(args: string[]): Promise<Exit> {
    const proxy = Object.keys(this.env).filter((k) => /^(https?|all|no)_proxy$/i.test(k))
    if (proxy.length > 0)
      throw new Error(
        `${proxy.join(', ')}: every request here goes through the stand-in dispatcher, not a ` +
          `proxy; mark the section notRun in world.ts`,
      )
    const given = args.findIndex((a) => a === '--api-url' || a.startsWith('--api-url='))
    const full = [...args]
    if (given >= 0) {
      const inline = full[given]?.startsWith('--api-url=')
      const value = inline ? full[given]?.slice('--api-url='.length) : full[given + 1]
      full.splice(given, inline ? 1 : 2, '--api-url', this.scene.apiUrl(value))
    } else if (!args.some((a) => NO_INSTANCE.has(a)))
      full.push('--api-url', this.scene.apiUrl(undefined))
    const run = await runCli(full, {
      cwd: this.cwd,
      env: { ...baseEnv(), ...this.env },
      dispatcher: this.scene.dispatcher,
    })
    this.scene.transcript.push(run.stderr, run.stdout, `(exit ${String(run.code)})`)
    return { code: run.code ?? 1, stdout: run.stdout, stderr: run.stderr }
  }

  /** `>`, `>>`, `2>`, `2>&1` of a command run in process. */
  private async redirect(command: SimpleCommand, exit: Exit): Promise<void> {
    for (const { op, target } of command.redirects) {
      const [file = ''] = op === '2>&1' ? [] : await this.expand([target])
      const full = path.resolve(this.cwd, file)
      if (op === '>') await writeFile(full, exit.stdout)
      else if (op === '>>') await appendFile(full, exit.stdout)
      else if (op === '2>') await writeFile(full, exit.stderr)
      else if (op === '2>&1') exit.stdout += exit.stderr
      else throw new Error(`${op} ${target}: not run here`)
      if (op === '>' || op === '>>') exit.stdout = ''
    }
  }

  /** A pipeline run by bash, its output in the transcript. */
  private async shell(source: string, input?: string): Promise<number> {
    const exit = await bash(this.scene.substitute(source), this.cwd, this.bashEnv(), input)
    this.scene.transcript.push(exit.stdout + exit.stderr)
    return exit.code
  }

  /** Each word as bash makes it (quotes, variables, `$( )`, globs), from the terminal's state. */
  private async expand(words: string[]): Promise<string[]> {
    const script = `printf '%s\\0' ${words.map((w) => this.scene.substitute(w)).join(' ')}`
    const exit = await bash(script, this.cwd, this.bashEnv())
    if (exit.code !== 0)
      throw new Error(`bash could not read \`${words.join(' ')}\`: ${exit.stderr}`)
    return exit.stdout.split('\0').slice(0, -1)
  }

  private bashEnv(): Record<string, string> {
    return { ...baseEnv(), ...this.env }
  }
}

/** The command a terminal runs in this process, from its expanded words. */
function inProcess(words: string[]): { kind: 'cli' | 'emulator'; args: string[] } | undefined {
  const forms: Array<[string[], 'cli' | 'emulator']> = [
    [['datagouv-publish'], 'cli'],
    [['npx', 'datagouv-publish'], 'cli'],
    [['node', 'dist/cli/index.js'], 'cli'],
    [['udata-emulator'], 'emulator'],
    [['npx', 'udata-emulator'], 'emulator'],
    [['node', 'dist/emulator/index.js'], 'emulator'],
    [['npm', 'run', 'emulator', '--'], 'emulator'],
    [['npm', 'run', 'emulator'], 'emulator'],
  ]
  for (const [form, kind] of forms)
    if (form.every((word, i) => words[i] === word)) return { kind, args: words.slice(form.length) }
  return undefined
}

export async function bash(
  script: string,
  cwd: string,
  env: Record<string, string>,
  input?: string,
): Promise<Exit> {
  const child = spawn('bash', ['--noprofile', '--norc', '-o', 'pipefail', '-c', script], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  // A command that reads no input may exit before taking it.
  child.stdin.on('error', () => undefined)
  child.stdin.end(input ?? '')
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c) => resolve(c ?? 1))
  })
  return { code, stdout, stderr }
}
