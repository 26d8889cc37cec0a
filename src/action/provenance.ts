/** Where this publication comes from, read from the workflow's context (@actions/github). */
import { context } from '@actions/github'
import type { Provenance } from '../engine/provenance.js'
import { VERSION } from '../version.js'

export function runnerProvenance(): Provenance {
  const provenance: Provenance = { tool: `datagouv-publish-action/${VERSION}` }
  const repository = repositoryOf()
  if (repository !== undefined) provenance.repository = repository
  if (context.sha) provenance.commit = context.sha
  if (context.ref) provenance.ref = context.ref
  if (context.workflow) provenance.workflow = context.workflow
  if (repository !== undefined && Number.isFinite(context.runId)) {
    const attempt =
      Number.isFinite(context.runAttempt) && context.runAttempt > 1
        ? `/attempts/${context.runAttempt}`
        : ''
    provenance.runUrl = `${context.serverUrl}/${repository}/actions/runs/${context.runId}${attempt}`
  }
  return provenance
}

/** `owner/name`, when the runner says it (context.repo throws when it cannot tell). */
function repositoryOf(): string | undefined {
  try {
    const { owner, repo } = context.repo
    return `${owner}/${repo}`
  } catch {
    return undefined
  }
}
