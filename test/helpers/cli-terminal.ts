/**
 * The bundled CLI (dist/cli/index.js) as a long-running process: on a pseudo-terminal (util-linux
 * `script`, so that stderr is a TTY of a known size and Ctrl-C goes through the terminal's line
 * discipline as a user's would), or with plain pipes. The test waits for output, then interrupts
 * (test/bundle/ only).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFailed } from 'vitest'
import { actionNode } from '../../scripts/run-action.js'

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/index.js')

export interface CliProcess {
  child: ChildProcess
  /** Everything printed so far: stdout and stderr interleaved on a terminal, stderr alone with pipes. */
  output(): string
  stdout(): string
  /** Resolves once `pattern` appears in the output (the test's own timeout is the only limit). */
  waitFor(pattern: RegExp): Promise<void>
  /** Ctrl-C: the interrupt character on a terminal, SIGINT with pipes. */
  interrupt(): void
  exit: Promise<number | null>
}

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`

export function startCli(
  args: string[],
  options: {
    cwd: string
    env?: Record<string, string>
    terminal?: { columns: number; rows: number }
  },
): CliProcess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATAGOUV_PUBLISH_RETRY_BASE_MS: '50',
    ...options.env,
  }
  const node = actionNode()
  const { terminal } = options
  const child = terminal
    ? spawn(
        'script',
        [
          '-qfec',
          `stty cols ${terminal.columns} rows ${terminal.rows}; exec ${[node, CLI, ...args].map(quote).join(' ')}`,
          '/dev/null',
        ],
        {
          cwd: options.cwd,
          env: { TERM: 'xterm-256color', ...env },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      )
    : spawn(node, [CLI, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let stdout = ''
  const waiters = new Set<() => void>()
  const append = (chunk: string): void => {
    output += chunk
    for (const check of waiters) check()
  }
  child.stdout
    ?.setEncoding('utf8')
    .on('data', (c: string) => (terminal ? append(c) : (stdout += c)))
  child.stderr?.setEncoding('utf8').on('data', (c: string) => append(c))
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  // A test that fails (its own timeout included, waiting for output that never came) shows what
  // the CLI printed.
  onTestFailed(() => console.error(`the CLI printed:\n${output}`))
  return {
    child,
    output: () => output,
    stdout: () => (terminal ? output : stdout),
    waitFor(pattern) {
      return new Promise((resolve) => {
        const check = (): void => {
          if (!pattern.test(output)) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
      })
    },
    interrupt() {
      if (terminal) child.stdin?.write('\x03')
      else child.kill('SIGINT')
    },
    exit,
  }
}

/** The screen text without colour and cursor sequences (what a terminal would show, roughly). */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
}
