import type {
  CommunityResourceState,
  DatasetState,
  OrganizationState,
  OrgRole,
  UserState,
} from './types.js'

/**
 * udata's permissions on a dataset (`udata/core/dataset/permissions.py`, docs/udata-protocol.md §2.3): the
 * owner, or the publishing organization's admins and editors, edit it; its partial editors may
 * only read it when it is private or deleted (`OwnableReadPermission`; assignments of single
 * datasets to partial editors are not reproduced). No sysadmins.
 */

/** What permission checks look up: users and organizations (the Store). */
export interface Directory {
  readonly users: ReadonlyMap<string, UserState>
  organization(idOrSlug: string): OrganizationState | undefined
  /** By id or current slug. */
  dataset(idOrSlug: string): DatasetState | undefined
  /** udata's `TABULAR_EXPLORE_URL` (preview pages of parsed resources), or null. */
  readonly tabularExploreUrl: string | null
  /** udata before v17: what differs in how a dataset is rendered (its `quality`). */
  readonly legacy?: boolean
}

export interface Permissions {
  delete: boolean
  edit: boolean
  edit_resources: boolean
}

function roleIn(
  org: OrganizationState | undefined,
  user: UserState | undefined,
): OrgRole | undefined {
  if (org === undefined || user === undefined || !user.active) return undefined
  return org.members.find((m) => m.user === user.id)?.role
}

export function permissionsFor(
  dataset: DatasetState,
  user: UserState | undefined,
  dir: Directory,
): Permissions {
  let edit: boolean
  if (user === undefined || !user.active) edit = false
  else if (dataset.organization !== null) {
    const role = roleIn(dir.organization(dataset.organization), user)
    edit = role === 'admin' || role === 'editor'
  } else edit = user.id === dataset.owner
  return { delete: edit, edit, edit_resources: edit }
}

/** `OwnableReadPermission`: a visible dataset is read by all; a private or deleted one by those with rights on it. */
export function canRead(
  dataset: DatasetState,
  user: UserState | undefined,
  dir: Directory,
): boolean {
  if (!dataset.private && dataset.deleted === null) return true
  if (permissionsFor(dataset, user, dir).edit) return true
  return (
    dataset.organization !== null &&
    roleIn(dir.organization(dataset.organization), user) !== undefined
  )
}

/** `OrganizationPrivatePermission`: any member sees the organization's private assets. */
export function isMember(org: OrganizationState, user: UserState | undefined): boolean {
  return roleIn(org, user) !== undefined
}

/**
 * `ResourceEditPermission` of a community resource (an `OwnablePermission`): the admins and editors
 * of its organization, or else its owner. Both `edit` and `delete` (no sysadmins here).
 */
export function communityPermission(
  community: CommunityResourceState,
  user: UserState | undefined,
  dir: Directory,
): boolean {
  if (user === undefined || !user.active) return false
  if (community.organization !== null) {
    const role = roleIn(dir.organization(community.organization), user)
    return role === 'admin' || role === 'editor'
  }
  return community.owner !== null && user.id === community.owner
}
