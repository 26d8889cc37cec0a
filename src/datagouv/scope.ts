/**
 * Where resources are published: the dataset's own resources (its owner's), or community
 * resources (a reuser's, on a dataset they need not own). Both take the same upload protocol and
 * the same partial PUT (docs/udata-protocol.md §3–§6); they differ in their endpoints, in how they
 * are listed, and in extras: a resource's merge through v2, a community resource's by a PUT of the
 * whole dict (no v2 endpoint exists for them).
 */
import { Gate } from '../util/gate.js'
import type { DatagouvClient } from './client.js'
import type { Resource } from './schemas.js'

/**
 * How a write touches the dataset's list of resources: `in-place` changes one listed resource (its
 * file, metadata or extras), `create` adds one, `alone` removes one or writes the dataset itself.
 * udata before 10.4.3 writes a changed resource at the list position it read when its request
 * started, and saves a removal as the whole list it read: a creation beside an in-place write, or
 * a removal beside any write, loses or duplicates resources (docs/udata-protocol.md §15, measured
 * on udata 7). Writes of one kind run together (two creations, two in-place writes are safe);
 * writes of different kinds never overlap; `alone` runs by itself.
 */
type WriteKind = 'in-place' | 'create' | 'alone'

export interface Scope {
  readonly kind: 'owner' | 'community'
  readonly datasetId: string
  /**
   * Runs a write to the dataset (`fn`, its retries and its looks included) under the rule of
   * `WriteKind`. The scope's own writes below go through it; uploads wrap their storing request.
   */
  write<T>(kind: WriteKind, fn: () => Promise<T>): Promise<T>
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
  const write = gated()
  return {
    kind: 'owner',
    datasetId,
    write,
    uploadPath: (id) =>
      id === undefined
        ? `/datasets/${datasetId}/upload/`
        : `/datasets/${datasetId}/resources/${id}/upload/`,
    list: async () => (await client.getDataset(datasetId)).resources,
    update: (id, patch) => write('in-place', () => client.updateResource(datasetId, id, patch)),
    mergeExtras: (resource, patch) =>
      write('in-place', () => client.updateResourceExtras(datasetId, resource.id, patch)),
    createRemote: (body, isNew) =>
      write('create', () => client.createRemoteResource(datasetId, body, isNew)),
    remove: (id) => write('alone', () => client.deleteResource(datasetId, id)),
  }
}

/** One gate per scope: the rule of `WriteKind` for the writes of one run to one dataset. */
function gated(): Scope['write'] {
  const gate = new Gate<Exclude<WriteKind, 'alone'>>()
  return (kind, fn) => gate.run(kind, fn)
}

/** Community resources of `ownerId` (the key's owner) on the dataset. */
export function communityScope(client: DatagouvClient, datasetId: string, ownerId: string): Scope {
  // Community resources are documents of their own, not a list in the dataset: the rule costs
  // little and keeps one behaviour for both scopes.
  const write = gated()
  const update = (id: string, patch: Record<string, unknown>) =>
    write('in-place', () => client.updateCommunityResource(id, patch))
  return {
    kind: 'community',
    datasetId,
    write,
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
    createRemote: (body, isNew) =>
      write('create', () => client.createRemoteCommunityResource(datasetId, body, isNew)),
    remove: (id) => write('alone', () => client.deleteCommunityResource(id)),
  }
}
