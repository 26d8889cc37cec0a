/**
 * A local stand-in of the GitHub REST endpoints the action's pull request comment uses (list,
 * create, update and delete an issue comment), answering as api.github.com does: the token in
 * `Authorization`, pages of `per_page` with a `Link` header, 201/200/204, and a read-only token
 * (a fork's) answered `403 Resource not accessible by integration`. `pullRequest()` writes the
 * event payload a `pull_request` run gets and returns the variables the runner sets for it, so the
 * action (in process, as a bundle, or a README example) runs as it does on a pull request.
 *
 *   const github = await startGitHub()
 *   const run = await f.run({ 'dry-run': 'true', files: 'a.csv' }, await github.pullRequest(7))
 *   github.comments(7)  // what the pull request shows
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

interface StandInComment {
  id: number
  issue: number
  body: string
  user: { login: string; type: string }
}

export interface GitHubStandIn {
  /** `GITHUB_API_URL` for the run. */
  url: string
  /** The token the stand-in accepts (the workflow's). */
  token: string
  repository: string
  /** Writes answer 403 as for a fork's read-only token. */
  readOnly: boolean
  /** Every request, in order: method, path and query, status. */
  requests: Array<{ method: string; path: string; status: number }>
  /** The comments of an issue or pull request, oldest first. */
  comments(issue: number): StandInComment[]
  /** A comment written by someone else (or an earlier run), as a seed. */
  addComment(issue: number, body: string, login?: string): StandInComment
  /**
   * The runner's variables for a `pull_request` event on pull request `number` (the payload
   * written to a file), with the token as the `github-token` input (the runner's default).
   */
  pullRequest(
    number: number,
    options?: { fork?: boolean; headSha?: string; event?: string; author?: string },
  ): Promise<Record<string, string>>
  close(): Promise<void>
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' }

export async function startGitHub(
  options: { repository?: string; token?: string } = {},
): Promise<GitHubStandIn> {
  const repository = options.repository ?? 'example/publisher'
  const token = options.token ?? 'ghs_standInToken0123456789'
  const all: StandInComment[] = []
  let nextId = 1000
  const dir = await mkdtemp(path.join(tmpdir(), 'github-event-'))
  const standIn: GitHubStandIn = {
    url: '',
    token,
    repository,
    readOnly: false,
    requests: [],
    comments: (issue) => all.filter((c) => c.issue === issue),
    addComment(issue, body, login = 'octocat') {
      const comment = { id: nextId++, issue, body, user: { login, type: 'User' } }
      all.push(comment)
      return comment
    },
    async pullRequest(
      number,
      {
        fork = false,
        headSha = 'a1b2c3d4e5f6a7b8c9d0',
        event = 'pull_request',
        author = 'octocat',
      } = {},
    ) {
      const file = path.join(dir, `event-${number}-${Date.now()}.json`)
      const head = fork ? `contributor/${repository.split('/')[1]}` : repository
      await writeFile(
        file,
        JSON.stringify({
          action: 'synchronize',
          number,
          pull_request: {
            number,
            head: { sha: headSha, repo: { full_name: head } },
            user: { login: author },
            base: { repo: { full_name: repository } },
          },
          repository: { full_name: repository },
        }),
      )
      return {
        GITHUB_EVENT_NAME: event,
        GITHUB_EVENT_PATH: file,
        GITHUB_API_URL: standIn.url,
        GITHUB_REPOSITORY: repository,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_RUN_ID: '4242',
        'INPUT_GITHUB-TOKEN': token,
      }
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
  const routes: Route[] = [
    {
      method: 'GET',
      path: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      handle: ({ match, url }) => list(all, Number(match[2]), url, standIn),
    },
    {
      method: 'POST',
      path: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      write: true,
      handle: ({ match, body }) => {
        const comment = { id: nextId++, issue: Number(match[2]), body: bodyOf(body), user: BOT }
        all.push(comment)
        return { status: 201, json: view(comment, repository) }
      },
    },
    {
      method: 'PATCH',
      path: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/,
      write: true,
      handle: ({ match, body }) => {
        const comment = all.find((c) => c.id === Number(match[2]))
        if (comment === undefined) return notFound()
        comment.body = bodyOf(body)
        return { status: 200, json: view(comment, repository) }
      },
    },
    {
      method: 'DELETE',
      path: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/,
      write: true,
      handle: ({ match }) => {
        const at = all.findIndex((c) => c.id === Number(match[2]))
        if (at === -1) return notFound()
        all.splice(at, 1)
        return { status: 204 }
      },
    },
  ]
  const server = createServer((request, response) => {
    void serve(request, response, routes, standIn).catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return standIn
}

interface Answer {
  status: number
  json?: unknown
  headers?: Record<string, string>
}

interface Route {
  method: string
  path: RegExp
  /** Refused with a read-only token. */
  write?: boolean
  handle(request: { match: RegExpExecArray; url: URL; body: string }): Answer
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  routes: readonly Route[],
  standIn: GitHubStandIn,
): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const url = new URL(request.url ?? '/', standIn.url)
  const answer = route(request, url, Buffer.concat(chunks).toString('utf8'), routes, standIn)
  standIn.requests.push({
    method: request.method ?? '',
    path: url.pathname + url.search,
    status: answer.status,
  })
  response.writeHead(answer.status, {
    ...(answer.json !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...answer.headers,
  })
  response.end(answer.json !== undefined ? JSON.stringify(answer.json) : undefined)
}

function route(
  request: IncomingMessage,
  url: URL,
  body: string,
  routes: readonly Route[],
  standIn: GitHubStandIn,
): Answer {
  const auth = request.headers.authorization ?? ''
  if (auth !== `token ${standIn.token}` && auth !== `Bearer ${standIn.token}`)
    return {
      status: 401,
      json: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
    }
  for (const r of routes) {
    const match = r.path.exec(url.pathname)
    if (r.method !== request.method || match === null) continue
    if (r.write === true && standIn.readOnly)
      return {
        status: 403,
        json: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
        },
      }
    return r.handle({ match, url, body })
  }
  return notFound()
}

/** A page of an issue's comments, with the `Link` header of the next and last pages. */
function list(
  all: readonly StandInComment[],
  issue: number,
  url: URL,
  { url: base, repository }: GitHubStandIn,
): Answer {
  const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30))
  const page = Number(url.searchParams.get('page') ?? 1)
  const comments = all.filter((c) => c.issue === issue)
  const last = Math.max(1, Math.ceil(comments.length / perPage))
  const link = (p: number, rel: string) => {
    const next = new URL(url.pathname, base)
    next.searchParams.set('per_page', String(perPage))
    next.searchParams.set('page', String(p))
    return `<${next.toString()}>; rel="${rel}"`
  }
  const headers: Record<string, string> =
    page < last ? { link: [link(page + 1, 'next'), link(last, 'last')].join(', ') } : {}
  const slice = comments.slice((page - 1) * perPage, page * perPage)
  return { status: 200, json: slice.map((c) => view(c, repository)), headers }
}

function view(comment: StandInComment, repository: string): Record<string, unknown> {
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    body: comment.body,
    user: comment.user,
    html_url: `https://github.com/${repository}/pull/${comment.issue}#issuecomment-${comment.id}`,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }
}

function bodyOf(text: string): string {
  const parsed = JSON.parse(text) as { body?: unknown }
  return typeof parsed.body === 'string' ? parsed.body : ''
}

function notFound(): Answer {
  return {
    status: 404,
    json: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
  }
}
