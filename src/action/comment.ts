/**
 * `comment-on-pr`: the job summary (the plan or the results, and the data diff) as one comment on
 * the pull request, updated in place on every push. A comment that cannot be written (a fork's
 * read-only token, no token, GitHub unreachable) is a warning: the summary holds the same, and a
 * publication never fails for its comment.
 */
import type { Settings } from '../engine/inputs.js'
import { toErrorMessage } from '../util/errors.js'
import { VERSION } from '../version.js'
import { PULL_REQUEST_EVENTS, pullRequestOf, type PullRequest } from './pull-request.js'
import type { Runner } from './runner.js'

type CommentSettings = Pick<Settings, 'commentOnPr' | 'githubToken' | 'dataset' | 'apiUrl'>

/** GitHub refuses a comment longer than this. */
const MAX_BODY = 65_536

/** Writes the comment when the settings and the event ask for one; never throws. */
export async function commentOnPullRequest(
  runner: Runner,
  settings: CommentSettings,
  summary: string,
): Promise<void> {
  if (settings.commentOnPr === 'false') return
  const event = runner.env.GITHUB_EVENT_NAME ?? ''
  if (settings.commentOnPr === 'auto' && !PULL_REQUEST_EVENTS.has(event)) return
  const pr = await pullRequestOf(runner.env)
  if (pr === undefined) {
    runner.warning(
      `comment-on-pr: the event${event ? ` '${event}'` : ''} names no pull request: no comment written`,
    )
    return
  }
  const where = `pull request #${pr.number}`
  if (settings.githubToken === undefined) {
    runner.warning(
      `comment-on-pr: no github-token to comment on ${where} with (the default is the workflow's ` +
        `token, \${{ github.token }}); the plan is in the job summary`,
    )
    return
  }
  const marker = markerOf(settings)
  try {
    const { upsertComment } = await import('./github.js')
    const result = await upsertComment({
      apiUrl: runner.env.GITHUB_API_URL ?? 'https://api.github.com',
      token: settings.githubToken,
      owner: pr.owner,
      repo: pr.repo,
      number: pr.number,
      marker,
      body: commentBody(marker, summary, pr, runner.env),
      userAgent: `datagouv-publish-action/${VERSION}`,
      ...(runner.http !== undefined ? { http: runner.http } : {}),
    })
    const removed = result.removed > 0 ? ` (${result.removed} duplicate deleted)` : ''
    runner.info(`Comment ${result.action} on ${where}: ${result.url}${removed}`)
  } catch (error) {
    runner.warning(`comment-on-pr: could not comment on ${where}: ${why(error, pr)}`)
  }
}

/** The hidden line that tells this publication's comment: the instance and the dataset. */
function markerOf(settings: CommentSettings): string {
  const id = `${settings.apiUrl} ${settings.dataset}`.replace(/--+|[<>]/g, '-')
  return `<!-- datagouv-publish-action comment: ${id} -->`
}

function commentBody(
  marker: string,
  summary: string,
  pr: PullRequest,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  const runUrl =
    env.GITHUB_REPOSITORY !== undefined && env.GITHUB_RUN_ID !== undefined
      ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined
  const commit = pr.headSha !== undefined ? ` for ${pr.headSha.slice(0, 7)}` : ''
  const run = runUrl !== undefined ? ` ([run](${runUrl}))` : ''
  const footer = `\n---\n<sub>datagouv-publish-action${commit}${run}: updated on every push.</sub>\n`
  const room = MAX_BODY - marker.length - footer.length - 200
  const text =
    summary.length <= room
      ? summary
      : `${summary.slice(0, room)}\n\n_… cut here: the whole report is in the run's job summary._\n`
  return `${marker}\n${text}${footer}`
}

/** What went wrong, and what to do about it. */
function why(error: unknown, pr: PullRequest): string {
  const status = (error as { status?: unknown }).status
  const message = toErrorMessage(error).split(' - https://docs.github.com')[0] ?? ''
  const readOnly = status === 403 || status === 404
  const hint = !readOnly
    ? ''
    : pr.fork
      ? ' (a pull request from a fork gets a read-only token)'
      : pr.author === 'dependabot[bot]'
        ? " (Dependabot's pull requests get a read-only token)"
        : " (the token may not write: give the job 'permissions: pull-requests: write')"
  return `${message}${hint}; the plan and the data diff are in the job summary`
}
