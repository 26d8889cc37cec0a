import type { Stats } from 'node:fs'
import { stat } from 'node:fs/promises'

import { mimeFor } from './constants.js'
import type { Env } from './env.js'
import { empty, header, type Reply, type RequestContext } from './http.js'

function notFound(): Reply {
  return {
    kind: 'text',
    status: 404,
    contentType: 'text/html; charset=utf-8',
    body: '<html><body><h1>404 Not Found</h1></body></html>\n',
  }
}

/** Only `GET` and `HEAD` are served; anything else is nginx's 405. */
function methodNotAllowed(): Reply {
  return {
    kind: 'text',
    status: 405,
    contentType: 'text/plain',
    body: 'Method Not Allowed\n',
    headers: { allow: 'GET, HEAD' },
  }
}

/** The stored file a `/static/` path names, with its stats; undefined when there is none. */
async function findStaticFile(
  ctx: RequestContext,
  env: Env,
): Promise<{ path: string; info: Stats } | undefined> {
  let relative: string
  try {
    relative = decodeURIComponent(ctx.pathname.slice('/static/'.length))
  } catch {
    return undefined
  }
  const path = env.storage.staticPath(relative)
  if (path === undefined) return undefined
  const info = await stat(path).catch(() => undefined)
  if (info === undefined || !info.isFile()) return undefined
  return { path, info }
}

/** The headers of every answer about a file: type, Last-Modified, nginx's ETag, byte ranges. */
function fileHeaders(path: string, info: Stats): Record<string, string> {
  return {
    'content-type': mimeFor(path),
    'last-modified': info.mtime.toUTCString(),
    etag: `"${Math.floor(info.mtimeMs).toString(16)}-${info.size.toString(16)}"`,
    'accept-ranges': 'bytes',
  }
}

/**
 * A single `bytes=start-end` (or suffix `bytes=-n`) range: 206 with the part, or 416 when it cannot
 * be satisfied. Undefined when there is no usable range header (the whole file is then served).
 */
function rangeReply(
  range: string | undefined,
  path: string,
  size: number,
  headers: Record<string, string>,
): Reply | undefined {
  const match = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim())
  if (match === null || (match[1] === '' && match[2] === '')) return undefined
  let start: number
  let end: number
  if (match[1] === '') {
    const suffix = Number(match[2])
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  }
  if (start >= size || end < start || (match[1] === '' && Number(match[2]) === 0)) {
    return {
      kind: 'text',
      status: 416,
      contentType: 'text/plain',
      body: '',
      headers: { ...headers, 'content-range': `bytes */${size}` },
    }
  }
  return {
    kind: 'file',
    status: 206,
    headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` },
    path,
    start,
    end,
  }
}

/**
 * `GET|HEAD /static/<slug>/<ts>/<name>`: the stored files, as the static host (nginx) serves them —
 * Content-Length, ETag, Last-Modified, single `Range` requests (206 / 416), `If-None-Match` (304).
 */
export async function serveStatic(ctx: RequestContext, env: Env): Promise<Reply> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return methodNotAllowed()
  const found = await findStaticFile(ctx, env)
  if (found === undefined) return notFound()
  const { path, info } = found
  const size = info.size
  const headers = fileHeaders(path, info)
  if (header(ctx.headers, 'if-none-match') === headers['etag']) return empty(304, headers)
  const partial = rangeReply(header(ctx.headers, 'range'), path, size, headers)
  if (partial !== undefined) return partial
  return { kind: 'file', status: 200, headers, path, start: 0, end: size - 1 }
}
