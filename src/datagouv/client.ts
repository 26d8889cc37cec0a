/**
 * A small typed client for the data.gouv.fr (udata) API v1: one method per endpoint, every answer
 * validated by a zod schema. The requests go through `http` (transport.ts: the policy given to the
 * constructor, the key only in its header, redirects, errors); creations are never repeated
 * blindly (recovery.ts `createOnce`).
 */
import { z } from 'zod'
import { datasetPutBody } from './dataset-form.js'
import { ApiError } from './errors.js'
import { createOnce, type Once } from './recovery.js'
import {
  DatasetSchema,
  ExtensionsSchema,
  ExtrasSchema,
  IdListSchema,
  MeSchema,
  PageSchema,
  ResourceSchema,
  type Dataset,
  type Me,
  type Resource,
} from './schemas.js'
import type { Http } from './http.js'
import { Transport, type ClientOptions, type Logger } from './transport.js'

// What the engine takes from the client along with it.
export { parseApiUrl } from './api-url.js'
export { DEFAULT_TIMEOUT_MS, type Logger } from './transport.js'

/** What a creation needs besides its request: where its result would be if an answer is lost. */
type Look<T> = Pick<Once<T>, 'find' | 'what' | 'where' | 'nameOf' | 'creation'>

export class DatagouvClient {
  /** The requests: JSON calls, streamed bodies (upload.ts), the retry policy, the timeout. */
  readonly http: Transport
  readonly origin: string
  readonly logger: Logger
  /** Also for requests to other hosts (remote URL checks, the diff's downloads): the same proxy settings. */
  readonly requester: Http
  /** Sent on every request, URL checks included. */
  readonly userAgent: string

  constructor(options: ClientOptions) {
    this.http = new Transport(options)
    this.origin = this.http.origin
    this.logger = this.http.logger
    this.requester = this.http.http
    this.userAgent = this.http.userAgent
  }

  async close(): Promise<void> {
    await this.http.close()
  }

  /** GET the dataset by id or slug, following a slug redirect (docs/udata-protocol.md §1). */
  async getDataset(idOrSlug: string): Promise<Dataset> {
    return this.http.call('GET', `/datasets/${encodeURIComponent(idOrSlug)}/`, DatasetSchema)
  }

  /** Extensions the instance accepts for uploads (docs/udata-protocol.md §9). */
  async getExtensions(): Promise<string[]> {
    return this.http.call('GET', '/datasets/extensions/', ExtensionsSchema)
  }

  /** Ids accepted for a dataset's `frequency` (docs/udata-protocol.md §6.3). */
  async getFrequencies(): Promise<string[]> {
    return (await this.http.call('GET', '/datasets/frequencies/', IdListSchema)).map((f) => f.id)
  }

  /** Ids accepted for a dataset's `license` (docs/udata-protocol.md §6.3). */
  async getLicenses(): Promise<string[]> {
    return (await this.http.call('GET', '/datasets/licenses/', IdListSchema)).map((l) => l.id)
  }

  /**
   * The key's owner (`GET /me/`): whose community resources are published, and, on servers that
   * do not answer a dataset's `permissions`, what the key may edit.
   */
  async getMe(): Promise<Me> {
    return this.http.call('GET', '/me/', MeSchema)
  }

  /**
   * Creates a dataset (docs/udata-protocol.md §6.3 for its fields). After a failure, the slug is
   * read: a dataset the key's owner can edit with that slug is the result.
   */
  async createDataset(body: Record<string, unknown>, slug: string): Promise<Dataset> {
    return this.create('/datasets/', body, DatasetSchema, {
      find: async () => {
        const found = await this.getDataset(slug).catch(absentIf404)
        return found?.permissions?.edit === false ? undefined : found
      },
      what: `the dataset '${slug}'`,
      where: `reading the dataset '${slug}'`,
      nameOf: (dataset) => `dataset ${dataset.id}`,
      creation: `the dataset '${slug}'`,
    })
  }

  /**
   * Changes the fields of `patch` and no other: read, merge, write (`datasetPutBody`: udata resets
   * some fields a PUT leaves out, docs/udata-protocol.md §6.3). Never carries `resources`.
   */
  async updateDataset(datasetId: string, patch: Record<string, unknown>): Promise<Dataset> {
    const body = datasetPutBody(await this.getDataset(datasetId), patch)
    return this.http.call('PUT', `/datasets/${datasetId}/`, DatasetSchema, { json: body })
  }

  /**
   * Merges extras into the dataset's (v2, docs/udata-protocol.md §6.5): `null` deletes a key; the
   * modification date does not move.
   */
  async updateDatasetExtras(
    datasetId: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/extras/`, patch)
  }

  /**
   * Partial PUT of a resource's metadata (docs/udata-protocol.md §6.1): only the given fields
   * change.
   */
  async updateResource(
    datasetId: string,
    resourceId: string,
    patch: Record<string, unknown>,
  ): Promise<Resource> {
    const path = `/datasets/${datasetId}/resources/${resourceId}/`
    return this.http.call('PUT', path, ResourceSchema, { json: patch })
  }

  /**
   * Merges extras into a resource's (v2, docs/udata-protocol.md §6.5), keeping the analyser's keys.
   */
  async updateResourceExtras(
    datasetId: string,
    resourceId: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.putV2Extras(`/api/2/datasets/${datasetId}/resources/${resourceId}/extras/`, patch)
  }

  /**
   * Reorders the dataset's resources (docs/udata-protocol.md §6.4): `ids` must list every one of
   * them; the dataset's modification date does not move.
   */
  async reorderResources(datasetId: string, ids: readonly string[]): Promise<Resource[]> {
    return this.http.call('PUT', `/datasets/${datasetId}/resources/`, z.array(ResourceSchema), {
      json: ids.map((id) => ({ id })),
    })
  }

  /**
   * Creates a remote resource (docs/udata-protocol.md §6.2). After a failure, the dataset is read:
   * a remote resource with this URL that `isNew` accepts (the run knows which resources it did not
   * see before) is the result.
   */
  async createRemoteResource(
    datasetId: string,
    body: Record<string, unknown> & { url: string },
    isNew: (resource: Resource) => boolean,
  ): Promise<Resource> {
    const json = { filetype: 'remote', ...body }
    return this.create(`/datasets/${datasetId}/resources/`, json, ResourceSchema, {
      find: async () =>
        (await this.getDataset(datasetId)).resources.find(
          (r) => isNew(r) && r.filetype === 'remote' && r.url === body.url,
        ),
      ...remoteLook(body.url, 'reading the dataset'),
    })
  }

  /** Deletes a resource and its stored file (irreversible). */
  async deleteResource(datasetId: string, resourceId: string): Promise<void> {
    await this.delete(`/datasets/${datasetId}/resources/${resourceId}/`)
  }

  /**
   * Community resources of `ownerId` on the dataset, every page (udata's `{data, next_page}`
   * pages).
   */
  async listCommunityResources(datasetId: string, ownerId: string): Promise<Resource[]> {
    const all: Resource[] = []
    const query = new URLSearchParams({ dataset: datasetId, owner: ownerId, page_size: '100' })
    for (let page = 1; ; page++) {
      query.set('page', String(page))
      const path = `/datasets/community_resources/?${query.toString()}`
      const answer = await this.http.call('GET', path, PageSchema)
      all.push(...answer.data)
      if (answer.next_page === null || answer.next_page === undefined || answer.data.length === 0)
        return all
    }
  }

  async getCommunityResource(id: string): Promise<Resource> {
    return this.http.call('GET', `/datasets/community_resources/${id}/`, ResourceSchema)
  }

  /** Partial PUT of a community resource (as a resource's, docs/udata-protocol.md §6.1). */
  async updateCommunityResource(id: string, patch: Record<string, unknown>): Promise<Resource> {
    const path = `/datasets/community_resources/${id}/`
    return this.http.call('PUT', path, ResourceSchema, { json: patch })
  }

  /**
   * A remote community resource. After a failure, the key owner's community resources on the
   * dataset are read: one with this URL that `isNew` accepts is the result.
   */
  async createRemoteCommunityResource(
    datasetId: string,
    body: Record<string, unknown> & { url: string },
    isNew: (resource: Resource) => boolean,
  ): Promise<Resource> {
    const json = { filetype: 'remote', ...body, dataset: { id: datasetId } }
    return this.create('/datasets/community_resources/', json, ResourceSchema, {
      find: async () => {
        const me = await this.getMe()
        return (await this.listCommunityResources(datasetId, me.id)).find(
          (r) => isNew(r) && r.url === body.url,
        )
      },
      ...remoteLook(body.url, 'reading your community resources on the dataset'),
    })
  }

  async deleteCommunityResource(id: string): Promise<void> {
    await this.delete(`/datasets/community_resources/${id}/`)
  }

  private async putV2Extras(
    path: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.http.call('PUT', path, ExtrasSchema, { json: patch, absolute: true })
  }

  /** A POST that creates something, sent once (recovery.ts `createOnce`). */
  private async create<S extends z.ZodType>(
    path: string,
    json: unknown,
    schema: S,
    look: Look<z.infer<S>>,
  ): Promise<z.infer<S>> {
    const { http } = this
    const created = await createOnce(http, {
      label: `POST ${http.display(path)}`,
      send: async () => {
        const answer = await http.send('POST', path, { json, expect: [201, 200] })
        return http.parse(answer, schema, 'POST', path)
      },
      ...look,
    })
    return created.value
  }

  /** A DELETE; a retry that finds it gone counts as done. */
  private async delete(path: string): Promise<void> {
    await this.http.retrier.run({
      label: `DELETE ${this.http.display(path)}`,
      send: async (attempt) => {
        const expect = attempt.number > 0 ? [204, 200, 404] : [204, 200]
        await this.http.send('DELETE', path, { expect })
      },
    })
  }
}

/** What `find` says of a 404: not there. */
function absentIf404(error: unknown): undefined {
  if (error instanceof ApiError && error.status === 404) return undefined
  throw error
}

function remoteLook(url: string, where: string): Omit<Look<Resource>, 'find'> {
  return {
    what: `the remote resource ${url}`,
    where,
    nameOf: (resource) => `resource ${resource.id}`,
    creation: `the remote resource ${url}`,
  }
}
