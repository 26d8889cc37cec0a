import { isoDate } from './http.js'
import { renderQuality } from './quality.js'
import { communityPermission, isMember, permissionsFor, type Directory } from './permissions.js'
import type {
  CommunityResourceState,
  DatasetState,
  OrganizationState,
  ResourceState,
  UserState,
} from './types.js'

/**
 * `ResourceMixin.last_modified` (docs/udata-protocol.md §7): for remote resources the analyser's
 * `analysis:last-modified-at` wins, otherwise the last API write.
 */
function resourceLastModified(resource: ResourceState): string {
  const analysed = resource.extras['analysis:last-modified-at']
  if (resource.filetype === 'remote' && typeof analysed === 'string' && analysed !== '')
    return analysed
  return isoDate(resource.lastModifiedInternal)
}

/**
 * `TabularAPIPreview.preview_url`: with udata's `TABULAR_EXPLORE_URL` set (`explore`), a resource
 * the analyser parsed into a table (`analysis:parsing:parsing_table`) has a preview page
 * (`TABULAR_ALLOW_REMOTE` is true by default, so remote resources too).
 */
function previewUrl(resource: ResourceState, explore: string | null): string | null {
  if (explore === null || explore === '' || !('analysis:parsing:parsing_table' in resource.extras))
    return null
  return `${explore}/resources/${resource.id}`
}

/** `api_fields.resource_fields` (docs/udata-protocol.md Appendix A); `explore`: udata's `TABULAR_EXPLORE_URL`. */
export function renderResource(
  resource: ResourceState,
  origin: string,
  explore: string | null,
): Record<string, unknown> {
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
    preview_url: previewUrl(resource, explore),
    schema: resource.schema === null ? null : { ...resource.schema },
  }
}

/** `Dataset.compute_last_update`: the latest resource modification, else the dataset's. */
function lastUpdate(dataset: DatasetState): Date {
  let latest: number | undefined
  for (const r of dataset.resources) {
    const t = new Date(resourceLastModified(r)).getTime()
    if (latest === undefined || t > latest) latest = t
  }
  return latest === undefined ? dataset.lastModifiedInternal : new Date(latest)
}

function renderUser(user: UserState, origin: string): Record<string, unknown> {
  return {
    id: user.id,
    slug: user.slug,
    first_name: user.firstName,
    last_name: user.lastName,
    avatar: null,
    avatar_thumbnail: null,
    page: `${origin}/users/${user.slug}/`,
    uri: `${origin}/api/1/users/${user.slug}/`,
    class: 'User',
  }
}

/**
 * `GET /me/` (`me_fields`): the user as its owner sees it, its `organizations` (references) and
 * `metrics` (the counters udata's jobs keep; `datasets` = those it owns).
 */
export function renderMe(
  user: UserState,
  origin: string,
  orgs: readonly OrganizationState[],
  owned: number,
): Record<string, unknown> {
  const { class: _class, ...ref } = renderUser(user, origin)
  return {
    ...ref,
    about: null,
    website: null,
    email: user.email,
    active: user.active,
    roles: [],
    since: isoDate(user.createdAt),
    last_login_at: user.lastLoginAt === null ? null : isoDate(user.lastLoginAt),
    password_rotation_demanded: null,
    password_rotation_performed: null,
    metrics: { dataservices: 0, datasets: owned, followers: 0, following: 0, reuses: 0 },
    organizations: orgs.map((o) => renderOrganizationRef(o, origin, user)),
  }
}

/**
 * A member as an organization's page shows it: the email half hidden (`_visible_email` in an
 * organization's private context: two characters, then stars), the last login.
 */
function renderMemberUser(user: UserState, origin: string): Record<string, unknown> {
  const [name = '', domain = ''] = user.email.split('@')
  return {
    ...renderUser(user, origin),
    email: `${name.slice(0, 2)}${'*'.repeat(Math.max(0, name.length - 2))}@${domain}`,
    last_login_at: user.lastLoginAt === null ? null : isoDate(user.lastLoginAt),
  }
}

const ROLE_LABELS: Readonly<Record<string, string>> = {
  admin: 'Administrator',
  editor: 'Editor',
  partial_editor: 'Partial editor',
}

function organizationPermissions(
  org: OrganizationState,
  caller: UserState | undefined,
): Record<string, boolean> {
  const admin = org.members.some(
    (m) => m.user === caller?.id && m.role === 'admin' && caller.active,
  )
  return {
    edit: admin,
    delete: admin,
    members: admin,
    harvest: admin,
    private: isMember(org, caller),
  }
}

/** `Organization.__ref_fields__`. */
function renderOrganizationRef(
  org: OrganizationState,
  origin: string,
  caller: UserState | undefined,
): Record<string, unknown> {
  return {
    id: org.id,
    name: org.name,
    acronym: null,
    slug: org.slug,
    logo: null,
    logo_thumbnail: null,
    badges: [],
    uri: `${origin}/api/1/organizations/${org.slug}/`,
    page: `${origin}/organizations/${org.slug}/`,
    permissions: organizationPermissions(org, caller),
    class: 'Organization',
  }
}

/** `Organization.__read_fields__` (the part a publishing script reads). */
export function renderOrganization(
  org: OrganizationState,
  origin: string,
  dir: Directory,
  caller: UserState | undefined,
  visible: readonly DatasetState[],
): Record<string, unknown> {
  const members = org.members.flatMap((m) => {
    const user = dir.users.get(m.user)
    if (user === undefined) return []
    const label = ROLE_LABELS[m.role]
    return [{ user: renderMemberUser(user, origin), role: m.role, label, since: isoDate(m.since) }]
  })
  const { class: _class, ...ref } = renderOrganizationRef(org, origin, caller)
  return {
    ...ref,
    description: org.description,
    url: null,
    business_number_id: null,
    members,
    created_at: isoDate(org.createdAt),
    last_modified: isoDate(org.createdAt),
    deleted: org.deleted === null ? null : isoDate(org.deleted),
    metrics: organizationMetrics(visible, members.length),
    extras: {},
    ext: {},
    image_url: null,
    teams: [],
    zone: null,
    presentation_blocs_published_at: null,
  }
}

/** `get_last_13_months`: `YYYY-MM` of this month and the twelve before, oldest first. */
function last13Months(now: Date): string[] {
  return Array.from({ length: 13 }, (_, i) => {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 12 + i, 1))
    return month.toISOString().slice(0, 7)
  })
}

/**
 * `Organization.get_metrics` as udata's jobs leave it: counters, and `*_by_months` for the last 13
 * months (`get_stock_metrics`: the visible datasets created each month). No reuses, followers or
 * dataservices here: their monthly series are never computed, so udata answers 0.
 */
function organizationMetrics(
  visible: readonly DatasetState[],
  members: number,
): Record<string, unknown> {
  const now = new Date()
  const months = last13Months(now)
  const zeros = (): Record<string, number> => Object.fromEntries(months.map((m) => [m, 0]))
  const created = zeros()
  const yearAgo = now.getTime() - 365 * 86_400_000
  for (const d of visible) {
    const month = d.createdAt.toISOString().slice(0, 7)
    if (d.createdAt.getTime() >= yearAgo && month in created)
      created[month] = (created[month] ?? 0) + 1
  }
  return {
    dataservices: 0,
    dataservices_by_months: 0,
    datasets: visible.length,
    datasets_by_months: created,
    datasets_followers_by_months: zeros(),
    datasets_reuses_by_months: zeros(),
    members,
    reuses: 0,
    reuses_by_months: 0,
    reuses_followers_by_months: 0,
    followers: 0,
    views: 0,
  }
}

/** The `WithAccessType` fields of a dataset (v17). */
function renderAccess(dataset: DatasetState): Record<string, unknown> {
  return {
    access_type: dataset.accessType,
    access_audiences: dataset.accessAudiences.map((a) => ({ ...a })),
    authorization_request_url: dataset.authorizationRequestUrl,
    access_type_reason_category: dataset.accessTypeReasonCategory,
    access_type_reason: dataset.accessTypeReason,
  }
}

/** Temporal and spatial coverage. */
function renderCoverage(dataset: DatasetState): Record<string, unknown> {
  const { spatial, temporalCoverage } = dataset
  return {
    temporal_coverage: temporalCoverage === null ? null : { ...temporalCoverage },
    spatial:
      spatial === null
        ? null
        : { zones: [...spatial.zones], granularity: spatial.granularity, geom: null },
  }
}

/** `Dataset.__metrics_keys__` (v17), all zero here. */
const DATASET_METRICS = [
  'discussions',
  'discussions_open',
  'reuses',
  'reuses_by_months',
  'dataservices',
  'followers',
  'followers_by_months',
  'views',
  'resources_downloads',
]

/**
 * `dataset_fields` of API v1 under its default mask (`DEFAULT_MASK` of `api_fields.py`, which
 * leaves out `community_resources`), as udata v17 answers it.
 */
export function renderDataset(
  dataset: DatasetState,
  origin: string,
  dir: Directory,
  caller: UserState | undefined,
): Record<string, unknown> {
  const owner = dataset.owner === null ? undefined : dir.users.get(dataset.owner)
  const org = dataset.organization === null ? undefined : dir.organization(dataset.organization)
  const updated = lastUpdate(dataset)
  return {
    id: dataset.id,
    title: dataset.title,
    acronym: dataset.acronym,
    slug: dataset.slug,
    description: dataset.description,
    description_short: dataset.descriptionShort,
    created_at: isoDate(dataset.createdAt),
    last_modified: isoDate(dataset.lastModifiedInternal),
    last_update: isoDate(updated),
    deleted: dataset.deleted === null ? null : isoDate(dataset.deleted),
    archived: dataset.archived === null ? null : isoDate(dataset.archived),
    featured: false,
    private: dataset.private,
    tags: [...dataset.tags],
    badges: [],
    resources: dataset.resources.map((r) => renderResource(r, origin, dir.tabularExploreUrl)),
    frequency: dataset.frequency,
    frequency_date: dataset.frequencyDate,
    extras: { ...dataset.extras },
    metrics: Object.fromEntries(DATASET_METRICS.map((k) => [k, 0])),
    organization: org === undefined ? null : renderOrganizationRef(org, origin, caller),
    owner: owner === undefined ? null : renderUser(owner, origin),
    schema: null,
    ...renderCoverage(dataset),
    license: dataset.license ?? 'notspecified',
    ...renderAccess(dataset),
    uri: `${origin}/api/1/datasets/${dataset.slug}/`,
    page: `${origin}/datasets/${dataset.slug}/`,
    quality: renderQuality(dataset, updated, new Date(), dir.legacy === true),
    contact_points: [],
    harvest: null,
    internal: {
      created_at_internal: isoDate(dataset.createdAt),
      last_modified_internal: isoDate(dataset.lastModifiedInternal),
    },
    permissions: permissionsFor(dataset, caller, dir),
  }
}

/** `dataset_ref_fields`: what a community resource says of its dataset. */
function renderDatasetRef(dataset: DatasetState, origin: string): Record<string, unknown> {
  return {
    id: dataset.id,
    class: 'Dataset',
    title: dataset.title,
    acronym: dataset.acronym,
    uri: `${origin}/api/1/datasets/${dataset.slug}/`,
    page: `${origin}/datasets/${dataset.slug}/`,
  }
}

/** `community_resource_fields`: the resource fields, its dataset, owner or organization, and permissions. */
export function renderCommunityResource(
  community: CommunityResourceState,
  origin: string,
  dir: Directory,
  caller: UserState | undefined,
): Record<string, unknown> {
  const dataset = community.dataset === null ? undefined : dir.dataset(community.dataset)
  const owner = community.owner === null ? undefined : dir.users.get(community.owner)
  const org = community.organization === null ? undefined : dir.organization(community.organization)
  const edit = communityPermission(community, caller, dir)
  return {
    ...renderResource(community, origin, dir.tabularExploreUrl),
    dataset: dataset === undefined ? null : renderDatasetRef(dataset, origin),
    organization: org === undefined ? null : renderOrganizationRef(org, origin, caller),
    owner: owner === undefined ? null : renderUser(owner, origin),
    permissions: { delete: edit, edit },
  }
}
