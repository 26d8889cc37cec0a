import type { ResourceType } from './constants.js'

export type { ResourceType }
export type FileType = 'file' | 'remote'

export interface Checksum {
  type: 'sha1' | 'sha2' | 'sha256' | 'md5' | 'crc'
  value: string
}

export interface SchemaRef {
  name?: string | null
  version?: string | null
  url?: string | null
}

export interface UserState {
  id: string
  apiKey: string
  active: boolean
  firstName: string
  lastName: string
  /** udata's user slug follows the full name (`SlugField(populate_from="fullname")`). */
  slug: string
  email: string
  createdAt: Date
  /** Set by each authenticated request, as Flask-Security's login tracking does. */
  lastLoginAt: Date | null
}

/** `AccessAudience`: who may access a dataset whose access is not open, and on what condition. */
export interface AccessAudience {
  role: string
  condition: string
}

/** A resource as the emulator stores it (rendered to udata's JSON shape by `render.ts`). */
export interface ResourceState {
  id: string
  title: string
  description: string | null
  filetype: FileType
  type: ResourceType
  format: string | null
  url: string
  checksum: Checksum | null
  filesize: number | null
  mime: string | null
  extras: Record<string, unknown>
  schema: SchemaRef | null
  createdAt: Date
  lastModifiedInternal: Date
  /** Stored file relative to the static root (`<slug>/<YYYYMMDD-HHMMSS>/<name>`), null for remote. */
  fsFilename: string | null
}

/**
 * A community resource (udata `CommunityResource`): a resource document of its own, attached to a
 * dataset it does not belong to, owned by a user or an organization (`Owned`).
 */
export interface CommunityResourceState extends ResourceState {
  /** The dataset it is about; null once that dataset is gone (`reverse_delete_rule=NULLIFY`). */
  dataset: string | null
  /** Owner user id; null when an organization owns it (udata keeps one or the other). */
  owner: string | null
  organization: string | null
}

/** `addCommunityResource`: a file (has `filename`) or a remote link (has `url`), on a dataset. */
export type CommunityResourceSeed = SeedResource & {
  /** Dataset id or slug. */
  dataset: string
  /** Owner user id (required unless `organization` is given). */
  owner?: string
  /** Owning organization id or slug (then there is no owner). */
  organization?: string
}

export interface DatasetState {
  id: string
  slug: string
  /** Previous slugs: a request naming one is redirected (308) to the current slug. */
  oldSlugs: string[]
  title: string
  acronym: string | null
  description: string
  descriptionShort: string | null
  private: boolean
  /** Deletion date; a deleted dataset answers 410 to those who cannot read it (docs/udata-protocol.md §2.4). */
  deleted: Date | null
  /** Archive date (`archived` in the JSON): the dataset stays readable and writable. */
  archived: Date | null
  /** Owner user id; null when an organization publishes it (udata sets one or the other). */
  owner: string | null
  /** Publishing organization id, or null. */
  organization: string | null
  tags: string[]
  frequency: string
  license: string | null
  /** ISO date, or null. */
  frequencyDate: string | null
  /** Dates as `YYYY-MM-DD`, as udata renders its `DateRange`. */
  temporalCoverage: { start: string; end: string | null } | null
  spatial: { zones: string[]; granularity: string | null } | null
  extras: Record<string, unknown>
  /** `WithAccessType` (v17): `open`, `open_with_account` or `restricted` (then no license). */
  accessType: string
  accessAudiences: AccessAudience[]
  authorizationRequestUrl: string | null
  accessTypeReasonCategory: string | null
  accessTypeReason: string | null
  /**
   * When a save dropped the license (an access other than `open`): `Dataset.clean` computes the
   * cached quality before it drops the license, so `quality.license` stays true until the next save.
   */
  licenseDroppedAt: Date | null
  /** Position 0 first: uploads and creations prepend, as `dataset.add_resource` does. */
  resources: ResourceState[]
  createdAt: Date
  lastModifiedInternal: Date
}

export interface FileResourceSeed {
  filename: string
  content: Buffer | string
  title?: string
  type?: ResourceType
  description?: string | null
  schema?: SchemaRef | null
  extras?: Record<string, unknown>
  id?: string
}

export interface RemoteResourceSeed {
  url: string
  title: string
  type?: ResourceType
  format?: string
  description?: string | null
  mime?: string
  filesize?: number
  checksum?: Checksum
  schema?: SchemaRef | null
  extras?: Record<string, unknown>
  id?: string
}

/** A resource given to `addDataset`: a file (has `filename`) or a remote link (has `url`). */
export type SeedResource = FileResourceSeed | RemoteResourceSeed

/** `ORG_ROLES`: admins and editors edit the organization's datasets; partial editors only read private ones. */
export type OrgRole = 'admin' | 'editor' | 'partial_editor'

export interface OrganizationState {
  id: string
  name: string
  slug: string
  oldSlugs: string[]
  description: string
  members: Array<{ user: string; role: OrgRole; since: Date }>
  createdAt: Date
  deleted: Date | null
}

export interface OrganizationSeed {
  id?: string
  name: string
  slug?: string
  description?: string
  /** `user`: a user id. */
  members?: Array<{ user: string; role?: OrgRole }>
  deleted?: boolean
}

export interface DatasetSeed {
  /** Owner user id (required unless `organization` is given). */
  owner?: string
  /** Publishing organization id or slug (then the dataset has no owner). */
  organization?: string
  id?: string
  slug?: string
  title?: string
  description?: string
  private?: boolean
  oldSlugs?: string[]
  /** In display order: the first entry is `resources[0]`. */
  resources?: SeedResource[]
  extras?: Record<string, unknown>
  tags?: string[]
  frequency?: string
  license?: string
  deleted?: boolean
  /** A date, or `true` for now. */
  archived?: boolean | Date
}

export interface RecordedRequest {
  method: string
  /** Path with query string, as received. */
  path: string
  /** Lower-cased names, values as received (the API key included). */
  headers: Record<string, string | string[]>
  /** Status answered; 0 when no answer was sent (dropped connection). */
  status: number
  /** Request body bytes received. */
  bodyBytes: number
  /** `Date.now()` when the request arrived. */
  startedAt: number
  /** `Date.now()` when the answer was sent or the connection dropped. */
  finishedAt?: number
  /** Multipart / urlencoded form fields (never file content). */
  fields?: Record<string, string>
  /** Description of the fault rule applied, e.g. `status:503`, `dropAfterBytes:1000`. */
  fault?: string
}

export interface FaultRule {
  method?: string
  /** Regular expression source tested against the path (without, then with, the query string). */
  path?: string
  /** 1-based: apply to the n-th matching request only; omitted: every match. */
  nth?: number
  /** With `nth` omitted: apply to the first `times` matches. */
  times?: number
  /** Answer this status instead of handling (after consuming the body). */
  status?: number
  /** Body of the injected answer: a string is sent as `contentType` (default text/plain), anything else as JSON. */
  body?: unknown
  /** Content-Type of a string `body`, e.g. `text/html` for a gateway's error page. */
  contentType?: string
  retryAfter?: string
  /** Extra headers of the injected answer (with `status`), e.g. `{ location: '...' }` for a redirect. */
  headers?: Record<string, string>
  /**
   * A reverse proxy's body limit (nginx `client_max_body_size`): a request whose body is larger is
   * answered 413 with nginx's HTML page as soon as its size is known (from Content-Length, or while
   * a chunked body is buffered), never handled; the rest of the body is read and discarded.
   */
  maxBodyBytes?: number
  /** Destroy the socket after receiving this many body bytes (no answer, nothing handled). */
  dropAfterBytes?: number
  /**
   * Wait before handling (then handle normally, or apply the rule's other effects). The body is
   * received first, as a buffering proxy forwards it; the request is then handled even if the
   * client has gone meanwhile (an upstream worker keeps running a request whose client left).
   */
  delayMs?: number
  /** Handle normally (state changes happen) but destroy the socket instead of answering. */
  loseResponse?: boolean
  /** Handle normally (state changes happen at once), then wait this long before answering: a slow answer. */
  answerDelayMs?: number
  /**
   * Receive the whole body (as a buffering proxy does), then wait until the test releases the
   * request (`emu.held`, `POST /__emulator/release`): then handle it, even if the client has gone
   * meanwhile, unless the release drops it or answers a status of its own. A request held at a
   * known point, for a test that kills its client there.
   */
  hold?: boolean
}

/** How a held request goes on (`emu.held[i].release(how)`): handled, unless dropped or answered. */
export interface HoldRelease {
  /** Close the connection without handling: the request never reached the application. */
  drop?: boolean
  /** Answer this instead of handling (as a rule's `status`, `body`, `contentType`). */
  status?: number
  body?: unknown
  contentType?: string
}

/** A request a `hold` rule keeps waiting. */
export interface HeldRequest {
  record: RecordedRequest
  release(how?: HoldRelease): void
}
