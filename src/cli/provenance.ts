/**
 * What the CLI knows of where a publication comes from: its version, and, when it runs in a git
 * repository, the commit, the branch and the remote (which, with the CLI's name as workflow,
 * identifies the publication for `prune`).
 */
import { execFileSync } from 'node:child_process'
import type { Provenance } from '../engine/provenance.js'
import { VERSION } from '../version.js'

export function gitProvenance(cwd: string): Provenance {
  const provenance: Provenance = { tool: `datagouv-publish-cli/${VERSION}` }
  const commit = git(cwd, 'rev-parse', 'HEAD')
  if (commit === undefined) return provenance
  provenance.commit = commit
  const branch = git(cwd, 'symbolic-ref', '-q', 'HEAD')
  if (branch !== undefined) provenance.ref = branch
  const remote = git(cwd, 'remote', 'get-url', 'origin')
  if (remote !== undefined) {
    provenance.repository = withoutCredentials(remote)
    provenance.workflow = 'datagouv-publish CLI'
  }
  return provenance
}

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    const out = execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim()
    return out === '' ? undefined : out
  } catch {
    return undefined
  }
}

/** A remote URL never carries a token into the dataset's extras. */
function withoutCredentials(remote: string): string {
  try {
    const url = new URL(remote)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return remote // scp-like `git@host:owner/name.git`
  }
}
