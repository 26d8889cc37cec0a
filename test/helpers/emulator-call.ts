import type { Emulator } from '../../emulator/server.js'

export type Json = Record<string, unknown>

/** What the origin answered: the status, the body parsed as JSON (`{}` when empty or not JSON), as text, and the headers. */
interface Answer {
  status: number
  body: Json
  text: string
  headers: Headers
}

/**
 * One request to the emulator (or any origin), as a script would send it. Redirects are not
 * followed: a 3xx is the answer, with its `location` header.
 */
export async function call(
  emu: Emulator | string,
  method: string,
  path: string,
  opts: {
    key?: string
    json?: unknown
    body?: RequestInit['body']
    headers?: Record<string, string>
    signal?: AbortSignal
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) }
  if (opts.key !== undefined) headers['x-api-key'] = opts.key
  let body = opts.body
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json'
    body = JSON.stringify(opts.json)
  }
  const origin = typeof emu === 'string' ? emu : emu.url
  const res = await fetch(`${origin}${path}`, {
    method,
    headers,
    redirect: 'manual',
    ...(body != null ? { body } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: jsonOrEmpty(text), text, headers: res.headers }
}

/** The answer's JSON, or `{}` for an empty body or a page (a redirect's HTML, a proxy's error page). */
function jsonOrEmpty(text: string): Json {
  try {
    return text === '' ? {} : (JSON.parse(text) as Json)
  } catch {
    return {}
  }
}
