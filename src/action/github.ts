/**
 * The pull request's comment through @actions/github's octokit, the one module that imports it:
 * comment.ts loads it with `import()` only when a comment is to be written, so a publication that
 * writes none never loads octokit (start-up memory in BENCHMARKS.md).
 */
import { getOctokit } from '@actions/github'
import { readText, type Http } from '../datagouv/http.js'

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
  http?: Http
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
    ...(request.http !== undefined ? { request: { fetch: fetchThrough(request.http) } } : {}),
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

/**
 * The fetch octokit calls, over `http`: its requests are small JSON ones (a string body or none),
 * and its answers are read whole.
 */
function fetchThrough(http: Http): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input)
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value))
    const body = init?.body
    if (body !== undefined && body !== null && typeof body !== 'string')
      throw new TypeError('only text bodies are sent to the GitHub API')
    const response = await http.request({
      method: init?.method ?? 'GET',
      url,
      headers,
      ...(typeof body === 'string' ? { body } : {}),
      timeoutMs: 60_000,
    })
    const answer = new Headers()
    for (const [name, value] of Object.entries(response.headers))
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
        answer.append(name, one)
    const status = response.statusCode
    const text = await readText(response.body)
    return new Response([101, 204, 205, 304].includes(status) ? null : text, {
      status,
      headers: answer,
    })
  }
}
