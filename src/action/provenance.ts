/**
 * Where this publication comes from: the workflow run's context, as the runner gives it to every
 * step (the `GITHUB_*` variables that @actions/github's `context` reads). Read here directly:
 * @actions/github would bring octokit and a second HTTP client into the bundle, about 1.2 MB that
 * cost memory at every start (BENCHMARKS.md), for five variables.
 */
import type { Provenance } from '../engine/provenance.js'
import { VERSION } from '../version.js'

export function runnerProvenance(env: Readonly<Record<string, string | undefined>>): Provenance {
  const provenance: Provenance = { tool: `datagouv-publish-action/${VERSION}` }
  const given = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const repository = given('GITHUB_REPOSITORY')
  if (repository !== undefined) provenance.repository = repository
  const commit = given('GITHUB_SHA')
  if (commit !== undefined) provenance.commit = commit
  const ref = given('GITHUB_REF')
  if (ref !== undefined) provenance.ref = ref
  const workflow = given('GITHUB_WORKFLOW')
  if (workflow !== undefined) provenance.workflow = workflow
  const runId = given('GITHUB_RUN_ID')
  if (repository !== undefined && runId !== undefined && /^\d+$/.test(runId)) {
    const server = given('GITHUB_SERVER_URL') ?? 'https://github.com'
    const attempt = Number(given('GITHUB_RUN_ATTEMPT') ?? '1')
    provenance.runUrl = `${server}/${repository}/actions/runs/${runId}${attempt > 1 ? `/attempts/${attempt}` : ''}`
  }
  return provenance
}
