import * as accounts from './accounts.js'
import * as api from './api.js'
import type { Env } from './env.js'
import { UUID_RE, type Reply, type RequestContext } from './http.js'
import * as community from './community.js'
import { uploadCommunityExisting, uploadCommunityNew, uploadExisting, uploadNew } from './upload.js'

export type Handler = (ctx: RequestContext, env: Env) => Promise<Reply>

interface Route {
  /**
   * Literal segments, `:dataset` / `:org` (id or slug), `:rid` (a UUID, Werkzeug's `<uuid:...>`) or
   * `:crid` (any segment: udata's `crid` model converter looks it up, a 404 when unknown).
   */
  segments: readonly string[]
  /** Rule ends with a slash: a request without it is redirected (308), like Werkzeug's strict_slashes. */
  slash: boolean
  methods: Readonly<Partial<Record<string, Handler>>>
}

function route(pattern: string, methods: Route['methods']): Route {
  const slash = pattern.endsWith('/')
  return { segments: pattern.split('/').filter((s) => s !== ''), slash, methods }
}

/** Literal routes come before the ones with a `{dataset}` in the same position. */
const ROUTES: readonly Route[] = [
  route('/api/1/datasets/extensions/', { GET: api.getExtensions }),
  route('/api/1/datasets/resource_types/', { GET: api.getResourceTypes }),
  route('/api/1/datasets/frequencies/', { GET: api.getFrequencies }),
  route('/api/1/datasets/licenses/', { GET: api.getLicenses }),
  route('/api/1/datasets/r/:rid', { GET: api.resourceRedirect }),
  route('/api/1/datasets/', { GET: accounts.listDatasets, POST: accounts.postDataset }),
  route('/api/1/datasets/community_resources/', {
    GET: community.listCommunityResources,
    POST: community.postCommunityResource,
  }),
  route('/api/1/datasets/community_resources/:crid/', {
    GET: community.getCommunityResource,
    PUT: community.putCommunityResource,
    DELETE: community.deleteCommunityResource,
  }),
  route('/api/1/datasets/community_resources/:crid/upload/', { POST: uploadCommunityExisting }),
  route('/api/1/me/', { GET: api.getMe }),
  route('/api/1/me/datasets/', { GET: accounts.myDatasets }),
  route('/api/1/organizations/:org/', { GET: accounts.getOrganization }),
  route('/api/1/organizations/:org/datasets/', { GET: accounts.organizationDatasets }),
  route('/api/1/datasets/:dataset/', {
    GET: api.getDataset,
    PUT: api.putDataset,
    DELETE: api.deleteDataset,
  }),
  route('/api/1/datasets/:dataset/upload/', { POST: uploadNew }),
  route('/api/1/datasets/:dataset/upload/community/', { POST: uploadCommunityNew }),
  route('/api/1/datasets/:dataset/resources/', {
    POST: api.postResource,
    PUT: api.reorderResources,
  }),
  route('/api/1/datasets/:dataset/resources/:rid/', {
    GET: api.getResource,
    PUT: api.putResource,
    DELETE: api.deleteResource,
  }),
  route('/api/1/datasets/:dataset/resources/:rid/upload/', { POST: uploadExisting }),
  route('/api/2/datasets/resources/:rid/', { GET: api.getResourceV2 }),
  route('/api/2/datasets/:dataset/resources/', { GET: api.listResourcesV2 }),
  route('/api/2/datasets/:dataset/extras/', {
    PUT: api.putDatasetExtras,
    DELETE: api.deleteDatasetExtras,
  }),
  route('/api/2/datasets/:dataset/resources/:rid/extras/', {
    GET: api.getResourceExtras,
    PUT: api.putResourceExtras,
    DELETE: api.deleteResourceExtras,
  }),
]

interface Params {
  dataset?: string
  org?: string
  rid?: string
  crid?: string
}

export type RouteMatch =
  | { kind: 'route'; methods: Route['methods']; params: Params }
  | { kind: 'slash' }
  | { kind: 'none' }

function matchSegments(route: Route, segments: readonly string[]): Params | undefined {
  if (route.segments.length !== segments.length) return undefined
  const params: Params = {}
  for (const [index, expected] of route.segments.entries()) {
    const actual = segments[index] as string
    if (expected === ':dataset') params.dataset = actual
    else if (expected === ':org') params.org = actual
    else if (expected === ':crid') params.crid = actual
    else if (expected === ':rid') {
      if (!UUID_RE.test(actual)) return undefined
      params.rid = actual.toLowerCase()
    } else if (expected !== actual) return undefined
  }
  return params
}

/** Match a decoded path against the API routes. */
export function matchRoute(pathname: string): RouteMatch {
  const trailing = pathname.endsWith('/')
  const raw = pathname.split('/').slice(1, trailing ? -1 : undefined)
  if (raw.some((s) => s === '')) return { kind: 'none' }
  let segments: string[]
  try {
    segments = raw.map((s) => decodeURIComponent(s))
  } catch {
    return { kind: 'none' }
  }
  let slashRedirect = false
  for (const candidate of ROUTES) {
    const params = matchSegments(candidate, segments)
    if (params === undefined) continue
    if (candidate.slash === trailing) {
      return { kind: 'route', methods: candidate.methods, params }
    }
    if (candidate.slash && !trailing) slashRedirect = true
  }
  return slashRedirect ? { kind: 'slash' } : { kind: 'none' }
}

/** The same path with `{dataset}` (its first occurrence after `/datasets/`) replaced. */
export function replaceDatasetSegment(pathname: string, from: string, to: string): string {
  const segments = pathname.split('/')
  const index = segments.findIndex(
    (s, i) => i > 0 && segments[i - 1] === 'datasets' && safeDecode(s) === from,
  )
  if (index < 0) return pathname
  segments[index] = encodeURIComponent(to)
  return segments.join('/')
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
