#!/usr/bin/env node
/**
 * datagouv-publish: the same engine as the action, from a terminal, GitLab CI or cron. Flags
 * mirror the action's inputs; the key comes from DATAGOUV_API_KEY (never a flag, which would land
 * in shell history and process lists).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { toErrorMessage } from '../datagouv/errors.js'
import { execute, failureSummary, type Outcome, type Reporter } from '../engine/engine.js'
import { InputError, readSettings, type InputName } from '../engine/inputs.js'
import type { FileEntry } from '../engine/manifest.js'
import { PreflightError } from '../engine/preflight.js'
import { formatBytes } from '../engine/report.js'
import { VERSION } from '../version.js'

export const EXIT = { ok: 0, failed: 1, usage: 2, error: 3 } as const

const USAGE = `Usage: datagouv-publish --dataset <id-or-slug> [options]

Publishes files and remote URLs into a data.gouv.fr dataset: the engine of the GitHub Action
"Publish to data.gouv.fr", from any shell. The API key is read from the DATAGOUV_API_KEY
environment variable (never from a flag).

Options (each mirrors the action input of the same name):
  --dataset <id|slug>           dataset to publish into (required)
  --api-url <url>               instance origin (default https://www.data.gouv.fr; https://demo.data.gouv.fr to rehearse)
  --files <glob>                local files to publish; repeat for several; prefix ! to exclude
  --resources <yaml|@file>      entries {path|url, id?, title?, description?, type?, format?, schema?, extras?}
  --dataset-metadata <yaml|@file>  partial patch of the dataset (title, description, tags, frequency, ...)
  --remove <id|stored-name>     resource to delete; repeat for several
  --create-missing              create resources for files or URLs that match none
  --dry-run                     plan and report, send no write request (no key needed for a public dataset)
  --if-no-files-found <mode>    error (default), warn or ignore
  --include-hidden-files        also publish files and folders whose name starts with a dot
  --if-unchanged <mode>         skip (default) or upload
  --no-check-urls               do not check remote URLs before signalling them
  --chunk-size <bytes>          bytes per request; larger files go in parts (default 20000000)
  --concurrency <n>             files uploaded at once (default 3)
  --max-retries <n>             retries after network errors, 408, 429, 5xx (default 5)
  --timeout <seconds>           per request (default 300)
  --json                        print the result as JSON on stdout (logs stay on stderr)
  --verbose                     log every request
  --version, --help

Exit codes: 0 published (or nothing to do), 1 some entries failed (the others were published),
2 bad input or a problem found before publishing (nothing was written), 3 unexpected error.`

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: ReturnType<typeof parse>
  try {
    values = parse(argv)
  } catch (error) {
    process.stderr.write(`datagouv-publish: ${toErrorMessage(error)}\n\n${USAGE}\n`)
    return EXIT.usage
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`)
    return EXIT.ok
  }
  const reporter = terminalReporter(values.verbose === true)
  try {
    const inputs = toInputs(values, env)
    const settings = readSettings((name) => inputs[name] ?? '')
    const retryBase = Number(env.DATAGOUV_PUBLISH_RETRY_BASE_MS)
    const outcome = await execute(settings, reporter, {
      cwd: process.cwd(),
      userAgent: `datagouv-publish-cli/${VERSION}`,
      ...(env.DATAGOUV_PUBLISH_RETRY_BASE_MS !== undefined && Number.isFinite(retryBase) ? { retryBaseDelayMs: retryBase } : {}),
    })
    reporter.done()
    process.stdout.write(values.json === true ? `${JSON.stringify(asJson(outcome), null, 2)}\n` : `${outcome.report.table}\n`)
    const failed = failureSummary(outcome)
    if (failed === undefined) return EXIT.ok
    for (const failure of outcome.report.failures) process.stderr.write(`error: ${failure}\n`)
    process.stderr.write(`${failed}\n`)
    return EXIT.failed
  } catch (error) {
    reporter.done()
    process.stderr.write(`error: ${toErrorMessage(error)}\n`)
    return error instanceof InputError || error instanceof PreflightError ? EXIT.usage : EXIT.error
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      dataset: { type: 'string' },
      'api-url': { type: 'string' },
      files: { type: 'string', multiple: true },
      resources: { type: 'string' },
      'dataset-metadata': { type: 'string' },
      remove: { type: 'string', multiple: true },
      'create-missing': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'if-no-files-found': { type: 'string' },
      'include-hidden-files': { type: 'boolean' },
      'if-unchanged': { type: 'string' },
      'no-check-urls': { type: 'boolean' },
      'chunk-size': { type: 'string' },
      concurrency: { type: 'string' },
      'max-retries': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
}

/** Flags -> the action's inputs, so that the same validation (and messages) apply. */
function toInputs(values: ReturnType<typeof parse>, env: NodeJS.ProcessEnv): Partial<Record<InputName, string>> {
  const fromFile = (value: string | undefined, flag: string): string | undefined => {
    if (value === undefined || !value.startsWith('@')) return value
    try {
      return readFileSync(value.slice(1), 'utf8')
    } catch (error) {
      throw new InputError(`--${flag}: cannot read ${value.slice(1)}: ${toErrorMessage(error)}`)
    }
  }
  const inputs: Record<InputName, string | undefined> = {
    'api-key': env.DATAGOUV_API_KEY ?? '',
    dataset: values.dataset,
    'api-url': values['api-url'],
    files: values.files?.join('\n'),
    resources: fromFile(values.resources, 'resources'),
    'dataset-metadata': fromFile(values['dataset-metadata'], 'dataset-metadata'),
    remove: values.remove?.join('\n'),
    'create-missing': values['create-missing'] === true ? 'true' : undefined,
    'dry-run': values['dry-run'] === true ? 'true' : undefined,
    'if-no-files-found': values['if-no-files-found'],
    'include-hidden-files': values['include-hidden-files'] === true ? 'true' : undefined,
    'if-unchanged': values['if-unchanged'],
    'check-urls': values['no-check-urls'] === true ? 'false' : undefined,
    'chunk-size': values['chunk-size'],
    concurrency: values.concurrency,
    'max-retries': values['max-retries'],
    timeout: values.timeout,
  }
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined))
}

/** The outputs of the action, as one JSON document. */
function asJson(outcome: Outcome): Record<string, unknown> {
  const o = outcome.report.outputs
  return {
    resources: JSON.parse(o.resources) as unknown,
    urls: JSON.parse(o.urls) as unknown,
    changed: o.changed === 'true',
    uploadedCount: Number(o['uploaded-count']),
    skippedCount: Number(o['skipped-count']),
    removedCount: Number(o['removed-count']),
    datasetMetadata: o['dataset-metadata'] === '' ? null : (JSON.parse(o['dataset-metadata']) as unknown),
    datasetUrl: o['dataset-url'],
  }
}

/** Logs on stderr; on a terminal, one progress bar line per upload, redrawn in place. */
function terminalReporter(verbose: boolean): Reporter & { done(): void } {
  const tty = process.stderr.isTTY
  let bar = false
  const clear = () => {
    if (bar) process.stderr.write('\r\x1b[2K')
    bar = false
  }
  const line = (text: string) => {
    clear()
    process.stderr.write(`${text}\n`)
  }
  const uploads = new Map<string, { started: number; drawn: number }>()
  return {
    info: line,
    debug: (message) => {
      if (verbose) line(`  ${message}`)
    },
    warning: (message) => line(`warning: ${message}`),
    group: async (name, fn) => {
      line(`== ${name}`)
      return fn()
    },
    progress(entry: FileEntry, sent: number) {
      const now = Date.now()
      const state = uploads.get(entry.path) ?? { started: now, drawn: 0 }
      uploads.set(entry.path, state)
      const complete = sent >= entry.size
      if (!complete && now - state.drawn < (tty ? 100 : 10_000)) return
      if (!tty && entry.size <= 20_000_000) return
      state.drawn = now
      const ratio = entry.size === 0 ? 1 : Math.min(1, sent / entry.size)
      const rate = formatBytes(Math.round(sent / Math.max(0.001, (now - state.started) / 1000)))
      const text = `${entry.source} ${'#'.repeat(Math.round(ratio * 24)).padEnd(24, '.')} ${(ratio * 100).toFixed(0).padStart(3)} % ${formatBytes(Math.min(sent, entry.size))}/${formatBytes(entry.size)} ${rate}/s`
      if (tty && !complete) {
        process.stderr.write(`\r\x1b[2K${text}`)
        bar = true
      } else line(text)
    },
    done: clear,
  }
}

process.exitCode = await main(process.argv.slice(2))
