import { isoDate } from './http.js'
import type { DatasetState, ResourceState, UserState } from './types.js'

/**
 * `ResourceMixin.last_modified` (reference §7): for remote resources the analyser's
 * `analysis:last-modified-at` wins, otherwise the last API write.
 */
function resourceLastModified(resource: ResourceState): string {
  const analysed = resource.extras['analysis:last-modified-at']
  if (resource.filetype === 'remote' && typeof analysed === 'string' && analysed !== '') return analysed
  return isoDate(resource.lastModifiedInternal)
}

/** `api_fields.resource_fields` (reference Appendix A). */
export function renderResource(resource: ResourceState, origin: string): Record<string, unknown> {
  return {
    id: resource.id,
    title: resource.title,
    description: resource.description,
    filetype: resource.filetype,
    type: resource.type,
    format: resource.format,
    url: resource.url,
    latest: `${origin}/api/1/datasets/r/${resource.id}`,
    checksum: resource.checksum === null ? null : { ...resource.checksum },
    filesize: resource.filesize,
    mime: resource.mime,
    created_at: isoDate(resource.createdAt),
    last_modified: resourceLastModified(resource),
    internal: {
      created_at_internal: isoDate(resource.createdAt),
      last_modified_internal: isoDate(resource.lastModifiedInternal),
    },
    metrics: {},
    harvest: null,
    extras: { ...resource.extras },
    preview_url: null,
    schema: resource.schema === null ? null : { ...resource.schema },
  }
}

export interface Permissions {
  delete: boolean
  edit: boolean
  edit_resources: boolean
}

/**
 * `OwnableReadPermission`: anyone reads a visible dataset; a private or deleted one only those
 * with rights on it (reference §2.3, §2.4). Archived datasets stay readable by all.
 */
export function canRead(dataset: DatasetState, user: UserState | undefined): boolean {
  return (!dataset.private && dataset.deleted === null) || permissionsFor(dataset, user).edit
}

/** Without organisations or admins, every right belongs to the owner (reference §2.3). */
export function permissionsFor(dataset: DatasetState, user: UserState | undefined): Permissions {
  const owner = user !== undefined && user.active && user.id === dataset.owner
  return { delete: owner, edit: owner, edit_resources: owner }
}

function lastUpdate(dataset: DatasetState): string {
  const dates = dataset.resources.map((r) => resourceLastModified(r)).map((d) => new Date(d))
  if (dates.length === 0) return isoDate(dataset.lastModifiedInternal)
  return isoDate(new Date(Math.max(...dates.map((d) => d.getTime()))))
}

export function renderUser(user: UserState, origin: string): Record<string, unknown> {
  return {
    id: user.id,
    slug: `user-${user.id}`,
    first_name: 'Emulated',
    last_name: 'User',
    avatar: null,
    avatar_thumbnail: null,
    page: `${origin}/users/user-${user.id}/`,
    uri: `${origin}/api/1/users/user-${user.id}/`,
    class: 'User',
  }
}

/** `dataset_fields` of API v1 (the subset a publishing client can care about). */
export function renderDataset(dataset: DatasetState, origin: string, owner: UserState | undefined, caller: UserState | undefined): Record<string, unknown> {
  return {
    id: dataset.id,
    title: dataset.title,
    acronym: null,
    slug: dataset.slug,
    description: dataset.description,
    description_short: dataset.descriptionShort,
    created_at: isoDate(dataset.createdAt),
    last_modified: isoDate(dataset.lastModifiedInternal),
    last_update: lastUpdate(dataset),
    deleted: dataset.deleted === null ? null : isoDate(dataset.deleted),
    archived: dataset.archived === null ? null : isoDate(dataset.archived),
    featured: false,
    private: dataset.private,
    tags: [...dataset.tags],
    badges: [],
    resources: dataset.resources.map((r) => renderResource(r, origin)),
    community_resources: [],
    frequency: dataset.frequency,
    frequency_date: dataset.frequencyDate,
    extras: { ...dataset.extras },
    metrics: { discussions: 0, followers: 0, reuses: 0, views: 0, resources_downloads: 0 },
    organization: null,
    owner: owner === undefined ? null : renderUser(owner, origin),
    temporal_coverage: dataset.temporalCoverage === null ? null : { ...dataset.temporalCoverage },
    spatial: dataset.spatial === null ? null : { zones: [...dataset.spatial.zones], granularity: dataset.spatial.granularity, geom: null },
    license: dataset.license,
    uri: `${origin}/api/1/datasets/${dataset.slug}/`,
    page: `${origin}/datasets/${dataset.slug}/`,
    contact_points: [],
    harvest: null,
    internal: {
      created_at_internal: isoDate(dataset.createdAt),
      last_modified_internal: isoDate(dataset.lastModifiedInternal),
    },
    permissions: permissionsFor(dataset, caller),
  }
}
