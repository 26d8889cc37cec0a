import { createHash, randomBytes, randomUUID } from 'node:crypto'

import { mimeFor } from './constants.js'
import { UUID_RE, objectId } from './http.js'
import { fileFormat, normalizeFilename, slugify } from './normalize.js'
import type { Storage } from './storage.js'
import type { Directory } from './permissions.js'
import type {
  CommunityResourceSeed,
  CommunityResourceState,
  DatasetSeed,
  DatasetState,
  FileResourceSeed,
  OrganizationSeed,
  OrganizationState,
  RemoteResourceSeed,
  ResourceState,
  UserState,
} from './types.js'

/** `addUser`: a fixed id or key, inactive, or named (the slug then follows the name, as udata's). */
export interface UserSeed {
  id?: string
  apiKey?: string
  active?: boolean
  firstName?: string
  lastName?: string
  /** Default `<slug>@example.org`. */
  email?: string
}

/** The v17 access fields of a dataset anyone may use (`WithAccessType` defaults). */
function openAccess(): Pick<
  DatasetState,
  | 'accessType'
  | 'accessAudiences'
  | 'authorizationRequestUrl'
  | 'accessTypeReasonCategory'
  | 'accessTypeReason'
  | 'licenseDroppedAt'
> {
  return {
    accessType: 'open',
    accessAudiences: [],
    authorizationRequestUrl: null,
    accessTypeReasonCategory: null,
    accessTypeReason: null,
    licenseDroppedAt: null,
  }
}

/** Seeded files are stored one hour in the past so that an upload right after seeding never collides. */
const SEED_STORAGE_AGE_MS = 3600_000

/** The emulator's in-memory database: users (with their API keys) and datasets. */
export class Store implements Directory {
  readonly users = new Map<string, UserState>()
  readonly datasets: DatasetState[] = []
  readonly organizations: OrganizationState[] = []
  /** In creation order (udata lists them newest first, see `community.ts`). */
  readonly communityResources: CommunityResourceState[] = []
  private readonly byKey = new Map<string, UserState>()
  /** udata's `TABULAR_EXPLORE_URL`: the base of `preview_url` for parsed resources (null: none, udata's default). */
  tabularExploreUrl: string | null = null
  /** udata before v17 (`version: 'legacy'`): the dataset's quality as v7 computes it. */
  legacy = false

  constructor(
    private readonly storage: Storage,
    private readonly origin: () => string,
    private readonly extensions: ReadonlySet<string>,
  ) {}

  addUser(opts: UserSeed = {}): { id: string; apiKey: string } {
    const id = opts.id ?? objectId()
    const apiKey = opts.apiKey ?? `udata_${randomBytes(24).toString('hex')}`
    if (this.users.has(id)) throw new Error(`User ${id} already exists`)
    if (this.byKey.has(apiKey)) throw new Error('API key already in use')
    const named = opts.firstName !== undefined || opts.lastName !== undefined
    const firstName = opts.firstName ?? 'Emulated'
    const lastName = opts.lastName ?? 'User'
    const taken = (slug: string): boolean => [...this.users.values()].some((u) => u.slug === slug)
    const slug = named ? uniqueSlug(`${firstName} ${lastName}`, taken) : `user-${id}`
    const user: UserState = {
      id,
      apiKey,
      active: opts.active ?? true,
      firstName,
      lastName,
      slug,
      email: opts.email ?? `${slug}@example.org`,
      createdAt: new Date(),
      lastLoginAt: null,
    }
    this.users.set(id, user)
    this.byKey.set(apiKey, user)
    return { id, apiKey }
  }

  userByKey(apiKey: string): UserState | undefined {
    return this.byKey.get(apiKey)
  }

  /** Every API key, to keep them out of logs. */
  apiKeys(): string[] {
    return [...this.byKey.keys()]
  }

  addOrganization(seed: OrganizationSeed): OrganizationState {
    const id = seed.id ?? objectId()
    if (this.organizations.some((o) => o.id === id))
      throw new Error(`Organization ${id} already exists`)
    const slug =
      seed.slug ?? uniqueSlug(seed.name, (s) => this.organizations.some((o) => o.slug === s))
    if (this.organizations.some((o) => o.slug === slug))
      throw new Error(`Slug ${slug} already in use`)
    const now = new Date()
    const members = (seed.members ?? []).map((m) => {
      if (!this.users.has(m.user))
        throw new Error(`Unknown member ${m.user} of organization ${seed.name}`)
      return { user: m.user, role: m.role ?? 'editor', since: now }
    })
    const org: OrganizationState = {
      id,
      name: seed.name,
      slug,
      oldSlugs: [],
      description: seed.description ?? '',
      members,
      createdAt: now,
      deleted: seed.deleted === true ? now : null,
    }
    this.organizations.push(org)
    return org
  }

  /** By id, current slug or old slug (the `org` converter). */
  organization(idOrSlug: string): OrganizationState | undefined {
    return (
      this.organizations.find((o) => o.id === idOrSlug || o.slug === idOrSlug) ??
      this.organizations.find((o) => o.oldSlugs.includes(idOrSlug))
    )
  }

  /** `User.organizations`: those the user belongs to, deleted ones excluded. */
  organizationsOf(userId: string): OrganizationState[] {
    return this.organizations.filter(
      (o) => o.deleted === null && o.members.some((m) => m.user === userId),
    )
  }

  addDataset(seed: DatasetSeed): DatasetState {
    const organization =
      seed.organization === undefined ? null : (this.organization(seed.organization)?.id ?? null)
    if (seed.organization !== undefined && organization === null)
      throw new Error(`Unknown organization ${seed.organization}`)
    const owner = organization === null ? (seed.owner ?? null) : null
    if (organization === null && (owner === null || !this.users.has(owner)))
      throw new Error(`Unknown owner ${seed.owner ?? '(none given)'}`)
    const id = seed.id ?? objectId()
    if (this.datasets.some((d) => d.id === id)) throw new Error(`Dataset ${id} already exists`)
    const title =
      seed.title ??
      (seed.slug !== undefined
        ? seed.slug.replace(/-/g, ' ')
        : `Dataset ${this.datasets.length + 1}`)
    const slug = seed.slug ?? this.uniqueSlug(title)
    if (this.slugTaken(slug)) throw new Error(`Slug ${slug} already in use`)
    const now = new Date()
    const dataset: DatasetState = {
      id,
      slug,
      oldSlugs: [...(seed.oldSlugs ?? [])],
      title,
      acronym: null,
      description: seed.description ?? '',
      descriptionShort: null,
      private: seed.private ?? false,
      deleted: seed.deleted === true ? now : null,
      archived: seed.archived === true ? now : seed.archived instanceof Date ? seed.archived : null,
      owner,
      organization,
      tags: [...(seed.tags ?? [])],
      frequency: seed.frequency ?? 'unknown',
      license: seed.license ?? null,
      frequencyDate: null,
      temporalCoverage: null,
      spatial: null,
      extras: { ...(seed.extras ?? {}) },
      ...openAccess(),
      resources: [],
      createdAt: now,
      lastModifiedInternal: now,
    }
    this.datasets.push(dataset)
    // In the order given (built in one go: prepending 20,000 resources one by one is quadratic).
    const taken = new Set<string>()
    dataset.resources = (seed.resources ?? []).map((resource) => {
      const built =
        'filename' in resource
          ? this.fileResource(dataset.slug, resource, taken)
          : this.remoteResource(resource, taken)
      taken.add(built.id)
      return built
    })
    return dataset
  }

  addFileResource(datasetId: string, seed: FileResourceSeed): ResourceState {
    const dataset = this.requireDataset(datasetId)
    const resource = this.fileResource(dataset.slug, seed)
    dataset.resources.unshift(resource)
    return resource
  }

  addRemoteResource(datasetId: string, seed: RemoteResourceSeed): ResourceState {
    const resource = this.remoteResource(seed)
    this.requireDataset(datasetId).resources.unshift(resource)
    return resource
  }

  /** A community resource on a dataset, owned by a user or an organization (udata `CommunityResource`). */
  addCommunityResource(seed: CommunityResourceSeed): CommunityResourceState {
    const dataset = this.requireDataset(seed.dataset)
    const organization =
      seed.organization === undefined ? null : (this.organization(seed.organization)?.id ?? null)
    if (seed.organization !== undefined && organization === null)
      throw new Error(`Unknown organization ${seed.organization}`)
    const owner = organization === null ? (seed.owner ?? null) : null
    if (organization === null && (owner === null || !this.users.has(owner)))
      throw new Error(`Unknown owner ${seed.owner ?? '(none given)'}`)
    const { dataset: _d, owner: _o, organization: _g, ...rest } = seed
    const base =
      'filename' in rest ? this.fileResource(dataset.slug, rest) : this.remoteResource(rest)
    const community: CommunityResourceState = { ...base, dataset: dataset.id, owner, organization }
    this.communityResources.push(community)
    return community
  }

  /** A seeded file resource, stored as if uploaded (not yet attached to anything). */
  private fileResource(
    slug: string,
    seed: FileResourceSeed,
    taken?: ReadonlySet<string>,
  ): ResourceState {
    const content =
      typeof seed.content === 'string' ? Buffer.from(seed.content, 'utf8') : seed.content
    const name = normalizeFilename(seed.filename)
    const now = new Date()
    const fsFilename = this.storage.writeSeedFile(
      slug,
      name,
      content,
      new Date(now.getTime() - SEED_STORAGE_AGE_MS),
    )
    return {
      id: this.resourceId(seed.id, taken),
      title: seed.title ?? name,
      description: seed.description ?? null,
      filetype: 'file',
      type: seed.type ?? 'main',
      format: fileFormat(name, this.extensions),
      url: this.fileUrl(fsFilename),
      checksum: { type: 'sha1', value: createHash('sha1').update(content).digest('hex') },
      filesize: content.length,
      mime: mimeFor(name),
      extras: { ...(seed.extras ?? {}) },
      schema: seed.schema ?? null,
      createdAt: now,
      lastModifiedInternal: now,
      fsFilename,
    }
  }

  private remoteResource(seed: RemoteResourceSeed, taken?: ReadonlySet<string>): ResourceState {
    const now = new Date()
    return {
      id: this.resourceId(seed.id, taken),
      title: seed.title,
      description: seed.description ?? null,
      filetype: 'remote',
      type: seed.type ?? 'main',
      format: seed.format !== undefined ? seed.format.trim().toLowerCase() : null,
      url: seed.url,
      checksum: seed.checksum ?? null,
      filesize: seed.filesize ?? null,
      mime: seed.mime ?? null,
      extras: { ...(seed.extras ?? {}) },
      schema: seed.schema ?? null,
      createdAt: now,
      lastModifiedInternal: now,
      fsFilename: null,
    }
  }

  /** `Directory.dataset`: by id or current slug. */
  dataset(idOrSlug: string): DatasetState | undefined {
    return this.getDataset(idOrSlug)
  }

  /** By id or current slug. */
  getDataset(idOrSlug: string): DatasetState | undefined {
    return (
      this.datasets.find((d) => d.id === idOrSlug) ?? this.datasets.find((d) => d.slug === idOrSlug)
    )
  }

  /** The `{dataset}` path converter: id, current slug, or an old slug (then `redirect` is set). */
  resolveDataset(param: string): { dataset: DatasetState; redirect: boolean } | undefined {
    const current = this.getDataset(param)
    if (current !== undefined) return { dataset: current, redirect: false }
    const moved = this.datasets.find((d) => d.oldSlugs.includes(param))
    return moved === undefined ? undefined : { dataset: moved, redirect: true }
  }

  getResource(datasetId: string, rid: string): ResourceState | undefined {
    const wanted = rid.toLowerCase()
    return this.getDataset(datasetId)?.resources.find((r) => r.id === wanted)
  }

  /** By id (udata's `crid` converter takes any string: an unknown one is a 404). */
  getCommunityResource(id: string): CommunityResourceState | undefined {
    const wanted = id.toLowerCase()
    return this.communityResources.find((c) => c.id === wanted)
  }

  /** `get_resource`: a dataset's resource first, then a community resource (`/datasets/r/{id}`). */
  findAnyResource(rid: string): ResourceState | undefined {
    return this.findResource(rid)?.resource ?? this.getCommunityResource(rid)
  }

  /** Whether a stored file still backs a resource or a community resource. */
  fileInUse(fsFilename: string): boolean {
    return (
      this.datasets.some((d) => d.resources.some((r) => r.fsFilename === fsFilename)) ||
      this.communityResources.some((c) => c.fsFilename === fsFilename)
    )
  }

  findResource(rid: string): { dataset: DatasetState; resource: ResourceState } | undefined {
    const wanted = rid.toLowerCase()
    for (const dataset of this.datasets) {
      const resource = dataset.resources.find((r) => r.id === wanted)
      if (resource !== undefined) return { dataset, resource }
    }
    return undefined
  }

  fileUrl(fsFilename: string): string {
    return `${this.origin()}/static/${fsFilename}`
  }

  /**
   * Datasets' slugs follow their title (`SlugField(populate_from="title", update=True, follow=True)`):
   * a new title gives a new slug and the old one keeps redirecting.
   */
  retitle(dataset: DatasetState, title: string): void {
    if (title === dataset.title) return
    dataset.title = title
    const base = slugify(title)
    if (base === dataset.slug) return
    const slug = this.uniqueSlug(title, dataset)
    if (slug === dataset.slug) return
    for (const other of this.datasets) other.oldSlugs = other.oldSlugs.filter((s) => s !== slug)
    dataset.oldSlugs.push(dataset.slug)
    dataset.slug = slug
  }

  /** A free dataset slug for this title (see `uniqueSlug` below). */
  private uniqueSlug(title: string, self?: DatasetState): string {
    return uniqueSlug(title, (slug) => this.slugTaken(slug, self))
  }

  /** Only current slugs count: udata drops another dataset's redirect from a slug it reuses. */
  private slugTaken(slug: string, except?: DatasetState): boolean {
    return this.datasets.some((d) => d !== except && (d.slug === slug || d.id === slug))
  }

  private requireDataset(idOrSlug: string): DatasetState {
    const dataset = this.getDataset(idOrSlug)
    if (dataset === undefined) throw new Error(`Unknown dataset ${idOrSlug}`)
    return dataset
  }

  /** `taken`: ids given earlier in the same seed, not yet attached. */
  private resourceId(wanted: string | undefined, taken?: ReadonlySet<string>): string {
    if (wanted === undefined) return randomUUID()
    if (!UUID_RE.test(wanted)) throw new Error(`Resource id ${wanted} is not a UUID`)
    const id = wanted.toLowerCase()
    if (taken?.has(id) === true || this.findAnyResource(id) !== undefined)
      throw new Error(`Resource ${id} already exists`)
    return id
  }
}

/**
 * `populate_slug`: the slug of the title, or `<slug>-1`, `-2`... (the base cut so that the whole
 * stays within 255 characters) when taken; `-uuid` appended to a slug that reads as a UUID.
 */
function uniqueSlug(title: string, taken: (slug: string) => boolean): string {
  const base = slugify(title) || 'dataset'
  let slug = base
  for (let n = 1; taken(slug); n++) slug = `${base.slice(0, 255 - String(n).length - 1)}-${n}`
  return UUID_RE.test(slug) ? `${slug}-uuid` : slug
}
