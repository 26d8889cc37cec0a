import { MESSAGES, WERKZEUG } from './constants.js'
import type { Env } from './env.js'
import {
  OBJECT_ID,
  PROTECTED_CURRENT,
  PROTECTED_LEGACY,
  applyResourceForm,
  parseResourceForm,
  referencedId,
  type FormErrors,
  type ResourceFormValues,
} from './forms.js'
import {
  HttpError,
  abort,
  empty,
  formErrors,
  json,
  readJsonObject,
  type Reply,
  type RequestContext,
} from './http.js'
import { newResource, releaseStoredFile, requireUser } from './api.js'
import { communityPermission, isMember } from './permissions.js'
import { renderCommunityResource } from './render.js'
import type { CommunityResourceState, UserState } from './types.js'

/**
 * Community resources (udata `CommunityResourcesAPI`, `CommunityResourceAPI` in
 * `udata/core/dataset/api.py`; `CommunityResourceForm` in `forms.py`; `CommunityResource` and
 * `ResourceEditPermission`): files or links a user publishes about a dataset they need not own.
 * Reading them needs no key and checks nothing (not even the dataset's visibility); writing them
 * needs the owner, or an admin or editor of the owning organization. The two upload endpoints are
 * in `upload.ts`.
 */

export function requireCommunity(ctx: RequestContext): CommunityResourceState {
  if (ctx.community === undefined) throw new Error('route without {community}')
  return ctx.community
}

/** `community.permissions["edit"|"delete"].test()` → 403. */
export function requireCommunityPermission(
  ctx: RequestContext,
  env: Env,
  community: CommunityResourceState,
): void {
  if (!communityPermission(community, ctx.user, env.store)) throw abort(403, MESSAGES.forbidden)
}

export function communityReply(
  ctx: RequestContext,
  env: Env,
  community: CommunityResourceState,
  status = 200,
  extra: Record<string, unknown> = {},
): Reply {
  return json(
    status,
    { ...renderCommunityResource(community, env.origin(), env.store, ctx.user), ...extra },
    true,
  )
}

// ---------------------------------------------------------------------------------------------
// The list: `community_parser` (sort, page, page_size, organization, dataset, owner)

/** flask-restx `inputs.positive` through reqparse: 400 "Input payload validation failed" with the argument's help. */
function positiveArgument(
  raw: string | null,
  name: string,
  help: string,
  fallback: number,
): number {
  if (raw === null) return fallback
  const invalid = (error: string): HttpError =>
    new HttpError(400, {
      errors: { [name]: `${help} ${error}` },
      message: 'Input payload validation failed',
    })
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(raw)) throw invalid(`${raw} is not a valid integer`)
  const value = Number(raw.replace(/_/g, ''))
  if (value < 1) throw invalid(`Invalid ${name}: ${value}. ${name} must be a positive integer`)
  return value
}

/**
 * A reference filter (`owner`, `dataset`, `organization`): MongoEngine turns it into an ObjectId, so
 * anything else (a slug) is its `ValidationError`, a 400 (`handle_validation_error`).
 */
function objectIdFilter(raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined
  if (!OBJECT_ID.test(raw)) {
    throw new HttpError(400, {
      errors: {},
      message: `'${raw}' is not a valid ObjectId, it must be a 12-byte input or a 24-character hex string`,
    })
  }
  return raw.toLowerCase()
}

type SortKey = (c: CommunityResourceState) => number | string

const SORT_KEYS: Readonly<Record<string, SortKey>> = {
  created_at_internal: (c) => c.createdAt.getTime(),
  last_modified_internal: (c) => c.lastModifiedInternal.getTime(),
  title: (c) => c.title,
  id: (c) => c.id,
}

/** `order_by(sort, "id")`: an unknown field sorts nothing (all equal), leaving the order to `id`. */
function sorted(items: CommunityResourceState[], sort: string): CommunityResourceState[] {
  const descending = sort.startsWith('-')
  const key = SORT_KEYS[sort.replace(/^[-+]/, '')]
  const compare = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0)
  return items.sort((a, b) => {
    const first = key === undefined ? 0 : compare(key(a), key(b)) * (descending ? -1 : 1)
    return first !== 0 ? first : compare(a.id, b.id)
  })
}

/** `GET /api/1/datasets/community_resources/`: every community resource (no visibility check), paginated. */
export async function listCommunityResources(ctx: RequestContext, env: Env): Promise<Reply> {
  const sort = ctx.query.get('sort') ?? '-created_at_internal'
  const page = positiveArgument(ctx.query.get('page'), 'page', 'The page to fetch', 1)
  const pageSize = positiveArgument(
    ctx.query.get('page_size'),
    'page_size',
    'The page size to fetch',
    20,
  )
  const organization = objectIdFilter(ctx.query.get('organization'))
  const dataset = objectIdFilter(ctx.query.get('dataset'))
  const owner = objectIdFilter(ctx.query.get('owner'))
  const matching = sorted(
    env.store.communityResources.filter(
      (c) =>
        (owner === undefined || c.owner === owner) &&
        (dataset === undefined || c.dataset === dataset) &&
        (organization === undefined || c.organization === organization),
    ),
    sort,
  )
  const start = (page - 1) * pageSize
  const items = matching.slice(start, start + pageSize)
  if (items.length === 0 && page !== 1) throw abort(404, WERKZEUG.notFound) // flask-mongoengine `Pagination`
  const link = (n: number): string => {
    const params = new URLSearchParams(ctx.query)
    params.set('page', String(n))
    return `${env.origin()}${ctx.pathname}?${params.toString()}`
  }
  return json(
    200,
    {
      data: items.map((c) => renderCommunityResource(c, env.origin(), env.store, ctx.user)),
      next_page: start + pageSize < matching.length ? link(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page: page > 1 ? link(page - 1) : null,
      total: matching.length,
    },
    true,
  )
}

// ---------------------------------------------------------------------------------------------
// `CommunityResourceForm`: the resource form plus `dataset`, `owner`, `organization`

interface CommunityFormValues extends ResourceFormValues {
  dataset?: string
  owner: string | null
  organization: string | null
}

function has(body: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key)
}

/** A `ModelFieldMixin` field: `clean_oid` then a lookup ("Unsupported identifier", "<Model> does not exists"). */
function modelReference(
  body: Record<string, unknown>,
  key: string,
  model: string,
  exists: (id: string) => string | undefined,
  errors: FormErrors,
): string | undefined {
  const ref = referencedId(body[key])
  if (ref === undefined) return undefined
  if (!OBJECT_ID.test(ref)) errors[key] = [`Unsupported identifier: ${ref}`]
  else {
    const found = exists(ref.toLowerCase())
    if (found !== undefined) return found
    errors[key] = [`${model} does not exists`]
  }
  return undefined
}

/**
 * `CurrentUserField` (`owner`: defaults to the caller on creation, cannot change afterwards, only
 * oneself) and `PublishAsField` (`organization`: one the caller belongs to; sending the key clears the
 * owner; left out, an organization-owned resource stays so unless an owner is given). An existing
 * organization cannot be swapped for another ("Please use transfer feature").
 */
function parsePublisher(
  body: Record<string, unknown>,
  existing: CommunityResourceState | undefined,
  user: UserState,
  env: Env,
  errors: FormErrors,
): Pick<CommunityFormValues, 'owner' | 'organization'> {
  const userExists = (id: string): string | undefined => (env.store.users.has(id) ? id : undefined)
  const orgExists = (id: string): string | undefined =>
    env.store.organizations.find((o) => o.id === id)?.id
  let owner =
    (body['owner'] === null
      ? undefined
      : modelReference(body, 'owner', 'User', userExists, errors)) ??
    (existing === undefined ? user.id : existing.owner)
  if (existing?.owner != null && owner !== existing.owner)
    errors['owner'] = ['Cannot change owner after creation. Please use transfer feature.']
  else if (owner !== null && owner !== user.id)
    errors['owner'] = ['You can only set yourself as owner']
  let organization =
    modelReference(body, 'organization', 'Organization', orgExists, errors) ??
    existing?.organization ??
    null
  const org = organization === null ? undefined : env.store.organization(organization)
  if (existing?.organization != null && organization !== existing.organization) {
    errors['organization'] = ['Cannot change owner after creation. Please use transfer feature.']
  } else if (org !== undefined && !isMember(org, user))
    errors['organization'] = ['Permission denied for this organization']
  if (has(body, 'organization')) owner = null
  else if (existing?.organization == null || owner !== null) organization = null
  return { owner, organization }
}

function parseCommunityForm(
  body: Record<string, unknown>,
  existing: CommunityResourceState | undefined,
  user: UserState,
  env: Env,
): { values: CommunityFormValues; errors: FormErrors } {
  const { values, errors } = parseResourceForm(body, existing)
  const datasetExists = (id: string): string | undefined =>
    env.store.datasets.find((d) => d.id === id)?.id
  const dataset =
    modelReference(body, 'dataset', 'Dataset', datasetExists, errors) ??
    existing?.dataset ??
    undefined
  return {
    values: {
      ...values,
      ...(dataset !== undefined ? { dataset } : {}),
      ...parsePublisher(body, existing, user, env, errors),
    },
    errors,
  }
}

/** The API sets the caller as owner when the form left neither owner nor organization. */
function applyPublisher(
  community: CommunityResourceState,
  values: CommunityFormValues,
  user: UserState,
): void {
  community.owner = values.owner
  community.organization = values.organization
  if (community.organization === null && community.owner === null) community.owner = user.id
}

// ---------------------------------------------------------------------------------------------
// Views

/** `POST /api/1/datasets/community_resources/`: remote community resources only, `dataset` required. */
export async function postCommunityResource(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const body = await readJsonObject(ctx)
  const { values, errors } = parseCommunityForm(body, undefined, user, env)
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  if (values.filetype !== 'remote')
    throw abort(400, 'This endpoint only supports remote community resources')
  if (values.dataset === undefined)
    throw new HttpError(400, { errors: { dataset: 'A dataset identifier is required' } })
  const community: CommunityResourceState = {
    ...newResource(values, new Date()),
    dataset: values.dataset,
    owner: null,
    organization: null,
  }
  applyPublisher(community, values, user)
  env.store.communityResources.push(community)
  return communityReply(ctx, env, community, 201)
}

export async function getCommunityResource(ctx: RequestContext, env: Env): Promise<Reply> {
  return communityReply(ctx, env, requireCommunity(ctx))
}

/**
 * `PUT /api/1/datasets/community_resources/{community}/`: a partial update like a resource's (absent
 * keys kept, hosted-file fields protected), but without the resource PUT's extras: no "Cannot modify
 * filetype" check (a remote one may become `file`), and `"checksum": null` / `"schema": null` clear
 * nothing (udata's workaround for `populate_obj` is in `ResourceAPI.put` only). `dataset` may change.
 */
export async function putCommunityResource(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const community = requireCommunity(ctx)
  requireCommunityPermission(ctx, env, community)
  const body = await readJsonObject(ctx)
  const { values, errors } = parseCommunityForm(body, community, user, env)
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  const { checksum, schema, ...rest } = values
  applyResourceForm(
    community,
    { ...rest, ...(checksum !== null ? { checksum } : {}), ...(schema !== null ? { schema } : {}) },
    env.legacy ? PROTECTED_LEGACY : PROTECTED_CURRENT,
  )
  if (values.dataset !== undefined) community.dataset = values.dataset
  applyPublisher(community, values, user)
  community.lastModifiedInternal = new Date()
  return communityReply(ctx, env, community)
}

/** `DELETE …/community_resources/{community}/`: 204, its stored file deleted. */
export async function deleteCommunityResource(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const community = requireCommunity(ctx)
  requireCommunityPermission(ctx, env, community)
  const list = env.store.communityResources
  list.splice(list.indexOf(community), 1)
  await releaseStoredFile(env, community.fsFilename)
  return empty(204)
}
