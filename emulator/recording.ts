import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import type { RecordedRequest } from './types.js'

/** Request recording: what `emu.requests` and `GET /__emulator/requests` show. */

export function startRecord(req: IncomingMessage, method: string, path: string): RecordedRequest {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name] = value
  return { method, path, headers, status: 0, bodyBytes: 0, startedAt: Date.now() }
}

/** The request body as handlers read it, counted into `record.bodyBytes` as it arrives. */
export function countedBody(req: IncomingMessage, record: RecordedRequest): Transform {
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      record.bodyBytes += chunk.length
      callback(null, chunk)
    },
  })
  body.on('error', () => undefined) // consumers see errors through their own listeners
  pipeline(req, body).catch(() => undefined)
  return body
}

/** Close a record (status 0: nothing was answered) and tell the `onRequest` callback. */
export function finishRecord(
  record: RecordedRequest,
  status: number,
  onRequest: ((request: RecordedRequest) => void) | undefined,
): void {
  record.status = status
  record.finishedAt = Date.now()
  try {
    onRequest?.(record)
  } catch {
    // a logging callback must not break the server
  }
}

/** Records as the admin endpoint shows them: API keys and bearer tokens masked. */
export function maskedRecords(requests: readonly RecordedRequest[]): RecordedRequest[] {
  const secret = (name: string): boolean => name === 'x-api-key' || name === 'authorization'
  return requests.map((r) => ({
    ...r,
    headers: Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k, secret(k) ? '***' : v]),
    ),
  }))
}
