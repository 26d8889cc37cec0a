import { MESSAGES, WERKZEUG } from './constants.js'
import type { Env } from './env.js'
import {
  HttpError,
  abort,
  applyFieldMask,
  empty,
  header,
  parseFieldMask,
  redirect,
  type Reply,
  type RequestContext,
} from './http.js'
import { matchRoute, replaceDatasetSegment, type Handler } from './router.js'
import { serveStatic } from './static.js'

/**
 * From a request to a reply, in udata's order: routing (404 / 308 / 405), the `{dataset}`
 * converter (404, old-slug 308), authentication, the view, then the `X-Fields` mask.
 */

/** `UDataApi.authentify`: a key, when present, must be valid even on public endpoints (docs/udata-protocol.md §2.2). */
function authenticate(ctx: RequestContext, env: Env): void {
  const key = header(ctx.headers, 'x-api-key')
  if (key === undefined || key === '') return
  const user = env.store.userByKey(key)
  if (user === undefined)
    throw abort(401, env.legacy ? MESSAGES.invalidKeyLegacy : MESSAGES.invalidToken)
  if (!user.active) throw abort(401, MESSAGES.inactiveUser)
  user.lastLoginAt = new Date()
  ctx.user = user
}

/** `DatasetConverter` + `lazy_raise_or_redirect`: before the view, hence before authentication. */
function resolveDataset(
  ctx: RequestContext,
  env: Env,
  param: string,
  search: string,
): Reply | undefined {
  const resolved = env.store.resolveDataset(param)
  if (resolved === undefined) throw abort(404, WERKZEUG.notFound)
  if (resolved.redirect)
    return redirect(308, replaceDatasetSegment(ctx.pathname, param, resolved.dataset.slug) + search)
  ctx.dataset = resolved.dataset
  return undefined
}

/** flask-restx `X-Fields` on successful JSON answers of marshalled endpoints. */
function masked(ctx: RequestContext, reply: Reply): Reply {
  const fieldsHeader = header(ctx.headers, 'x-fields')
  if (
    reply.kind !== 'json' ||
    reply.masked !== true ||
    reply.status >= 300 ||
    fieldsHeader === undefined ||
    fieldsHeader.trim() === ''
  )
    return reply
  let mask
  try {
    mask = parseFieldMask(fieldsHeader)
  } catch (error) {
    throw abort(400, `Mask parse error: ${(error as Error).message}`)
  }
  return { ...reply, body: applyFieldMask(reply.body, mask) }
}

function pickHandler(
  ctx: RequestContext,
  methods: Readonly<Partial<Record<string, Handler>>>,
): Handler | Reply {
  const allowed = Object.keys(methods)
  if (allowed.includes('GET')) allowed.push('HEAD')
  allowed.push('OPTIONS')
  if (ctx.method === 'OPTIONS') return empty(200, { allow: allowed.sort().join(', ') })
  const handler = methods[ctx.method === 'HEAD' ? 'GET' : ctx.method]
  if (handler === undefined)
    throw abort(405, WERKZEUG.methodNotAllowed, { allow: allowed.sort().join(', ') })
  return handler
}

export async function dispatch(ctx: RequestContext, env: Env, search: string): Promise<Reply> {
  if (ctx.pathname.startsWith('/static/')) return serveStatic(ctx, env)
  const match = matchRoute(ctx.pathname)
  if (match.kind === 'none') throw new HttpError(404, { error: WERKZEUG.notFound, status: 404 }) // app-level `page_not_found`
  if (match.kind === 'slash') return redirect(308, `${env.origin()}${ctx.pathname}/${search}`)
  const handler = pickHandler(ctx, match.methods)
  if (typeof handler !== 'function') return handler
  const { params } = match
  if (params.dataset !== undefined) {
    const redirect = resolveDataset(ctx, env, params.dataset, search)
    if (redirect !== undefined) return redirect
  }
  if (params.org !== undefined) {
    ctx.org = env.store.organization(params.org)
    if (ctx.org === undefined) throw abort(404, WERKZEUG.notFound)
  }
  if (params.crid !== undefined) {
    ctx.community = env.store.getCommunityResource(params.crid)
    if (ctx.community === undefined) throw abort(404, WERKZEUG.notFound)
  }
  ctx.rid = params.rid
  authenticate(ctx, env)
  return masked(ctx, await handler(ctx, env))
}
