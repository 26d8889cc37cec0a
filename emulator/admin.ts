import type { IncomingMessage, ServerResponse } from 'node:http'

import { WERKZEUG } from './constants.js'
import type { FaultSet } from './faults.js'
import { parseFaultRule } from './faults.js'
import { readBody } from './http.js'
import { maskedRecords } from './recording.js'
import { renderDataset } from './render.js'
import { sendAdmin } from './respond.js'
import type { Store } from './store.js'
import type { RecordedRequest } from './types.js'

/** The control endpoints under `/__emulator/` (no authentication, never recorded nor faulted). */

export const ADMIN_PREFIX = '/__emulator/'

export interface AdminState {
  store: Store
  origin: () => string
  requests: RecordedRequest[]
  faults: FaultSet
}

function state(admin: AdminState): unknown {
  const { store } = admin
  return {
    users: [...store.users.values()].map((u) => ({ id: u.id, active: u.active })),
    organizations: store.organizations.map((o) => ({ id: o.id, slug: o.slug, name: o.name, members: o.members.map((m) => ({ user: m.user, role: m.role })) })),
    datasets: store.datasets.map((d) => {
      const owner = d.owner === null ? undefined : store.users.get(d.owner)
      return { ...renderDataset(d, admin.origin(), store, owner), old_slugs: [...d.oldSlugs] }
    }),
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

function route(admin: AdminState, method: string, pathname: string, raw: Buffer): [number, unknown?] {
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
    default:
      return [404, { message: 'Unknown emulator admin endpoint' }]
  }
}

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, method: string, pathname: string, admin: AdminState): Promise<void> {
  let raw: Buffer
  try {
    raw = await readBody(req, 1024 * 1024)
  } catch {
    sendAdmin(res, 413, { message: WERKZEUG.tooLarge })
    req.resume()
    return
  }
  const [status, value] = route(admin, method, pathname, raw)
  sendAdmin(res, status, value)
}
