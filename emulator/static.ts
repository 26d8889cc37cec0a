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

/**
 * `GET|HEAD /static/<slug>/<ts>/<name>`: the stored files, as the static host (nginx) serves them —
 * Content-Length, ETag, Last-Modified, single `Range` requests (206 / 416), `If-None-Match` (304).
 */
export async function serveStatic(ctx: RequestContext, env: Env): Promise<Reply> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    return {
      kind: 'text',
      status: 405,
      contentType: 'text/plain',
      body: 'Method Not Allowed\n',
      headers: { allow: 'GET, HEAD' },
    }
  }
  let relative: string
  try {
    relative = decodeURIComponent(ctx.pathname.slice('/static/'.length))
  } catch {
    return notFound()
  }
  const path = env.storage.staticPath(relative)
  if (path === undefined) return notFound()
  const info = await stat(path).catch(() => undefined)
  if (info === undefined || !info.isFile()) return notFound()

  const size = info.size
  const headers: Record<string, string> = {
    'content-type': mimeFor(path),
    'last-modified': info.mtime.toUTCString(),
    etag: `"${Math.floor(info.mtimeMs).toString(16)}-${size.toString(16)}"`,
    'accept-ranges': 'bytes',
  }
  if (header(ctx.headers, 'if-none-match') === headers['etag']) return empty(304, headers)

  const range = header(ctx.headers, 'range')
  const match = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim())
  if (match !== null && (match[1] !== '' || match[2] !== '')) {
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
  return { kind: 'file', status: 200, headers, path, start: 0, end: size - 1 }
}
