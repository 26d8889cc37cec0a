import { MESSAGES, WERKZEUG } from './constants.js'
import type { Env } from './env.js'
import { modelValidationError, parseDatasetForm } from './dataset-form.js'
import { OBJECT_ID, referencedId, type FormErrors } from './forms.js'
import {
  HttpError,
  abort,
  formErrors,
  json,
  readJsonObject,
  type Reply,
  type RequestContext,
} from './http.js'
import {
  applyDatasetValues,
  datasetReply,
  intArgument,
  parseResourceList,
  replaceResources,
  requireUser,
} from './api.js'
import { canRead, isMember } from './permissions.js'
import { renderDataset, renderOrganization } from './render.js'
import type { DatasetState, OrganizationState, UserState } from './types.js'

/**
 * What a publishing script calls before uploading (udata `DatasetListAPI`, `OrganizationAPI`,
 * `OrgDatasetsAPI`, `MyDatasetsAPI`): create a dataset as oneself or as an organization, read
 * organizations and one's datasets.
 */

function has(body: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key)
}

/**
 * `CurrentUserField` (`owner`, default the caller, only oneself) and `PublishAsField`
 * (`organization`, which the caller must belong to, and which then clears the owner).
 */
function parsePublisher(
  body: Record<string, unknown>,
  user: UserState,
  env: Env,
  errors: FormErrors,
): { owner?: string; organization?: string } {
  const ownerId = body['owner'] === null ? undefined : referencedId(body['owner'])
  if (ownerId !== undefined && !OBJECT_ID.test(ownerId))
    errors['owner'] = [`Unsupported identifier: ${ownerId}`]
  else if (ownerId !== undefined && !env.store.users.has(ownerId))
    errors['owner'] = ['User does not exists']
  else if (ownerId !== undefined && ownerId !== user.id)
    errors['owner'] = ['You can only set yourself as owner']
  const orgId = referencedId(body['organization'])
  if (orgId === undefined) return { owner: user.id }
  const org = env.store.organizations.find((o) => o.id === orgId)
  if (!OBJECT_ID.test(orgId)) errors['organization'] = [`Unsupported identifier: ${orgId}`]
  else if (org === undefined) errors['organization'] = ['Organization does not exists']
  else if (!isMember(org, user))
    errors['organization'] = ['Permission denied for this organization']
  return { organization: orgId }
}

/** `POST /api/1/datasets/` (`DatasetListAPI.post`): `DatasetForm` validated, 201 with the dataset. */
export async function postDataset(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const body = await readJsonObject(ctx)
  const { values, errors, modelErrors } = parseDatasetForm(body, { legacy: env.legacy })
  for (const key of ['title', 'description']) if (!has(body, key)) errors[key] = [MESSAGES.required]
  const publisher = parsePublisher(body, user, env, errors)
  const resources = has(body, 'resources')
    ? parseResourceList(body['resources'], undefined, errors)
    : undefined
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  if (Object.keys(modelErrors).length > 0)
    throw new HttpError(400, modelValidationError('None', modelErrors))

  const dataset = env.store.addDataset({
    ...publisher,
    title: values.title as string,
    description: values.description as string,
  })
  applyDatasetValues(env, dataset, values, dataset.createdAt)
  if (resources !== undefined) replaceResources(env, dataset, resources, dataset.createdAt)
  return datasetReply(ctx, env, dataset, 201)
}

/** A v1 page (`dataset_page_fields`): `data`, `page`, `page_size`, `total`, `next_page`, `previous_page`. */
function page(ctx: RequestContext, env: Env, datasets: readonly DatasetState[]): Reply {
  const number = Math.max(1, intArgument(ctx.query.get('page'), 'page') ?? 1)
  const size = Math.max(1, intArgument(ctx.query.get('page_size'), 'page_size') ?? 20)
  const link = (n: number): string => {
    const params = new URLSearchParams(ctx.query)
    params.set('page', String(n))
    return `${env.origin()}${ctx.pathname}?${params.toString()}`
  }
  const start = (number - 1) * size
  return json(
    200,
    {
      data: datasets
        .slice(start, start + size)
        .map((d) => renderDataset(d, env.origin(), env.store, ctx.user)),
      next_page: start + size < datasets.length ? link(number + 1) : null,
      page: number,
      page_size: size,
      previous_page: number > 1 ? link(number - 1) : null,
      total: datasets.length,
    },
    true,
  )
}

/** `GET /api/1/datasets/`: visible datasets (not private, deleted nor archived); `owner`, `organization`, `q` filters. */
export async function listDatasets(ctx: RequestContext, env: Env): Promise<Reply> {
  const owner = ctx.query.get('owner')
  const organization = ctx.query.get('organization')
  const q = ctx.query.get('q')?.toLowerCase()
  const org = organization === null ? undefined : env.store.organization(organization)
  const datasets = env.store.datasets.filter(
    (d) =>
      !d.private &&
      d.deleted === null &&
      d.archived === null &&
      (owner === null || d.owner === owner) &&
      (organization === null || d.organization === (org?.id ?? organization)) &&
      (q === undefined || q === '' || d.title.toLowerCase().includes(q)),
  )
  return page(ctx, env, datasets)
}

/** `GET /api/1/me/datasets/`: every dataset the caller owns, private and deleted ones included (a list). */
export async function myDatasets(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const mine = env.store.datasets.filter((d) => d.owner === user.id)
  return json(
    200,
    mine.map((d) => renderDataset(d, env.origin(), env.store, user)),
    true,
  )
}

function requireOrganization(ctx: RequestContext): OrganizationState {
  if (ctx.org === undefined) throw abort(404, WERKZEUG.notFound)
  return ctx.org
}

/** `GET /api/1/organizations/{org}/`: 410 when deleted, except for its members. */
export async function getOrganization(ctx: RequestContext, env: Env): Promise<Reply> {
  const org = requireOrganization(ctx)
  if (org.deleted !== null && !isMember(org, ctx.user))
    throw abort(410, 'Organization has been deleted')
  // `Dataset.objects(organization=org).visible()`: neither private, deleted nor archived.
  const visible = env.store.datasets.filter(
    (d) => d.organization === org.id && !d.private && d.deleted === null && d.archived === null,
  )
  return json(200, renderOrganization(org, env.origin(), env.store, ctx.user, visible), true)
}

/** `GET /api/1/organizations/{org}/datasets/`: its datasets, private ones only for members (a page). */
export async function organizationDatasets(ctx: RequestContext, env: Env): Promise<Reply> {
  const org = requireOrganization(ctx)
  const member = isMember(org, ctx.user)
  const datasets = env.store.datasets.filter(
    (d) =>
      d.organization === org.id &&
      (member || !d.private) &&
      (d.deleted === null || canRead(d, ctx.user, env.store)),
  )
  return page(ctx, env, datasets)
}
