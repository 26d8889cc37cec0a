/**
 * datagouv-publish: the same engine as the action, from a terminal, GitLab CI or cron. Flags
 * mirror the action's inputs; the key comes from DATAGOUV_API_KEY (never a flag, which would land
 * in shell history and process lists). Logs and progress go to stderr; the result table, or with
 * --json the action's outputs, to stdout.
 */
import type { Http } from '../datagouv/http.js'
import { toErrorMessage } from '../util/errors.js'
import { baseDelayFromEnv } from '../datagouv/retry.js'
import { execute, failureSummary } from '../engine/engine.js'
import { InputError, readSettings, type Settings } from '../engine/inputs.js'
import { PreflightError } from '../engine/preflight.js'
import type { Report } from '../engine/report.js'
import { VERSION } from '../version.js'
import { gitProvenance } from './provenance.js'
import { parseCommandLine, UsageError } from './args.js'
import { CLI_NAMING, MISSING_KEY, toInputs, type Options } from './flags.js'
import { diffSection } from './diff.js'
import { outputsJson, problemsJson, toJsonText } from './json.js'
import { terminalReporter, type CliReporter, type Output } from './terminal.js'
import { closingLine, resultText } from './text.js'
import { USAGE, USAGE_LINE } from './usage.js'

const EXIT = { ok: 0, failed: 1, usage: 2, error: 3, interrupted: 130 } as const

/** What the CLI takes from its process: index.ts passes the real ones, tests their own. */
export interface Io {
  stdout: Output
  stderr: Output
  /** The key, the proxy variables, TERM, the retry knob of the tests. */
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /** Every request goes through it instead of `NodeHttp` built from `env` (tests). */
  http?: Http
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const json = argv.includes('--json')
  const fail = (code: number, problems: string[], report?: Pick<Report, 'outputs'>): number => {
    for (const problem of problems) io.stderr.write(`error: ${problem}\n`)
    if (json)
      io.stdout.write(
        toJsonText(
          code === EXIT.usage ? problemsJson(problems, report) : { error: problems.join('\n') },
        ),
      )
    return code
  }

  if (argv.length === 0) {
    io.stderr.write(`${USAGE_LINE}\nRun 'datagouv-publish --help' for the options.\n`)
    return EXIT.usage
  }
  let options: Options
  try {
    options = parseCommandLine(argv)
  } catch (error) {
    const code = fail(EXIT.usage, [toErrorMessage(error)])
    if (error instanceof UsageError || error instanceof TypeError)
      io.stderr.write("Run 'datagouv-publish --help' for the options.\n")
    return code
  }
  if (options.help === true) {
    io.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (options.version === true) {
    io.stdout.write(`${VERSION}\n`)
    return EXIT.ok
  }

  let settings: Settings
  try {
    const inputs = toInputs(options, io.env, io.cwd)
    settings = readSettings((name) => inputs[name] ?? '', {
      missingKey: MISSING_KEY,
      naming: CLI_NAMING,
    })
  } catch (error) {
    return fail(error instanceof InputError ? EXIT.usage : EXIT.error, problemsOf(error))
  }

  return publishFromTerminal(settings, options, io, json, fail)
}

/** The publication itself, with the terminal's progress, and its exit code. */
async function publishFromTerminal(
  settings: Settings,
  options: Options,
  io: Io,
  json: boolean,
  fail: (code: number, problems: string[]) => number,
): Promise<number> {
  const reporter = terminalReporter({
    stream: io.stderr,
    verbose: options.verbose === true,
    dryRun: settings.dryRun,
    chunkSize: settings.chunkSize,
    // A terminal that cannot move its cursor (TERM=dumb: Emacs shells, some CI consoles) gets the
    // log lines.
    interactive: io.stderr.isTTY === true && io.env.TERM !== 'dumb',
  })
  const stopOnSignal = onInterrupt(reporter, io.stderr)
  const startedAt = Date.now()
  try {
    const { baseDelayMs } = baseDelayFromEnv(io.env)
    const outcome = await execute(settings, reporter, {
      cwd: io.cwd,
      userAgent: `datagouv-publish-cli/${VERSION}`,
      diff: options.diff === true,
      provenance: gitProvenance(io.cwd),
      env: io.env,
      naming: CLI_NAMING,
      ...(io.http !== undefined ? { http: io.http } : {}),
      ...(baseDelayMs !== undefined ? { retryBaseDelayMs: baseDelayMs } : {}),
    })
    reporter.done()
    const width = io.stdout.columns || 80
    io.stdout.write(
      json
        ? toJsonText(outputsJson(outcome.report.outputs))
        : `${resultText(outcome, reporter.shownPlan, width)}\n` +
            diffSection(outcome.report, options.diff === true),
    )
    const failed = failureSummary(outcome)
    for (const failure of outcome.report.failures) io.stderr.write(`error: ${failure}\n`)
    if (failed !== undefined) io.stderr.write(`${failed}\n`)
    io.stderr.write(`${closingLine(outcome, settings.dryRun, Date.now() - startedAt)}\n`)
    return failed === undefined ? EXIT.ok : EXIT.failed
  } catch (error) {
    reporter.done()
    const usage = error instanceof InputError || error instanceof PreflightError
    if (!usage) return fail(EXIT.error, [toErrorMessage(error)])
    io.stderr.write(`error: ${toErrorMessage(error)}\n`)
    if (json) io.stdout.write(toJsonText(problemsJson(problemsOf(error), reportOf(error))))
    return EXIT.usage
  } finally {
    stopOnSignal()
  }
}

/** The problems an input or preflight error lists, one per item. */
function problemsOf(error: unknown): string[] {
  if (error instanceof PreflightError) return error.problems
  return toErrorMessage(error)
    .split('\n')
    .filter((line) => line.trim() !== '')
}

/** The outputs known when the preflight stopped, when the error carries them. */
function reportOf(error: unknown): Pick<Report, 'outputs'> | undefined {
  const report =
    error instanceof PreflightError ? (error as { report?: unknown }).report : undefined
  return report !== null && typeof report === 'object' && 'outputs' in report
    ? (report as Pick<Report, 'outputs'>)
    : undefined
}

/**
 * Ctrl-C (SIGINT) or a CI's cancel (SIGTERM): stop drawing, say what was cut and what the server
 * holds, and exit at once with 128 + the signal number (the engine's requests die with the
 * process; the server discards what was not complete). Returns the function that removes the
 * handlers.
 */
function onInterrupt(reporter: CliReporter, stderr: Output): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = (): void => {
      reporter.done()
      const name = signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'
      stderr.write(`\n${reporter.interrupted(name).join('\n')}\n`)
      process.exit(signal === 'SIGINT' ? EXIT.interrupted : 143)
    }
    process.once(signal, handler)
    return [signal, handler] as const
  })
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler)
  }
}
