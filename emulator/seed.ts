import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { z } from 'zod'

import { parseAnalyserOptions } from './analyser.js'
import { RESOURCE_TYPES } from './constants.js'
import type { Emulator } from './server.js'
import type {
  CommunityResourceState,
  DatasetState,
  OrganizationState,
  SchemaRef,
  SeedResource,
} from './types.js'

/**
 * The JSON seed format of the standalone emulator (documented in emulator/README.md).
 */

const resourceType = z.enum(RESOURCE_TYPES.map((t) => t.id) as [string, ...string[]])
const schemaRef = z
  .object({
    name: z.string().nullable().optional(),
    version: z.string().nullable().optional(),
    url: z.string().nullable().optional(),
  })
  .nullable()
  .optional()
const common = {
  id: z.string().optional(),
  title: z.string().optional(),
  type: resourceType.optional(),
  description: z.string().nullable().optional(),
  extras: z.record(z.string(), z.unknown()).optional(),
  schema: schemaRef,
}

const fileFields = {
  ...common,
  filename: z.string().min(1),
  content: z.string().optional(),
  contentBase64: z.string().optional(),
  path: z.string().optional(),
}
const oneContent = (r: {
  content?: string | undefined
  contentBase64?: string | undefined
  path?: string | undefined
}): boolean => [r.content, r.contentBase64, r.path].filter((v) => v !== undefined).length === 1
const oneContentMessage = {
  message: 'a file resource needs exactly one of content, contentBase64, path',
}

const fileResource = z.object(fileFields).strict().refine(oneContent, oneContentMessage)

const remoteFields = {
  ...common,
  url: z.string().min(1),
  title: z.string().min(1),
  format: z.string().optional(),
  mime: z.string().optional(),
  filesize: z.number().int().optional(),
  checksum: z
    .object({ type: z.enum(['sha1', 'sha2', 'sha256', 'md5', 'crc']), value: z.string() })
    .optional(),
}

const remoteResource = z.object(remoteFields).strict()

/** A community resource: a file or remote resource plus its dataset and its owner or organization. */
const communityFields = {
  dataset: z.string().min(1),
  owner: z.string().optional(),
  organization: z.string().optional(),
}
const communityResource = z.union([
  z
    .object({ ...fileFields, ...communityFields })
    .strict()
    .refine(oneContent, oneContentMessage),
  z.object({ ...remoteFields, ...communityFields }).strict(),
])

const seedSchema = z
  .object({
    users: z
      .array(
        z
          .object({
            id: z.string().optional(),
            apiKey: z.string().min(1).optional(),
            active: z.boolean().optional(),
            firstName: z.string().optional(),
            lastName: z.string().optional(),
            email: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    organizations: z
      .array(
        z
          .object({
            id: z.string().optional(),
            name: z.string().min(1),
            slug: z.string().optional(),
            description: z.string().optional(),
            deleted: z.boolean().optional(),
            members: z
              .array(
                z
                  .object({
                    user: z.string(),
                    role: z.enum(['admin', 'editor', 'partial_editor']).optional(),
                  })
                  .strict(),
              )
              .optional(),
          })
          .strict(),
      )
      .default([]),
    datasets: z
      .array(
        z
          .object({
            owner: z.string().optional(),
            organization: z.string().optional(),
            id: z.string().optional(),
            slug: z.string().optional(),
            title: z.string().optional(),
            description: z.string().optional(),
            private: z.boolean().optional(),
            deleted: z.boolean().optional(),
            archived: z
              .union([z.boolean(), z.iso.datetime({ offset: true }), z.iso.date()])
              .optional(),
            oldSlugs: z.array(z.string()).optional(),
            tags: z.array(z.string()).optional(),
            frequency: z.string().optional(),
            license: z.string().optional(),
            extras: z.record(z.string(), z.unknown()).optional(),
            resources: z.array(z.union([fileResource, remoteResource])).optional(),
          })
          .strict(),
      )
      .default([]),
    communityResources: z.array(communityResource).default([]),
    /** The simulated analyser's settings (checked by `parseAnalyserOptions`). */
    analyser: z.unknown().optional(),
  })
  .strict()

export type SeedFile = z.input<typeof seedSchema>

export interface SeedSummary {
  url: string
  users: Array<{ id: string; apiKey: string }>
  organizations: Array<{ id: string; slug: string }>
  datasets: Array<{
    id: string
    slug: string
    resources: Array<{ id: string; title: string; filetype: string; url: string }>
  }>
  communityResources: Array<{
    id: string
    dataset: string | null
    title: string
    filetype: string
    url: string
  }>
}

/** The seed used when none is given: one user, one dataset with a file and a remote resource. */
export const DEFAULT_SEED: SeedFile = {
  users: [{ apiKey: 'demo-api-key' }],
  datasets: [
    {
      slug: 'demo-dataset',
      title: 'Demo dataset',
      description: 'A dataset served by the local udata emulator.',
      resources: [
        {
          filename: 'demo.csv',
          content: 'id,value\n1,alpha\n2,beta\n',
          title: 'Demo CSV',
          type: 'main',
        },
        {
          url: 'https://example.org/demo-remote.csv',
          title: 'Remote demo file',
          type: 'documentation',
          format: 'csv',
        },
      ],
    },
  ],
}

type NoUndefined<T> = { [K in keyof T]: Exclude<T[K], undefined> }

function stripUndefined<T extends object>(value: T): NoUndefined<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as NoUndefined<T>
}

/** Parse a seed (throws with a readable message) without touching the emulator. */
function parseSeed(value: unknown): z.output<typeof seedSchema> {
  const result = seedSchema.safeParse(value)
  if (!result.success) throw new Error(`Invalid seed:\n${z.prettifyError(result.error)}`)
  return result.data
}

type ParsedSeed = z.output<typeof seedSchema>

type ParsedResource =
  | (ParsedSeed['datasets'][number]['resources'] extends (infer R)[] | undefined ? R : never)
  | Omit<ParsedSeed['communityResources'][number], 'dataset' | 'owner' | 'organization'>

function seedResource(r: ParsedResource, baseDir: string): SeedResource {
  const schema =
    r.schema === undefined
      ? undefined
      : r.schema === null
        ? null
        : (stripUndefined(r.schema) as SchemaRef)
  if ('filename' in r) {
    const content =
      r.content !== undefined
        ? r.content
        : r.contentBase64 !== undefined
          ? Buffer.from(r.contentBase64, 'base64')
          : readFileSync(resolve(baseDir, r.path as string))
    const { content: _c, contentBase64: _b, path: _p, schema: _s, ...rest } = r
    return stripUndefined({ ...rest, content, schema }) as SeedResource
  }
  const { schema: _s, ...rest } = r
  return stripUndefined({ ...rest, schema }) as SeedResource
}

/** A user as `addUser` returns it. */
interface SeededUser {
  id: string
  apiKey: string
}

/** A member is named by user id or by the API key of a seeded user. */
function memberId(ref: string, users: readonly SeededUser[]): string {
  return users.find((u) => u.apiKey === ref)?.id ?? ref
}

/** Add one seeded dataset, owned by its organization, its `owner` or else the first seeded user. */
function seedDataset(
  emulator: Emulator,
  d: ParsedSeed['datasets'][number],
  users: readonly SeededUser[],
  baseDir: string,
): DatasetState {
  const owner = d.organization === undefined ? (d.owner ?? users[0]?.id) : undefined
  if (owner === undefined && d.organization === undefined)
    throw new Error(
      'Invalid seed: a dataset needs an owner or an organization and no user is seeded',
    )
  const resources = (d.resources ?? []).map((r) => seedResource(r, baseDir))
  const { resources: _r, archived, owner: _o, ...rest } = d
  const archivedAt =
    typeof archived === 'string' ? new Date(archived) : archived === true ? true : undefined
  return emulator.addDataset(stripUndefined({ ...rest, owner, resources, archived: archivedAt }))
}

/** Add one seeded community resource, published by its organization or else by a user. */
function seedCommunityResource(
  emulator: Emulator,
  { dataset, owner, organization, ...resource }: ParsedSeed['communityResources'][number],
  users: readonly SeededUser[],
  baseDir: string,
): CommunityResourceState {
  const publisher =
    organization !== undefined
      ? { organization }
      : { owner: memberId(owner ?? users[0]?.id ?? '', users) }
  return emulator.addCommunityResource({
    ...seedResource(resource, baseDir),
    dataset,
    ...publisher,
  })
}

/** What a seed created, as reported to the caller: ids, slugs and URLs. */
function seedSummary(
  emulator: Emulator,
  users: SeededUser[],
  organizations: OrganizationState[],
  datasets: DatasetState[],
  community: CommunityResourceState[],
): SeedSummary {
  return {
    url: emulator.url,
    users,
    organizations: organizations.map((o) => ({ id: o.id, slug: o.slug })),
    datasets: datasets.map((d) => ({
      id: d.id,
      slug: d.slug,
      resources: d.resources.map((r) => ({
        id: r.id,
        title: r.title,
        filetype: r.filetype,
        url: r.url,
      })),
    })),
    communityResources: community.map((c) => ({
      id: c.id,
      dataset: c.dataset,
      title: c.title,
      filetype: c.filetype,
      url: c.url,
    })),
  }
}

/** Load a seed into a running emulator. Relative `path`s are resolved against `baseDir`. */
export function applySeed(
  emulator: Emulator,
  value: unknown,
  baseDir = process.cwd(),
): SeedSummary {
  const seed = parseSeed(value)
  const users = seed.users.map((u) => emulator.addUser(stripUndefined(u)))
  const organizations = seed.organizations.map((o) =>
    emulator.addOrganization(
      stripUndefined({
        ...o,
        members: o.members?.map((m) => stripUndefined({ ...m, user: memberId(m.user, users) })),
      }),
    ),
  )
  const datasets = seed.datasets.map((d) => seedDataset(emulator, d, users, baseDir))
  const community = seed.communityResources.map((c) =>
    seedCommunityResource(emulator, c, users, baseDir),
  )
  if (seed.analyser !== undefined) emulator.analyser.configure(parseAnalyserOptions(seed.analyser))
  return seedSummary(emulator, users, organizations, datasets, community)
}
