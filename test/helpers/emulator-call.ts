import type { Emulator } from '../../emulator/server.js'

export type Json = Record<string, unknown>

/** One request to the emulator (or any origin), as a script would send it; the JSON answer parsed. */
export async function call(
  emu: Emulator | string,
  method: string,
  path: string,
  opts: { key?: string; json?: unknown; body?: FormData } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (opts.key !== undefined) headers['x-api-key'] = opts.key
  let body: RequestInit['body'] = opts.body
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(opts.json)
  }
  const origin = typeof emu === 'string' ? emu : emu.url
  const res = await fetch(`${origin}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  })
  const text = await res.text()
  return {
    status: res.status,
    body: (text === '' ? {} : JSON.parse(text)) as Json,
  }
}
