/**
 * The pull request's comment through @actions/github's octokit, the one module that imports it:
 * comment.ts loads it with `import()` only when a comment is to be written, so a publication that
 * writes none never loads octokit (start-up memory in BENCHMARKS.md).
 */
import { getOctokit } from '@actions/github'
import { fetch as undiciFetch, type Dispatcher } from 'undici'

export interface CommentRequest {
  /** The REST API's root (`GITHUB_API_URL`: https://api.github.com, or a GitHub Enterprise one). */
  apiUrl: string
  token: string
  owner: string
  repo: string
  number: number
  /** The hidden line that tells the comment of this publication among the others. */
  marker: string
  body: string
  userAgent: string
  /** Every request through it (tests); else @actions/github's, which honours the runner's proxy. */
  dispatcher?: Dispatcher
}

export interface CommentResult {
  action: 'created' | 'updated'
  url: string
  /** Comments of this publication found beside the one kept (two runs raced), deleted. */
  removed: number
}

/**
 * One comment per publication: the oldest comment holding the marker is updated in place, else
 * one is created; any other holding it (two runs that both created one) is deleted.
 */
export async function upsertComment(request: CommentRequest): Promise<CommentResult> {
  const octokit = getOctokit(request.token, {
    baseUrl: request.apiUrl.replace(/\/+$/, ''),
    userAgent: request.userAgent,
    ...(request.dispatcher !== undefined
      ? { request: { fetch: fetchThrough(request.dispatcher) } }
      : {}),
  })
  const where = { owner: request.owner, repo: request.repo }
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...where,
    issue_number: request.number,
    per_page: 100,
  })
  const ours = comments
    .filter((c) => c.body?.includes(request.marker) === true)
    .sort((a, b) => a.id - b.id)
  const [kept, ...extra] = ours
  const written =
    kept === undefined
      ? await octokit.rest.issues.createComment({
          ...where,
          issue_number: request.number,
          body: request.body,
        })
      : await octokit.rest.issues.updateComment({
          ...where,
          comment_id: kept.id,
          body: request.body,
        })
  for (const comment of extra)
    await octokit.rest.issues.deleteComment({ ...where, comment_id: comment.id })
  return {
    action: kept === undefined ? 'created' : 'updated',
    url: written.data.html_url,
    removed: extra.length,
  }
}

/** A fetch through `dispatcher` (undici's own fetch, which takes one). */
function fetchThrough(dispatcher: Dispatcher): typeof fetch {
  return ((url: string, init?: Record<string, unknown>) =>
    undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch
}
