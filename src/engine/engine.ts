/**
 * The publishing engine shared by the action and the CLI: settings -> preflight -> plan ->
 * publish -> report, each phase in a group of its own. Every line of publishing logic runs here;
 * the edges (src/action/main.ts for the runner, src/cli/main.ts for a terminal) only read options
 * and show what it reports.
 */
import { DatagouvClient, type Logger } from '../datagouv/client.js'
import type { Http } from '../datagouv/http.js'
import type { Dataset } from '../datagouv/schemas.js'
import { communityScope, ownerScope, type Scope } from '../datagouv/scope.js'
import { createDataset, creationFact } from './create-dataset.js'
import { diffPlan } from './diff.js'
import { analysable, analysisLine, waitForAnalysis, type AnalysisReport } from './analysis.js'
import { withNaming, type InputNaming, type Settings } from './inputs.js'
import type { FileEntry } from './manifest.js'
import { applyOrder, type OrderResult } from './order.js'
import type { Plan, Step } from './plan.js'
import { preflight, PreflightError } from './preflight.js'
import type { Provenance } from './provenance.js'
import { publish, publishDataset, type DatasetResult, type Result } from './publish.js'
import { qualityAfter } from './quality.js'
import { blockedReport, buildReport, type Report } from './report.js'
import { creationReason, planTable } from './report/tables.js'
import { readBack } from './verify.js'
import { plural } from '../util/text.js'

/** For the edges, beside `execute`: the failure line of a run (report.ts). */
export { failureSummary } from './report.js'

/**
 * The phases of a run, in their order: what a group is, for an edge that acts on it (the CLI's
 * Ctrl-C report) rather than on its title. `publish` runs the steps, in a dry run too.
 */
export type Phase = 'preflight' | 'create-dataset' | 'publish' | 'analysis'

/** How the engine talks to its edge. */
export interface Reporter extends Logger {
  /**
   * A phase of the run: a collapsible group on the runner, a heading in a terminal. `name` is for
   * people; `phase` says which one it is.
   */
  group<T>(name: string, fn: () => Promise<T>, phase?: Phase): Promise<T>
  /** Bytes of an upload sent so far (re-sent bytes included). */
  progress(entry: FileEntry, sentBytes: number): void
  /** The steps about to be executed (not called in a dry run). */
  plan?(steps: readonly Step[]): void
  /** Shows the plan once the preflight made it; without it, the plan table is logged (`info`). */
  showPlan?(plan: Plan): void
  /** One step finished, as the server then holds it. */
  stepDone?(result: Result): void
}

export interface EngineOptions {
  cwd: string
  /** Sent on every request (API calls and URL checks): the edge's name and the version. */
  userAgent: string
  /** Shortens the retry backoff (tests, through `baseDelayFromEnv`); users have `max-retries`. */
  retryBaseDelayMs?: number
  /**
   * What the edge knows of where this publication comes from (recorded unless `provenance: false`).
   */
  provenance?: Provenance
  /** The edge's environment: the proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) are read here. */
  env: Readonly<Record<string, string | undefined>>
  /** Every request goes through it instead of `NodeHttp` built from `env`; its owner closes it. */
  http?: Http
  /** How the run's messages name the inputs (inputs/naming.ts); the action's words by default. */
  naming?: InputNaming
  /** The data diff of the uploads (engine/diff.ts): the action always, the CLI with `--diff`. */
  diff?: boolean
}

/**
 * A preflight that stopped, with the outputs and summary of what was known (nothing was written).
 */
export class BlockedError extends PreflightError {
  constructor(
    cause: PreflightError,
    readonly report: Report,
  ) {
    super(cause.problems, cause.entries, cause.dataset)
  }
}

/** What a whole run did: its report, and the results it is made from. */
export interface RunResult {
  report: Report
  results: Result[]
  datasetResult: DatasetResult | undefined
  order: OrderResult | undefined
}

/** Runs a whole publication. Throws for bad input and preflight problems (nothing written then). */
export async function execute(
  settings: Settings,
  reporter: Reporter,
  options: EngineOptions,
): Promise<RunResult> {
  return withNaming(options.naming, () => run(settings, reporter, options))
}

async function run(
  settings: Settings,
  reporter: Reporter,
  options: EngineOptions,
): Promise<RunResult> {
  const client = clientFor(settings, reporter, options)
  try {
    const startedAt = new Date()
    const plan = await runPreflight(client, settings, reporter, options, startedAt)
    const creation =
      plan.creation !== undefined && !settings.dryRun
        ? await createDataset(client, plan, reporter)
        : undefined
    if (creation?.stop !== undefined) return creation.stop
    if (creation !== undefined) plan.dataset = creation.dataset
    const diffs = await diffPlan(client, plan, settings, reporter, options.diff === true)
    if (!settings.dryRun) reporter.plan?.(plan.steps)
    const scope =
      plan.communityOwner === undefined
        ? ownerScope(client, plan.dataset.id)
        : communityScope(client, plan.dataset.id, plan.communityOwner)
    const written = await runSteps(client, scope, plan, settings, reporter)
    const published =
      plan.datasetStep &&
      (await publishDataset(client, plan.dataset, plan.datasetStep, settings.dryRun))
    const order =
      settings.order === 'as-listed'
        ? await applyOrder(client, plan.dataset.id, written, settings.dryRun)
        : undefined
    return await finish(client, scope, plan, settings, reporter, options, {
      written,
      published,
      order,
      creation,
      diffs,
      startedAt,
    })
  } finally {
    await client.close()
  }
}

/** What the run did, read back from the server, with the analysis and quality: the report. */
async function finish(
  client: DatagouvClient,
  scope: Scope,
  plan: Plan,
  settings: Settings,
  reporter: Reporter,
  options: EngineOptions,
  done: {
    written: Result[]
    published: DatasetResult | undefined
    order: OrderResult | undefined
    creation: { dataset: Dataset } | undefined
    diffs: Awaited<ReturnType<typeof diffPlan>>
    startedAt: Date
  },
): Promise<RunResult> {
  const { written, published, order, creation, diffs, startedAt } = done
  const { results, datasetResult, problems, after } = settings.dryRun
    ? { results: written, datasetResult: published, problems: [], after: undefined }
    : await readBack(client, scope, plan, { results: written, datasetResult: published }, reporter)
  const analysis = await analysisOf(settings, scope, results, startedAt, reporter)
  const quality = qualityAfter(plan, after, { results, datasetResult }, reporter)
  const report = buildReport({
    ...quality,
    results,
    datasetResult,
    problems,
    order,
    dataset: plan.dataset,
    datasetCreated: creation !== undefined,
    ...(plan.creation
      ? { creation: creationFact(plan, creation?.dataset.id, !settings.dryRun) }
      : {}),
    origin: client.origin,
    dryRun: settings.dryRun,
    hiddenLeftOut: plan.hiddenLeftOut,
    ...(analysis ? { analysis } : {}),
    ...(diffs ? { diffs } : {}),
    ...(settings.provenance && options.provenance ? { provenance: options.provenance } : {}),
  })
  return { report, results, datasetResult, order }
}

/** The client of one run: the settings' instance, key and policy, the edge's network. */
function clientFor(settings: Settings, reporter: Reporter, options: EngineOptions): DatagouvClient {
  return new DatagouvClient({
    apiUrl: settings.apiUrl,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutSeconds * 1000,
    retry: {
      maxRetries: settings.maxRetries,
      ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
    },
    userAgent: options.userAgent,
    logger: reporter,
    env: options.env,
    ...(options.http !== undefined ? { http: options.http } : {}),
  })
}

/** The plan's steps, executed (or, in a dry run, reported as planned). */
async function runSteps(
  client: DatagouvClient,
  scope: Scope,
  plan: Plan,
  settings: Settings,
  reporter: Reporter,
): Promise<Result[]> {
  return reporter.group(
    settings.dryRun ? 'Dry run: nothing is written' : 'Publish',
    () =>
      publish(client, plan.steps, {
        scope,
        chunkSize: settings.chunkSize,
        partConcurrency: settings.partConcurrency,
        concurrency: settings.concurrency,
        dryRun: settings.dryRun,
        knownResourceIds: new Set(plan.dataset.resources.map((r) => r.id)),
        onProgress: (entry, sent) => reporter.progress(entry, sent),
        onResult: (result) => reporter.stepDone?.(result),
      }),
    'publish',
  )
}

/** `wait-for-analysis`: what data.gouv.fr's analyser made of the published resources, if asked. */
async function analysisOf(
  settings: Settings,
  scope: Scope,
  results: readonly Result[],
  since: Date,
  reporter: Reporter,
): Promise<AnalysisReport[] | undefined> {
  const seconds = settings.waitForAnalysisSeconds
  if (seconds <= 0 || settings.dryRun || analysable(results).length === 0) return undefined
  if (scope.kind === 'community') {
    reporter.warning(
      'wait-for-analysis: data.gouv.fr does not analyse community resources; not waiting',
    )
    return undefined
  }
  return reporter.group(
    `Wait up to ${seconds} s for data.gouv.fr's analysis`,
    async () => {
      const { reports, timedOut } = await waitForAnalysis(scope, results, seconds, since, reporter)
      const pending = reports.filter((r) => r.state === 'pending').length
      if (timedOut)
        reporter.warning(
          `wait-for-analysis: ${plural(pending, 'resource')} not analysed after ${seconds} s (reported ` +
            `as pending; the analysis goes on)`,
        )
      else reporter.info(`data.gouv.fr analysed ${plural(reports.length, 'resource')}`)
      for (const r of reports) reporter.info(`  ${analysisLine(r)}`)
      return reports
    },
    'analysis',
  )
}

async function runPreflight(
  client: DatagouvClient,
  settings: Settings,
  reporter: Reporter,
  options: EngineOptions,
  startedAt: Date,
): Promise<Plan> {
  const plan = await reporter.group(
    'Preflight: dataset, files, matches, checksums',
    async () => {
      const context = {
        cwd: options.cwd,
        startedAt,
        ...(options.provenance ? { provenance: options.provenance } : {}),
      }
      const result = await preflight(client, settings, context).catch((error: unknown) => {
        throw error instanceof PreflightError
          ? new BlockedError(error, blockedReport(error, client.origin))
          : error
      })
      const resources = plural(result.dataset.resources.length, 'resource')
      const entries = plural(result.steps.length, 'entry', 'entries')
      reporter.info(
        result.creation === undefined
          ? `Dataset '${result.dataset.title}' (${result.dataset.id}), ${resources}; ${entries} to consider`
          : `Dataset '${result.creation.slug}': ${creationReason(result)}; ${entries} to consider`,
      )
      return result
    },
    'preflight',
  )
  for (const warning of plan.warnings) reporter.warning(warning)
  if (reporter.showPlan) reporter.showPlan(plan)
  else reporter.info(planTable(plan, settings))
  return plan
}
