import type { IncomingMessage, ServerResponse } from 'node:http'

import { parseAnalyserOptions, type Analyser } from './analyser.js'
import { WERKZEUG } from './constants.js'
import type { FaultSet } from './faults.js'
import { parseFaultRule } from './faults.js'
import { readBody } from './http.js'
import { maskedRecords } from './recording.js'
import { renderCommunityResource, renderDataset } from './render.js'
import { sendAdmin } from './respond.js'
import type { Store } from './store.js'
import type { HeldRequest, HoldRelease, RecordedRequest } from './types.js'

/** The control endpoints under `/__emulator/` (no authentication, never recorded nor faulted). */

export const ADMIN_PREFIX = '/__emulator/'

export interface AdminState {
  store: Store
  origin: () => string
  requests: RecordedRequest[]
  faults: FaultSet
  analyser: Analyser
  held: HeldRequest[]
}

function state(admin: AdminState): unknown {
  const { store } = admin
  return {
    users: [...store.users.values()].map((u) => ({ id: u.id, active: u.active })),
    organizations: store.organizations.map((o) => ({
      id: o.id,
      slug: o.slug,
      name: o.name,
      members: o.members.map((m) => ({ user: m.user, role: m.role })),
    })),
    datasets: store.datasets.map((d) => {
      const owner = d.owner === null ? undefined : store.users.get(d.owner)
      return { ...renderDataset(d, admin.origin(), store, owner), old_slugs: [...d.oldSlugs] }
    }),
    community_resources: store.communityResources.map((c) =>
      renderCommunityResource(c, admin.origin(), store, undefined),
    ),
  }
}

function addFaults(admin: AdminState, raw: Buffer): [number, unknown] {
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown
    const rules = (Array.isArray(value) ? value : [value]).map(parseFaultRule)
    admin.faults.rules.push(...rules)
    return [200, { faults: admin.faults.rules.length }]
  } catch (error) {
    return [400, { message: `Invalid fault rules: ${(error as Error).message}` }]
  }
}

/** `POST /__emulator/analyser`: settings merged into the current ones (rules given are appended). */
function configureAnalyser(admin: AdminState, raw: Buffer): [number, unknown] {
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown
    const current = admin.analyser.describe()
    const base = admin.analyser.enabled
      ? {
          delayMs: current['delayMs'],
          parsingDelayMs: current['parsingDelayMs'],
          outcome: current['outcome'],
        }
      : {}
    admin.analyser.configure(parseAnalyserOptions({ ...base, ...(value as object) }))
    return [200, admin.analyser.describe()]
  } catch (error) {
    return [400, { message: `Invalid analyser settings: ${(error as Error).message}` }]
  }
}

/** `POST /__emulator/analyser/check` with `{"resource": "<id>"}`: schedule a check, as hydra's crawl would. */
function recheck(admin: AdminState, raw: Buffer): [number, unknown] {
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8')) as unknown
  } catch {
    value = undefined
  }
  const rid =
    typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)['resource']
      : undefined
  if (typeof rid !== 'string') return [400, { message: 'Expected {"resource": "<resource id>"}' }]
  admin.analyser.recheck(rid.toLowerCase())
  return [200, admin.analyser.describe()]
}

/**
 * `POST /__emulator/release` with `{"index"?, "drop"?, "status"?, "body"?, "contentType"?}`: the
 * held request at `index` (every one without it) goes on as told.
 */
function release(admin: AdminState, raw: Buffer): [number, unknown] {
  let value: unknown = {}
  try {
    if (raw.length > 0) value = JSON.parse(raw.toString('utf8')) as unknown
  } catch {
    return [400, { message: 'Expected a JSON object' }]
  }
  if (!isObject(value)) return [400, { message: 'Expected a JSON object' }]
  const { index, ...how } = value as HoldRelease & { index?: unknown }
  const chosen = typeof index === 'number' ? admin.held.slice(index, index + 1) : [...admin.held]
  for (const request of chosen) request.release(how)
  return [200, { released: chosen.length, held: admin.held.length }]
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

async function route(
  admin: AdminState,
  method: string,
  pathname: string,
  raw: Buffer,
): Promise<[number, unknown?]> {
  switch (`${method} ${pathname.replace(/\/?$/, '/')}`) {
    case 'GET /__emulator/state/':
      return [200, state(admin)]
    case 'GET /__emulator/requests/':
      return [200, maskedRecords(admin.requests)]
    case 'POST /__emulator/reset-requests/':
      admin.requests.length = 0
      return [204]
    case 'GET /__emulator/faults/':
      return [200, admin.faults.rules]
    case 'DELETE /__emulator/faults/':
      admin.faults.rules.length = 0
      return [204]
    case 'POST /__emulator/faults/':
      return addFaults(admin, raw)
    case 'GET /__emulator/held/':
      return [200, maskedRecords(admin.held.map((h) => h.record))]
    case 'POST /__emulator/release/':
      return release(admin, raw)
    case 'GET /__emulator/analyser/':
      return [200, admin.analyser.describe()]
    case 'POST /__emulator/analyser/':
      return configureAnalyser(admin, raw)
    case 'DELETE /__emulator/analyser/':
      admin.analyser.configure(null)
      return [204]
    case 'POST /__emulator/analyser/flush/':
      await admin.analyser.flush()
      return [200, admin.analyser.describe()]
    case 'POST /__emulator/analyser/check/':
      return recheck(admin, raw)
    default:
      return [404, { message: 'Unknown emulator admin endpoint' }]
  }
}

export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  pathname: string,
  admin: AdminState,
): Promise<void> {
  let raw: Buffer
  try {
    raw = await readBody(req, 1024 * 1024)
  } catch {
    sendAdmin(res, 413, { message: WERKZEUG.tooLarge })
    req.resume()
    return
  }
  const [status, value] = await route(admin, method, pathname, raw)
  sendAdmin(res, status, value)
}
