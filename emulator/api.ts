import { randomUUID } from 'node:crypto'

import {
  FREQUENCIES,
  LEGACY_FREQUENCIES,
  LICENSES,
  MESSAGES,
  RESOURCE_TYPES,
  WERKZEUG,
} from './constants.js'
import type { Env } from './env.js'
import { modelValidationError, parseDatasetForm, type DatasetFormValues } from './dataset-form.js'
import {
  PROTECTED_CURRENT,
  PROTECTED_LEGACY,
  applyResourceForm,
  parseResourceForm,
  type FormErrors,
  type ResourceFormValues,
} from './forms.js'
import {
  HttpError,
  abort,
  empty,
  formErrors,
  internalError,
  isPlainObject,
  json,
  readFlaskJson,
  readJsonObject,
  type Reply,
  type RequestContext,
} from './http.js'
import { canRead, permissionsFor } from './permissions.js'
import { renderDataset, renderMe, renderResource } from './render.js'
import type { DatasetState, ResourceState, UserState } from './types.js'

// ---------------------------------------------------------------------------------------------
// Guards, in the order udata applies them: `@api.secure`, then the view's own checks.

/** `@api.secure` without credentials: Werkzeug's 401 text (docs/udata-protocol.md §2.2). */
export function requireUser(ctx: RequestContext): UserState {
  if (ctx.user === undefined) throw abort(401, WERKZEUG.unauthorized)
  return ctx.user
}

export function requireDataset(ctx: RequestContext): DatasetState {
  if (ctx.dataset === undefined) throw new Error('route without {dataset}')
  return ctx.dataset
}

/** `dataset.permissions[...].test()` → 403 (docs/udata-protocol.md §2.3). */
export function requirePermission(ctx: RequestContext, env: Env, dataset: DatasetState): void {
  if (!permissionsFor(dataset, ctx.user, env.store).edit) throw abort(403, MESSAGES.forbidden)
}

/**
 * Read endpoints (`if not dataset.permissions["read"].can()`): a deleted public dataset is 410 to
 * those who cannot read it, a private one 404; its owner reads it, `deleted` set (docs/udata-protocol.md §2.4).
 */
function requireVisible(ctx: RequestContext, env: Env, dataset: DatasetState): void {
  if (canRead(dataset, ctx.user, env.store)) return
  if (!dataset.private && dataset.deleted !== null) throw abort(410, MESSAGES.datasetDeleted)
  throw abort(404, WERKZEUG.notFound)
}

/** `get_resource_or_404`. */
export function requireResource(dataset: DatasetState, rid: string | undefined): ResourceState {
  const resource = dataset.resources.find((r) => r.id === rid)
  if (resource === undefined) throw abort(404, MESSAGES.resourceMissing)
  return resource
}

export function datasetReply(
  ctx: RequestContext,
  env: Env,
  dataset: DatasetState,
  status = 200,
): Reply {
  return json(status, renderDataset(dataset, env.origin(), env.store, ctx.user), true)
}

function has(body: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key)
}

/** Delete a stored file unless another resource still points at it. */
export async function releaseStoredFile(env: Env, fsFilename: string | null): Promise<void> {
  if (fsFilename === null) return
  if (!env.store.fileInUse(fsFilename)) await env.storage.deleteStatic(fsFilename)
}

// ---------------------------------------------------------------------------------------------
// Reference lists

export async function getExtensions(_ctx: RequestContext, env: Env): Promise<Reply> {
  return json(200, [...env.extensions].sort())
}

export async function getResourceTypes(): Promise<Reply> {
  return json(
    200,
    RESOURCE_TYPES.map((t) => ({ ...t })),
  )
}

/** `FrequenciesAPI`: v17's `UpdateFrequency` (ids and labels), or v7's list in `legacy`. */
export async function getFrequencies(_ctx: RequestContext, env: Env): Promise<Reply> {
  const list = env.legacy ? LEGACY_FREQUENCIES : FREQUENCIES
  return json(
    200,
    list.map(({ id, label }) => ({ id, label })),
  )
}

export async function getLicenses(): Promise<Reply> {
  return json(
    200,
    LICENSES.map((l) => ({ ...l })),
  )
}

/**
 * `GET /api/1/datasets/r/{rid}` → 302 to the url (`resource.url.strip()`) of a dataset's resource or
 * else of a community resource (`get_resource`), no visibility check (docs/udata-protocol.md §8).
 */
export async function resourceRedirect(ctx: RequestContext, env: Env): Promise<Reply> {
  const found = ctx.rid === undefined ? undefined : env.store.findAnyResource(ctx.rid)
  if (found === undefined) throw abort(404, MESSAGES.resourceNotFound)
  return empty(302, { location: found.url.trim() })
}

export async function getMe(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const owned = env.store.datasets.filter((d) => d.owner === user.id && d.deleted === null).length
  const orgs = env.store.organizationsOf(user.id)
  return json(200, renderMe(user, env.origin(), orgs, owned), true)
}

// ---------------------------------------------------------------------------------------------
// Datasets

export async function getDataset(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  requireVisible(ctx, env, dataset)
  return datasetReply(ctx, env, dataset)
}

/**
 * Copy a parsed `DatasetForm` onto a dataset (a new title renames the slug, see `Store.retitle`),
 * then what `Dataset.clean` enforces on save: an access other than `open` has no license. `now`
 * is the save's time, the dataset's new `last_modified`.
 */
export function applyDatasetValues(
  env: Env,
  dataset: DatasetState,
  values: DatasetFormValues,
  now: Date,
): void {
  const { title, archived, ...rest } = values
  if (title !== undefined) env.store.retitle(dataset, title)
  Object.assign(dataset, rest) // the other keys are named as the state's, never undefined
  if (archived !== undefined) dataset.archived = archived === null ? null : new Date(archived)
  dataset.lastModifiedInternal = now
  if (!env.legacy && dataset.accessType !== 'open' && dataset.license !== null) {
    dataset.license = null
    dataset.licenseDroppedAt = now
  }
}

/** `NestedModelList.populate_obj`: matched by id, unknown ids get new ones, omitted ones go. */
export function replaceResources(
  env: Env,
  dataset: DatasetState,
  replacement: ParsedResourceList,
  now: Date,
): void {
  const protectedFields = env.legacy ? PROTECTED_LEGACY : PROTECTED_CURRENT
  dataset.resources = replacement.map(({ existing, values: entry }) => {
    if (existing === undefined) return newResource(entry, now)
    applyResourceForm(existing, entry, protectedFields)
    return existing
  })
}

/** `PUT /datasets/{dataset}/` (docs/udata-protocol.md §6.3). */
export async function putDataset(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  // `request.json.get("deleted", True)` before the form: Flask's 415 / 400, then a JSON list is
  // an AttributeError (500); the form's own checks (`api.validate`) come after.
  const body = await readFlaskJson(ctx)
  if (!isPlainObject(body)) throw internalError()
  const restoring = has(body, 'deleted') && body['deleted'] === null
  if (dataset.deleted !== null && !restoring) throw abort(410, MESSAGES.datasetDeleted)
  requirePermission(ctx, env, dataset)

  const { values, errors, modelErrors } = parseDatasetForm(body, {
    legacy: env.legacy,
    existing: dataset,
  })
  const replacement = has(body, 'resources')
    ? parseResourceList(body['resources'], dataset, errors)
    : undefined
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  if (Object.keys(modelErrors).length > 0)
    throw new HttpError(400, modelValidationError(dataset.id, modelErrors))

  const now = new Date()
  applyDatasetValues(env, dataset, values, now)
  if (restoring) dataset.deleted = null
  if (replacement !== undefined) replaceResources(env, dataset, replacement, now)
  return datasetReply(ctx, env, dataset)
}

export type ParsedResourceList = Array<{
  existing: ResourceState | undefined
  values: ResourceFormValues
}>

/** The `resources` key of a dataset form: entries matched to the dataset's resources by id. */
export function parseResourceList(
  raw: unknown,
  dataset: DatasetState | undefined,
  errors: FormErrors,
): ParsedResourceList | undefined {
  if (!Array.isArray(raw)) {
    errors['resources'] = ['Expected a list of resources.']
    return undefined
  }
  const entryErrors: FormErrors[] = []
  const parsed = raw.map((item: unknown) => {
    if (!isPlainObject(item)) {
      entryErrors.push({ resource: ['Expected an object.'] })
      return { existing: undefined, values: {} }
    }
    const id = typeof item['id'] === 'string' ? item['id'].toLowerCase() : undefined
    const existing = dataset?.resources.find((r) => r.id === id)
    const { values, errors: itemErrors } = parseResourceForm(item, existing)
    entryErrors.push(itemErrors)
    return { existing, values }
  })
  if (entryErrors.some((e) => Object.keys(e).length > 0)) errors['resources'] = entryErrors
  return parsed
}

export function newResource(values: ResourceFormValues, now: Date): ResourceState {
  return {
    id: randomUUID(),
    title: values.title ?? '',
    description: values.description ?? null,
    filetype: values.filetype ?? 'file',
    type: values.type ?? 'other',
    format: values.format ?? null,
    url: values.url ?? '',
    checksum: values.checksum ?? null,
    filesize: values.filesize ?? null,
    mime: values.mime ?? null,
    extras: values.extras ?? {},
    schema: values.schema ?? null,
    createdAt: now,
    lastModifiedInternal: now,
    fsFilename: null,
  }
}

export async function deleteDataset(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  if (dataset.deleted !== null) throw abort(410, MESSAGES.datasetDeleted)
  requirePermission(ctx, env, dataset)
  dataset.deleted = new Date()
  return empty(204)
}

// ---------------------------------------------------------------------------------------------
// Resources (API v1)

/** `POST /datasets/{dataset}/resources/`: remote resources only (docs/udata-protocol.md §6.2). */
export async function postResource(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  const body = await readJsonObject(ctx)
  const { values, errors } = parseResourceForm(body, undefined)
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  if (values.filetype !== 'remote') throw abort(400, MESSAGES.remoteOnly)
  const now = new Date()
  const resource = newResource(values, now)
  dataset.resources.unshift(resource)
  dataset.lastModifiedInternal = now
  env.analyser.resourceChanged(resource.id) // `add_resource` → `on_resource_added`
  return json(201, renderResource(resource, env.origin(), env.store.tabularExploreUrl), true)
}

/** Python's `len()` and iteration of `request.json`: a list's items, a dict's keys, a string's characters. */
function pythonItems(data: unknown): unknown[] {
  if (Array.isArray(data)) return data
  if (isPlainObject(data)) return Object.keys(data)
  if (typeof data === 'string') return [...data]
  throw internalError() // `len(None)`, `len(3)`: a TypeError, unhandled
}

/** A Python `set` of strings as `str()` prints it: `{'a', 'b'}`. */
function pythonSet(items: readonly string[]): string {
  return items.length === 0 ? 'set()' : `{${items.map((i) => `'${i}'`).join(', ')}}`
}

/**
 * `PUT /datasets/{dataset}/resources/` (`ResourcesAPI.put`, docs/udata-protocol.md §6.4): the complete
 * list of ids (strings or `{"id": …}` objects, which may carry other fields: the entries go through
 * `ResourcesListForm`, so they update those resources too) in the new order. Checked in udata's
 * order: the count, an object without `id`, the exact set of ids. `last_modified` is left alone.
 */
export async function reorderResources(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  const list = pythonItems(await readFlaskJson(ctx))
  const total = dataset.resources.length
  if (list.length !== total)
    throw abort(400, `All resources must be reordered, you provided ${list.length} out of ${total}`)
  if (list.some((r) => isPlainObject(r) && !has(r, 'id')))
    throw abort(400, "Each resource must have an 'id' field")
  const given = new Set(list.map((r) => (isPlainObject(r) ? r['id'] : r)))
  const ids = dataset.resources.map((r) => r.id)
  if (given.size !== ids.length || ids.some((id) => !given.has(id))) {
    throw abort(400, `Resource ids must match existing ones in dataset, ie: ${pythonSet(ids)}`)
  }
  const errors: FormErrors = {}
  const entries = list.map((r) => (isPlainObject(r) ? r : { id: r }))
  const parsed = parseResourceList(entries, dataset, errors) as ParsedResourceList
  if (errors['resources'] !== undefined) throw new HttpError(400, { errors: errors['resources'] })
  replaceResources(env, dataset, parsed, new Date())
  return json(
    200,
    dataset.resources.map((r) => renderResource(r, env.origin(), env.store.tabularExploreUrl)),
    true,
  )
}

export async function getResource(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  requireVisible(ctx, env, dataset)
  const resource = requireResource(dataset, ctx.rid)
  return json(200, renderResource(resource, env.origin(), env.store.tabularExploreUrl), true)
}

/** `PUT /datasets/{dataset}/resources/{rid}/`: partial update (docs/udata-protocol.md §6.1). */
export async function putResource(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  const resource = requireResource(dataset, ctx.rid)
  const body = await readJsonObject(ctx)
  const { values, errors } = parseResourceForm(body, resource)
  if (Object.keys(errors).length > 0) throw formErrors(errors)
  if (values.filetype !== undefined && values.filetype !== resource.filetype)
    throw abort(400, MESSAGES.filetypeChange)
  applyResourceForm(resource, values, env.legacy ? PROTECTED_LEGACY : PROTECTED_CURRENT)
  const now = new Date()
  resource.lastModifiedInternal = now
  dataset.lastModifiedInternal = now
  env.analyser.resourceChanged(resource.id) // `update_resource` → `on_resource_updated`
  return json(200, renderResource(resource, env.origin(), env.store.tabularExploreUrl), true)
}

export async function deleteResource(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  const resource = requireResource(dataset, ctx.rid)
  dataset.resources = dataset.resources.filter((r) => r !== resource)
  dataset.lastModifiedInternal = new Date()
  await releaseStoredFile(env, resource.fsFilename)
  return empty(204)
}

// ---------------------------------------------------------------------------------------------
// API v2 helpers (docs/udata-protocol.md §1, §6.5)

/** apiv2 `ResourceAPI.get`: a dataset's resource (visibility checked), else a community resource (not checked). */
export async function getResourceV2(ctx: RequestContext, env: Env): Promise<Reply> {
  const rid = ctx.rid ?? ''
  const found = env.store.findResource(rid)
  if (found !== undefined) requireVisible(ctx, env, found.dataset)
  const community = found === undefined ? env.store.getCommunityResource(rid) : undefined
  const resource = found?.resource ?? community
  if (resource === undefined) throw abort(404, MESSAGES.resourceMissing)
  const datasetId = found?.dataset.id ?? community?.dataset ?? null
  return json(
    200,
    {
      resource: renderResource(resource, env.origin(), env.store.tabularExploreUrl),
      dataset_id: datasetId,
    },
    true,
  )
}

/** flask-restx reqparse `type=int` (docs/udata-protocol.md §2.4: "Input payload validation failed"). */
export function intArgument(raw: string | null | undefined, name: string): number | undefined {
  if (raw === null || raw === undefined) return undefined
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(raw)) {
    throw new HttpError(400, {
      errors: { [name]: `invalid literal for int() with base 10: '${raw}'` },
      message: 'Input payload validation failed',
    })
  }
  return Number(raw.replace(/_/g, ''))
}

export async function listResourcesV2(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  requireVisible(ctx, env, dataset)
  const page = Math.max(1, intArgument(ctx.query.get('page'), 'page') ?? 1)
  const pageSize = Math.max(1, intArgument(ctx.query.get('page_size'), 'page_size') ?? 50)
  const type = ctx.query.get('type')
  const q = ctx.query.get('q')?.toLowerCase()
  const matching = dataset.resources.filter(
    (r) =>
      (type === null || type === '' || r.type === type) &&
      (q === undefined || q === '' || r.title.toLowerCase().includes(q)),
  )
  const pageUrl = (n: number): string => {
    const params = new URLSearchParams(ctx.query)
    params.set('page', String(n))
    params.set('page_size', String(pageSize))
    return `${env.origin()}${ctx.pathname}?${params.toString()}`
  }
  const start = (page - 1) * pageSize
  return json(
    200,
    {
      data: matching
        .slice(start, start + pageSize)
        .map((r) => renderResource(r, env.origin(), env.store.tabularExploreUrl)),
      next_page: start + pageSize < matching.length ? pageUrl(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page: page > 1 ? pageUrl(page - 1) : null,
      total: matching.length,
    },
    true,
  )
}

/**
 * The v2 extras endpoints check, in order: the payload shape (400), `deleted` (410, even for the
 * owner), the permission (403), the resource (404).
 */
async function extrasPayload<T>(
  ctx: RequestContext,
  env: Env,
  dataset: DatasetState,
  check: (data: unknown) => data is T,
  message: string,
): Promise<T> {
  requireUser(ctx)
  const data = await readFlaskJson(ctx)
  if (!check(data)) throw abort(400, message)
  if (dataset.deleted !== null) throw abort(410, MESSAGES.datasetDeleted)
  requirePermission(ctx, env, dataset)
  return data
}

const isList = (data: unknown): data is unknown[] => Array.isArray(data)

/** Merge: `null` deletes a key (`update_resource_extras`, no `last_modified` bump). */
function mergeExtras(
  extras: Record<string, unknown>,
  data: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...extras }
  for (const [key, value] of Object.entries(data)) {
    if (value === null) delete merged[key]
    else merged[key] = value
  }
  return merged
}

export async function putDatasetExtras(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  const data = await extrasPayload(
    ctx,
    env,
    dataset,
    isPlainObject,
    'Wrong payload format, dict expected',
  )
  dataset.extras = mergeExtras(dataset.extras, data)
  return json(200, { ...dataset.extras })
}

/** Dataset extras: unknown keys are ignored (`except KeyError: pass`). */
export async function deleteDatasetExtras(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  const keys = await extrasPayload(ctx, env, dataset, isList, 'Wrong payload format, list expected')
  const remaining = { ...dataset.extras }
  for (const key of keys) if (typeof key === 'string') delete remaining[key]
  dataset.extras = remaining
  return empty(204)
}

/** `GET /api/2/datasets/{dataset}/resources/{rid}/extras/`: the read checks of a resource GET. */
export async function getResourceExtras(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  requireVisible(ctx, env, dataset)
  return json(200, { ...requireResource(dataset, ctx.rid).extras })
}

export async function putResourceExtras(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  const data = await extrasPayload(
    ctx,
    env,
    dataset,
    isPlainObject,
    'Wrong payload format, dict expected',
  )
  const resource = requireResource(dataset, ctx.rid)
  resource.extras = mergeExtras(resource.extras, data)
  return json(200, { ...resource.extras })
}

/** Resource extras: an unknown key is a 404 and nothing is removed. */
export async function deleteResourceExtras(ctx: RequestContext, env: Env): Promise<Reply> {
  const dataset = requireDataset(ctx)
  const keys = await extrasPayload(ctx, env, dataset, isList, 'Wrong payload format, list expected')
  const resource = requireResource(dataset, ctx.rid)
  const remaining = { ...resource.extras }
  for (const key of keys) {
    if (typeof key !== 'string' || !has(remaining, key))
      throw abort(404, 'Key not found in existing extras')
    delete remaining[key]
  }
  resource.extras = remaining
  return empty(204)
}
