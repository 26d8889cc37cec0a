/**
 * Response schemas of the data.gouv.fr API v1 (docs/udata-protocol.md Appendix A), validated at the
 * boundary.
 */
import { z } from 'zod'

export const RESOURCE_TYPES = ['main', 'documentation', 'update', 'api', 'code', 'other'] as const
export type ResourceType = (typeof RESOURCE_TYPES)[number]

const ChecksumSchema = z.looseObject({
  type: z.string(),
  value: z.string(),
})

const SchemaRefSchema = z.looseObject({
  name: z.string().nullish(),
  version: z.string().nullish(),
  url: z.string().nullish(),
})

export const ResourceSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  description: z.string().nullish(),
  filetype: z.string(),
  type: z.string(),
  format: z.string().nullish(),
  url: z.string(),
  latest: z.string().nullish(),
  checksum: ChecksumSchema.nullish(),
  filesize: z.number().nullish(),
  mime: z.string().nullish(),
  created_at: z.string().nullish(),
  last_modified: z.string().nullish(),
  extras: z.record(z.string(), z.unknown()).nullish(),
  schema: SchemaRefSchema.nullish(),
})
export type Resource = z.infer<typeof ResourceSchema>

export const DatasetSchema = z.looseObject({
  id: z.string(),
  slug: z.string(),
  title: z.string(),
  description: z.string().nullish(),
  page: z.string().nullish(),
  private: z.boolean().nullish(),
  tags: z.array(z.string()).nullish(),
  frequency: z.string().nullish(),
  frequency_date: z.string().nullish(),
  temporal_coverage: z
    .looseObject({ start: z.string().nullish(), end: z.string().nullish() })
    .nullish(),
  spatial: z
    .looseObject({ zones: z.array(z.unknown()).nullish(), granularity: z.string().nullish() })
    .nullish(),
  license: z.string().nullish(),
  extras: z.record(z.string(), z.unknown()).nullish(),
  /** The owning organization, or (when none) the owning user. */
  organization: z.looseObject({ id: z.string() }).nullish(),
  owner: z.looseObject({ id: z.string() }).nullish(),
  /** A date when the dataset was deleted: its owner still reads it (others get 410). */
  deleted: z.union([z.string(), z.boolean()]).nullish(),
  /** A date when the dataset was archived. */
  archived: z.union([z.string(), z.boolean()]).nullish(),
  resources: z.array(ResourceSchema),
  /**
   * Since udata 2025-06; absent on older servers, which means "unknown" (docs/udata-protocol.md
   * §2.3).
   */
  permissions: z
    .looseObject({
      edit: z.boolean().optional(),
      edit_resources: z.boolean().optional(),
      delete: z.boolean().optional(),
    })
    .nullish(),
})
export type Dataset = z.infer<typeof DatasetSchema>

export const ExtensionsSchema = z.array(z.string())

/** `GET /datasets/frequencies/` and `/datasets/licenses/`: lists of `{id, ...}`. */
export const IdListSchema = z.array(z.looseObject({ id: z.string() }))

/** The v2 extras endpoints answer with the merged extras. */
export const ExtrasSchema = z.record(z.string(), z.unknown())

/**
 * Answer to a chunk request (docs/udata-protocol.md §5.2): `{"success": true, "error": null,
 * "message": ""}`.
 */
export const ChunkStatusSchema = z.looseObject({
  success: z.boolean(),
  error: z.string().nullish(),
})

/** A v1 page of resources (community resources): `{data, page, page_size, total, next_page}`. */
export const PageSchema = z.looseObject({
  data: z.array(ResourceSchema),
  next_page: z.string().nullish(),
  total: z.number().nullish(),
})

/** `GET /me/`: the key's owner, their organizations and their site roles (`admin`: a sysadmin). */
export const MeSchema = z.looseObject({
  id: z.string(),
  organizations: z.array(z.looseObject({ id: z.string() })).nullish(),
  roles: z.array(z.string()).nullish(),
})
export type Me = z.infer<typeof MeSchema>

/**
 * What the key's owner may do on `dataset`, for servers that do not answer its `permissions`
 * (udata before 2025-06): the rule of udata's `OwnablePermission` (udata/core/dataset/
 * permissions.py): a member of the owning organization (admin or editor), else the owning user;
 * a sysadmin (role `admin`) may do anything.
 */
export function permissionsOf(dataset: Dataset, me: Me): NonNullable<Dataset['permissions']> {
  const sysadmin = me.roles?.includes('admin') === true
  const organization = dataset.organization?.id
  const mine =
    organization !== undefined
      ? (me.organizations ?? []).some((o) => o.id === organization)
      : dataset.owner?.id === me.id
  const edit = sysadmin || mine
  return { edit, edit_resources: edit, delete: edit }
}

/** The stored file name of a hosted resource: the last segment of its `url`. */
export function storedNameOf(resource: Resource): string | undefined {
  try {
    const segment = new URL(resource.url).pathname.split('/').pop()
    return segment === undefined || segment === '' ? undefined : decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** Whether a resource bears the title udata gives every upload: its stored file name. */
export function bearsStoredName(resource: Resource): boolean {
  return resource.title === storedNameOf(resource)
}
