/**
 * Where this publication comes from: the workflow run's context, as the runner gives it to every
 * step (the `GITHUB_*` variables that @actions/github's `context` reads). Read here directly:
 * @actions/github would bring octokit and a second HTTP client into the bundle, about 1.2 MB that
 * cost memory at every start (BENCHMARKS.md), for five variables.
 */
import { readFileSync } from 'node:fs'
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
  const tag = ref?.startsWith('refs/tags/') === true ? undefined : releaseTag(env)
  if (tag !== undefined) provenance.ref = `refs/tags/${tag}`
  else if (ref !== undefined) provenance.ref = ref
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

/**
 * The tag of a `release` event whose `GITHUB_REF` does not name it: the payload's
 * `release.tag_name` (the file `GITHUB_EVENT_PATH` names). `undefined` for other events, or when
 * the payload cannot be read.
 */
function releaseTag(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env['GITHUB_EVENT_PATH']
  if (env['GITHUB_EVENT_NAME'] !== 'release' || file === undefined || file === '') return undefined
  try {
    const payload = JSON.parse(readFileSync(file, 'utf8')) as { release?: { tag_name?: unknown } }
    const tag = payload.release?.tag_name
    return typeof tag === 'string' && tag.trim() !== '' ? tag.trim() : undefined
  } catch {
    return undefined
  }
}
