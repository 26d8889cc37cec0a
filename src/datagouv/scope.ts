/**
 * Where resources are published: the dataset's own resources (its owner's), or community
 * resources (a reuser's, on a dataset they need not own). Both take the same upload protocol and
 * the same partial PUT (docs/udata-protocol.md §3–§6); they differ in their endpoints, in how they
 * are listed, and in extras: a resource's merge through v2, a community resource's by a PUT of the
 * whole dict (no v2 endpoint exists for them).
 */
import type { DatagouvClient } from './client.js'
import type { Resource } from './schemas.js'

export interface Scope {
  readonly kind: 'owner' | 'community'
  readonly datasetId: string
  /** The upload endpoint: a new resource, or the file of `resourceId` replaced in place. */
  uploadPath(resourceId?: string): string
  /** The resources this scope publishes into, read anew. */
  list(): Promise<Resource[]>
  update(resourceId: string, patch: Record<string, unknown>): Promise<Resource>
  /**
   * Merges `patch` into the extras (`null` deletes a key); returns the extras the server then
   * holds.
   */
  mergeExtras(resource: Resource, patch: Record<string, unknown>): Promise<Record<string, unknown>>
  createRemote(
    body: Record<string, unknown> & { url: string },
    isNew: (resource: Resource) => boolean,
  ): Promise<Resource>
  remove(resourceId: string): Promise<void>
}

export function ownerScope(client: DatagouvClient, datasetId: string): Scope {
  return {
    kind: 'owner',
    datasetId,
    uploadPath: (id) =>
      id === undefined
        ? `/datasets/${datasetId}/upload/`
        : `/datasets/${datasetId}/resources/${id}/upload/`,
    list: async () => (await client.getDataset(datasetId)).resources,
    update: (id, patch) => client.updateResource(datasetId, id, patch),
    mergeExtras: (resource, patch) => client.updateResourceExtras(datasetId, resource.id, patch),
    createRemote: (body, isNew) => client.createRemoteResource(datasetId, body, isNew),
    remove: (id) => client.deleteResource(datasetId, id),
  }
}

/** Community resources of `ownerId` (the key's owner) on the dataset. */
export function communityScope(client: DatagouvClient, datasetId: string, ownerId: string): Scope {
  const update = (id: string, patch: Record<string, unknown>) =>
    client.updateCommunityResource(id, patch)
  return {
    kind: 'community',
    datasetId,
    uploadPath: (id) =>
      id === undefined
        ? `/datasets/${datasetId}/upload/community/`
        : `/datasets/community_resources/${id}/upload/`,
    list: () => client.listCommunityResources(datasetId, ownerId),
    update,
    // Read, merged, written whole: the analyser's keys written in between could be lost, so the
    // resource is read just before.
    mergeExtras: async (resource, patch) => {
      const current = (await client.getCommunityResource(resource.id)).extras ?? {}
      const merged: Record<string, unknown> = { ...current }
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete merged[key]
        else merged[key] = value
      }
      return (await update(resource.id, { extras: merged })).extras ?? {}
    },
    createRemote: (body, isNew) => client.createRemoteCommunityResource(datasetId, body, isNew),
    remove: (id) => client.deleteCommunityResource(id),
  }
}
