/**
 * The step of a remote URL: create a remote resource when none matches, else signal the resource
 * when the URL's file may have changed, update only the metadata that differs, or skip. What the
 * URL answers is asked for (preflight.ts probes it) and handed back.
 */
import type { Resource } from '../../datagouv/schemas.js'
import type { UrlProbe } from '../../datagouv/probe.js'
import type { ExtraValue, IfUnchanged } from '../inputs.js'
import type { RemoteEntry } from '../manifest.js'
import type { RemoteAction, RemoteStep, Target } from '../plan.js'
import { changedFields, defaultTitle, differ, extrasPatch, metadataPatch } from './fields.js'

/** Extras keys where the action records what a remote URL answered at the last signal. */
const REMOTE_STATE_KEYS = {
  etag: 'publish:etag',
  lastModified: 'publish:last-modified',
  size: 'publish:content-length',
} as const

/**
 * The step for a remote URL. It is signalled (a PUT that moves the resource's modification date)
 * when what the URL answers differs from what was recorded at the last signal (ETag,
 * Last-Modified, size), when its url changes, or when nothing can tell (no check, no validator).
 */
export function decideRemote(
  target: Target<RemoteEntry>,
  ifUnchanged: IfUnchanged,
  probe: UrlProbe | undefined,
): RemoteStep {
  const { resource, entry } = target
  const state = probe ? remoteState(probe) : {}
  const wantedExtras = { ...(entry.extras ?? {}), ...state }
  if (resource === undefined) return remoteCreation(target, probe, wantedExtras)
  const extras = extrasPatch(wantedExtras, resource.extras)
  const metadata = metadataPatch(entry, resource, entry.title ?? resource.title)
  const step = (action: RemoteAction, reason: string): RemoteStep => {
    // A signal is a partial PUT, which moves the resource's modification date and asks the analyser
    // to re-check it (docs/udata-protocol.md §7); it carries the url so that it is never empty.
    const patch =
      action === 'signal' ? { url: entry.url, ...metadata } : action === 'update' ? metadata : {}
    return {
      kind: 'url',
      ...target,
      action,
      reason,
      ...(probe ? { probe } : {}),
      patch,
      extras: action === 'skip' ? {} : extras,
    }
  }
  if (resource.url !== entry.url) return step('signal', 'url differs')
  if (ifUnchanged === 'upload') return step('signal', 'if-unchanged is upload')
  if (probe === undefined)
    return step('signal', 'URL not checked (check-urls is false): a change cannot be ruled out')
  const changes = remoteChanges(resource, probe)
  if (changes === undefined)
    return step(
      'signal',
      'the URL gives no ETag, Last-Modified or size: a change cannot be ruled out',
    )
  if (changes.length > 0) return step('signal', `remote file changed (${changes.join(', ')})`)
  const fields = changedFields(metadata, extrasPatch(entry.extras, resource.extras))
  if (fields.length > 0) return step('update', `remote unchanged; ${differ(fields)}`)
  return step('skip', 'remote unchanged (same validators as at the last signal)')
}

/** A new remote resource: the body of its creation, then its extras. */
function remoteCreation(
  target: Target<RemoteEntry>,
  probe: UrlProbe | undefined,
  wantedExtras: Record<string, ExtraValue>,
): RemoteStep {
  const { entry } = target
  const create: RemoteStep['create'] = {
    url: entry.url,
    title: entry.title ?? defaultTitle(entry),
    type: entry.type ?? 'main',
  }
  if (entry.description !== undefined) create.description = entry.description
  if (entry.format !== undefined) create.format = entry.format
  if (entry.schema !== undefined) create.schema = entry.schema
  return {
    kind: 'url',
    ...target,
    action: 'create',
    reason: 'new: no remote resource has this URL',
    ...(probe ? { probe } : {}),
    create,
    patch: {},
    extras: extrasPatch(wantedExtras, {}),
  }
}

/**
 * Which recorded validators differ from what the URL answers now; `undefined` when it gives none.
 */
function remoteChanges(resource: Resource, probe: UrlProbe): string[] | undefined {
  const now = remoteState(probe)
  if (Object.keys(now).length === 0) return undefined
  const recorded = resource.extras ?? {}
  const names: Record<string, string> = {
    [REMOTE_STATE_KEYS.etag]: 'ETag',
    [REMOTE_STATE_KEYS.lastModified]: 'Last-Modified',
    [REMOTE_STATE_KEYS.size]: 'size',
  }
  if (Object.keys(now).every((key) => recorded[key] === undefined)) return ['first check']
  return Object.entries(now)
    .filter(([key, value]) => recorded[key] !== value)
    .map(([key]) => names[key] ?? key)
}

/** The extras that record what a URL answered. */
function remoteState(probe: UrlProbe): Record<string, string> {
  const state: Record<string, string> = {}
  if (probe.etag !== undefined) state[REMOTE_STATE_KEYS.etag] = probe.etag
  if (probe.lastModified !== undefined) state[REMOTE_STATE_KEYS.lastModified] = probe.lastModified
  if (probe.size !== undefined) state[REMOTE_STATE_KEYS.size] = String(probe.size)
  return state
}
