import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { MESSAGES } from './constants.js'
import { HttpError, prefersHtml, type Reply, type RequestContext } from './http.js'

/** Writing replies: the one place that turns a `Reply` into bytes on the socket. */

/** Read whatever is left of a body so that the answer is sent after the whole request, as behind a proxy. */
export function drain(body: Readable): Promise<void> {
  return new Promise((resolveDrain) => {
    if (body.readableEnded || body.destroyed) {
      resolveDrain()
      return
    }
    const done = (): void => resolveDrain()
    body.once('end', done)
    body.once('close', done)
    body.once('error', done)
    body.resume()
  })
}

/** An exception from a handler as udata's error handlers render it (docs/udata-protocol.md §2.4). */
export function errorReply(error: unknown, ctx: RequestContext): Reply {
  let reply: Reply
  if (error instanceof HttpError) {
    reply = { kind: 'json', status: error.status, body: error.body, headers: { ...error.headers } }
  } else {
    process.stderr.write(
      `udata emulator: unhandled error on ${ctx.method} ${ctx.pathname}: ${String((error as Error)?.stack ?? error)}\n`,
    )
    reply = { kind: 'json', status: 500, body: { message: MESSAGES.internal }, headers: {} }
  }
  if (reply.status === 401)
    reply.headers = { ...reply.headers, 'www-authenticate': 'Bearer realm="uData"' }
  if (reply.status === 404 && prefersHtml(ctx.headers)) {
    reply = {
      kind: 'text',
      status: 404,
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><title>404 Not Found</title><h1>Not Found</h1>\n',
    }
  }
  return reply
}

function sendBytes(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  contentType: string,
  text: string,
): void {
  const body = Buffer.from(text)
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': String(body.length),
  })
  res.end(body)
}

export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) }
  switch (reply.kind) {
    case 'json':
      sendBytes(res, reply.status, headers, 'application/json', `${JSON.stringify(reply.body)}\n`)
      return
    case 'text':
      sendBytes(res, reply.status, headers, reply.contentType, reply.body)
      return
    case 'empty':
      res.writeHead(reply.status, { ...headers, 'content-length': '0' })
      res.end()
      return
    case 'file': {
      const length = reply.end >= reply.start ? reply.end - reply.start + 1 : 0
      res.writeHead(reply.status, { ...headers, 'content-length': String(length) })
      if (req.method === 'HEAD' || length === 0) {
        res.end()
        return
      }
      pipeline(createReadStream(reply.path, { start: reply.start, end: reply.end }), res).catch(
        () => res.destroy(),
      )
      return
    }
  }
}

/** A JSON answer of the admin endpoints (pretty-printed), or an empty one. */
export function sendAdmin(res: ServerResponse, status: number, value?: unknown): void {
  if (value === undefined) {
    res.writeHead(status, { 'content-length': '0' })
    res.end()
    return
  }
  sendBytes(res, status, {}, 'application/json', `${JSON.stringify(value, null, 2)}\n`)
}
