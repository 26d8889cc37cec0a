/**
 * The pull request a run is about, from the event the runner gives the step (`GITHUB_EVENT_NAME`,
 * and the payload in the file `GITHUB_EVENT_PATH` names), read here rather than through
 * @actions/github's `context`, which reads the process's environment when it is loaded.
 */
import { readFile } from 'node:fs/promises'

export interface PullRequest {
  owner: string
  repo: string
  number: number
  /** The commit the pull request's branch is at. */
  headSha?: string
  /** Opened from another repository: the workflow's token is read-only there. */
  fork: boolean
  /** Who opened it (`dependabot[bot]`'s pull requests also get a read-only token). */
  author?: string
}

/** The events whose payload is a pull request's (`comment-on-pr: auto` comments on these). */
export const PULL_REQUEST_EVENTS: ReadonlySet<string> = new Set([
  'pull_request',
  'pull_request_target',
])

interface Payload {
  pull_request?: {
    number?: unknown
    head?: { sha?: unknown; repo?: { full_name?: unknown } | null }
    user?: { login?: unknown } | null
    base?: { repo?: { full_name?: unknown } | null }
  }
  repository?: { full_name?: unknown }
}

/**
 * The pull request the event names; `undefined` when it names none (or the payload cannot be
 * read: outside a workflow run).
 */
export async function pullRequestOf(
  env: Readonly<Record<string, string | undefined>>,
): Promise<PullRequest | undefined> {
  const file = env.GITHUB_EVENT_PATH
  if (file === undefined || file === '') return undefined
  let payload: Payload
  try {
    payload = JSON.parse(await readFile(file, 'utf8')) as Payload
  } catch {
    return undefined
  }
  const pr = payload.pull_request
  if (pr === undefined || typeof pr.number !== 'number') return undefined
  const base = text(pr.base?.repo?.full_name) ?? text(payload.repository?.full_name)
  const fullName = env.GITHUB_REPOSITORY ?? base
  const [owner, repo] = fullName?.split('/') ?? []
  if (owner === undefined || repo === undefined) return undefined
  const head = text(pr.head?.repo?.full_name)
  const headSha = text(pr.head?.sha)
  const author = text(pr.user?.login)
  return {
    owner,
    repo,
    number: pr.number,
    ...(headSha !== undefined ? { headSha } : {}),
    fork: head !== undefined && base !== undefined && head !== base,
    ...(author !== undefined ? { author } : {}),
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}
