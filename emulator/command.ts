/**
 * The emulator as a command: `serve(argv, io)` parses the options of `udata-emulator` (the
 * bundle's entry, emulator/cli.ts), starts the emulator, applies the seed and prints its summary
 * line; the entry adds the process's signals. A test runs a README command line through it in
 * process (test/helpers/readme/).
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { parseAnalyserOptions } from './analyser.js'
import { parseFaultRule } from './faults.js'
import { DEFAULT_SEED, applySeed, type SeedSummary } from './seed.js'
import { startEmulator, type Emulator, type EmulatorOptions } from './server.js'

const HELP = `udata emulator: a local stand-in for the data.gouv.fr (udata) HTTP API, in memory, on loopback.

Usage: udata-emulator [options]     (from a clone: node dist/emulator/index.js [options])

Options:
  --port N              port to listen on (default 8080; 0 picks a free one)
  --host ADDR           address to listen on (default 127.0.0.1)
  --seed FILE           JSON seed (format below); default: a demo user with the key
                        "demo-api-key" and a dataset "demo-dataset" with one file and one remote resource
  --data-dir DIR        where stored files and chunk parts go (default: a temporary folder,
                        removed on exit)
  --extensions LIST     allowed extensions, comma-separated (default: udata's list plus parquet)
  --legacy              behave as udata before v17.6 (no extension check on chunked uploads,
                        parts deleted while combined, only "url" protected on hosted files,
                        bad key = "Invalid API Key")
  --no-same-second-conflict
                        two uploads of one name into one dataset within a second both succeed
                        (by default the second is flask-storage's FileExists, a 500, as on udata)
  --max-body-bytes N    a reverse proxy body limit on every request: larger ones get nginx's 413
  --fault JSON          add a fault rule (repeatable), e.g. '{"method":"POST","path":"/upload/$","status":503,"times":1}'
  --analyser-delay MS   turn on the simulated resource analyser (hydra): MS after a resource is
                        created, its file replaced or it is PUT, its check:* and analysis:* extras
                        are written (default: off, nothing is written)
  --analyser-parsing-delay MS
                        further wait before the parsing result of tabular files (default 0)
  --analyser-outcome X  success (default) | parsing-error | unavailable | timeout, for every resource
  --analyser-rule JSON  an outcome for some resources (repeatable), by id or URL regex, e.g.
                        '{"url": "broken[.]csv$", "outcome": {"result": "unavailable", "status": 410}}'
  --tabular-explore-url URL
                        udata's TABULAR_EXPLORE_URL: parsed resources get preview_url URL/resources/<id>
  --quiet               do not log requests on stderr
  -h, --help            this text

Output: one JSON line on stdout once listening:
  {"url": "http://127.0.0.1:8080", "users": [{"id", "apiKey"}], "organizations": [{"id", "slug"}],
   "datasets": [{"id", "slug", "resources": [{"id", "title", "filetype", "url"}]}],
   "communityResources": [{"id", "dataset", "title", "filetype", "url"}]}
then "METHOD path status" per request on stderr (API keys masked).

API (paths under /api/1 unless said; send X-API-KEY for writes; see emulator/README.md):
  GET  /me/                                   the caller, with its organizations
  GET  /me/datasets/                          the caller's datasets
  GET  /organizations/{org}/                  an organization (id or slug), with members
  GET  /organizations/{org}/datasets/         its datasets (private ones for members)
  GET  /datasets/?owner=&organization=&q=     public datasets, paginated
  POST /datasets/                             create: {"title", "description", "private"?,
                                              "organization"?, "tags"?, "frequency"?, "license"?, ...} -> 201
  GET|PUT|DELETE /datasets/{dataset}/         read, partial update, delete (410 once deleted)
  POST /datasets/{dataset}/upload/            new resource from a multipart "file" (201)
  POST /datasets/{dataset}/resources/{rid}/upload/   replace a resource's file (200)
  POST /datasets/{dataset}/resources/         new remote resource (JSON, "filetype": "remote")
  GET|PUT|DELETE /datasets/{dataset}/resources/{rid}/
  PUT  /datasets/{dataset}/resources/         reorder
  GET  /datasets/r/{rid}                      302 to the file (resources and community resources)
  POST /datasets/{dataset}/upload/community/  new community resource from a file (201, owned by the caller)
  GET|POST /datasets/community_resources/     list (?dataset=&owner=&organization= ids, page, page_size,
                                              sort), or create a remote one (JSON with "dataset") -> 201
  GET|PUT|DELETE /datasets/community_resources/{id}/
  POST /datasets/community_resources/{id}/upload/    replace its file (200)
  GET  /datasets/extensions/ | resource_types/ | frequencies/ | licenses/
  /api/2/datasets/{dataset}/resources/, /api/2/datasets/resources/{rid}/, .../extras/ (GET, PUT, DELETE)
  Uploads also take udata's chunked protocol (uuid, partindex, totalparts, chunksize, filename).
  Stored files are served under /static/<slug>/<YYYYMMDD-HHMMSS>/<name>.

Seed format (--seed FILE; every field optional unless said):
  {"users": [{"id", "apiKey", "active"}],
   "organizations": [{"id", "name" (required), "slug", "description", "deleted",
                      "members": [{"user": "<user id or seeded apiKey>", "role": "admin|editor|partial_editor"}]}],
   "datasets": [{"owner": "<user id; default the first user>", "organization": "<org id or slug>",
                 "id", "slug", "title", "description", "private", "deleted", "archived": true|"<date>",
                 "oldSlugs", "tags", "frequency", "license", "extras",
                 "resources": [{"filename", "content" | "contentBase64" | "path", "title", "type", ...},
                               {"url", "title", "type", "format", ...}]}],
   "communityResources": [{"dataset": "<id or slug>" (required), "owner": "<user id or seeded apiKey;
                           default the first user>" | "organization": "<org id or slug>",
                           and the fields of a file or remote resource}],
   "analyser": {"delayMs" (required), "parsingDelayMs", "outcome", "rules": [{"id" | "url", "outcome"}]}}

Control endpoints (no authentication, not recorded):
  GET /__emulator/state          users, organizations, datasets as their owner sees them
  GET /__emulator/requests       recorded requests (keys masked)
  POST /__emulator/reset-requests
  GET|POST|DELETE /__emulator/faults   list, add (a rule or a list), remove all fault rules
  GET|POST|DELETE /__emulator/analyser the analyser: its settings; change them (POST {"delayMs",
                                 "parsingDelayMs", "outcome", "rules"}: rules are appended); turn it off
  POST /__emulator/analyser/flush      write every scheduled check and parsing now
  POST /__emulator/analyser/check      {"resource": "<id>"}: check that resource (after the delay)

Analyser outcome: "success" | "parsing-error" | "unavailable" | "timeout", or {"result", "status"
  (unavailable: default 404, null = no connection), "error" (check:error, or analysis:parsing:error),
  "lastModified", "contentType", "contentLength" (what a remote URL answers)}.

Fault rule: {"method", "path" (regex), "nth" | "times" (neither: every match),
  "status", "body" (JSON, or a string sent as "contentType"), "retryAfter", "headers",
  "maxBodyBytes" (nginx 413 above it), "dropAfterBytes" (cut the connection),
  "delayMs" (receive, wait, then handle even if the client left), "loseResponse" (handle, no answer),
  "answerDelayMs" (handle at once, answer later)}
`

function parseOptions(
  argv: string[],
): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; args: string[] }>>['values'] {
  return parseArgs({ args: argv, options: OPTIONS }).values
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
  extensions: { type: 'string' },
  legacy: { type: 'boolean' },
  'no-same-second-conflict': { type: 'boolean' },
  'max-body-bytes': { type: 'string' },
  fault: { type: 'string', multiple: true },
  'analyser-delay': { type: 'string' },
  'analyser-parsing-delay': { type: 'string' },
  'analyser-outcome': { type: 'string' },
  'analyser-rule': { type: 'string', multiple: true },
  'tabular-explore-url': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

function integer(
  value: string | undefined,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new Error(`--${name}: not a valid number: ${value}`)
  return n
}

function readSeed(path: string | undefined, cwd: string): { seed: unknown; dir: string } {
  if (path === undefined) return { seed: DEFAULT_SEED, dir: cwd }
  const seedPath = resolve(cwd, path)
  return { seed: JSON.parse(readFileSync(seedPath, 'utf8')) as unknown, dir: dirname(seedPath) }
}

function emulatorOptions(
  values: ReturnType<typeof parseOptions>,
  log: (line: string) => void,
): EmulatorOptions {
  return {
    port: integer(values.port, 'port', 8080, 65535),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values.extensions !== undefined
      ? {
          extensions: values.extensions
            .split(',')
            .map((e) => e.trim())
            .filter((e) => e !== ''),
        }
      : {}),
    ...(values.legacy === true ? { version: 'legacy' as const } : {}),
    ...(values['no-same-second-conflict'] === true ? { sameSecondConflict: false } : {}),
    ...(values['tabular-explore-url'] !== undefined
      ? { tabularExploreUrl: values['tabular-explore-url'].replace(/\/+$/, '') }
      : {}),
    ...analyserOption(values),
    onRequest: (r) =>
      log(
        `${r.method} ${r.path} ${r.status === 0 ? 'dropped' : r.status}${r.fault !== undefined ? ` [fault ${r.fault}]` : ''}`,
      ),
  }
}

/** `--analyser-*`: the analyser's settings; any of them without `--analyser-delay` is an error. */
function analyserOption(
  values: ReturnType<typeof parseOptions>,
): Pick<EmulatorOptions, 'analyser'> {
  const delay = values['analyser-delay']
  const others = [
    values['analyser-parsing-delay'],
    values['analyser-outcome'],
    values['analyser-rule'],
  ].some((v) => v !== undefined)
  if (delay === undefined) {
    if (others)
      throw new Error(
        '--analyser-parsing-delay, --analyser-outcome and --analyser-rule need --analyser-delay',
      )
    return {}
  }
  const parsing = values['analyser-parsing-delay']
  const options = {
    delayMs: integer(delay, 'analyser-delay', 0),
    ...(parsing !== undefined
      ? { parsingDelayMs: integer(parsing, 'analyser-parsing-delay', 0) }
      : {}),
    ...(values['analyser-outcome'] !== undefined ? { outcome: values['analyser-outcome'] } : {}),
    rules: (values['analyser-rule'] ?? []).map((raw) => JSON.parse(raw) as unknown),
  }
  return { analyser: parseAnalyserOptions(options) }
}

/** Where the command writes and what it resolves `--seed` against. */
export interface CommandIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  cwd: string
}

/**
 * Runs the command line `argv`: `--help` prints the usage (undefined), else the emulator is started,
 * seeded and its summary printed as one JSON line. Bad options and seeds throw, nothing left open.
 */
export async function serve(
  argv: string[],
  io: CommandIo,
): Promise<{ emulator: Emulator; summary: SeedSummary } | undefined> {
  const values = parseOptions(argv)
  if (values.help === true) {
    io.stdout.write(HELP)
    return undefined
  }
  const faults = (values.fault ?? []).map((raw) => parseFaultRule(JSON.parse(raw) as unknown))
  const maxBody =
    values['max-body-bytes'] === undefined
      ? undefined
      : integer(values['max-body-bytes'], 'max-body-bytes', 0)
  const { seed, dir } = readSeed(values.seed, io.cwd)
  let keys: string[] = []
  const mask = (text: string): string => keys.reduce((out, key) => out.split(key).join('***'), text)
  const options = emulatorOptions(
    values,
    (line) => values.quiet === true || io.stderr.write(`${mask(line)}\n`),
  )
  const emulator: Emulator = await startEmulator({
    ...options,
    ...(maxBody !== undefined ? { maxBodyBytes: maxBody } : {}),
  })
  let summary
  try {
    summary = applySeed(emulator, seed, dir)
  } catch (error) {
    await emulator.close()
    throw error
  }
  emulator.faults.push(...faults)
  keys = summary.users.map((u) => u.apiKey).filter((k) => k.length > 0)
  io.stdout.write(`${JSON.stringify(summary)}\n`)
  return { emulator, summary }
}
