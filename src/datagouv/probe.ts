/**
 * Checks that a remote resource's URL answers, and records what it says about the file: HEAD,
 * falling back to a one-byte ranged GET for servers that refuse HEAD. Redirects are followed (no
 * credential is ever sent: this talks to the producer's server, not to data.gouv.fr).
 */
import { discard, headerOf, type Http } from './http.js'
import { toErrorMessage } from '../util/errors.js'

export interface UrlProbe {
  status: number
  /** Bytes, from Content-Length (HEAD, 200) or the total of Content-Range (206). */
  size?: number
  etag?: string
  lastModified?: string
  /** The URL that answered, after redirects. */
  finalUrl: string
  method: 'HEAD' | 'GET'
}

class ProbeError extends Error {
  override readonly name = 'ProbeError'
}

const MAX_REDIRECTS = 5

export async function probeUrl(
  url: string,
  options: { http: Http; timeoutMs: number; userAgent: string },
): Promise<UrlProbe> {
  if (!/^https?:/i.test(url))
    throw new ProbeError(`only http(s) URLs can be checked, not ${new URL(url).protocol}`)
  let head: UrlProbe | undefined
  let headFailure: string
  try {
    head = await follow('HEAD', url, options)
    if (head.status >= 200 && head.status < 300) return head
    headFailure = `HEAD answered ${head.status}`
  } catch (error) {
    headFailure = `HEAD failed: ${toErrorMessage(error)}`
  }
  let get: UrlProbe
  try {
    get = await follow('GET', url, options)
  } catch (error) {
    throw new ProbeError(
      `${url} does not answer (${headFailure}; GET failed: ${toErrorMessage(error)})`,
    )
  }
  if (get.status >= 200 && get.status < 300) return get
  throw new ProbeError(
    `${url} answered ${get.status}${head !== undefined && head.status !== get.status ? ` (HEAD: ${head.status})` : ''}`,
  )
}

async function follow(
  method: 'HEAD' | 'GET',
  start: string,
  options: { http: Http; timeoutMs: number; userAgent: string },
): Promise<UrlProbe> {
  let url = start
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': options.userAgent, accept: '*/*' }
    if (method === 'GET') headers.range = 'bytes=0-0'
    const response = await options.http.request({
      method,
      url: new URL(url),
      headers,
      timeoutMs: options.timeoutMs,
    })
    // Never read a body: a server that ignores Range would send the whole file. At most a few
    // kilobytes are read, then the connection is closed.
    await discard(response.body, 16_384)
    const location = headerOf(response.headers, 'location')
    if (
      response.statusCode >= 300 &&
      response.statusCode < 400 &&
      location !== undefined &&
      hop < MAX_REDIRECTS
    ) {
      url = new URL(location, url).toString()
      continue
    }
    const probe: UrlProbe = { status: response.statusCode, finalUrl: url, method }
    const size = sizeOf(
      response.statusCode,
      headerOf(response.headers, 'content-length'),
      headerOf(response.headers, 'content-range'),
    )
    if (size !== undefined) probe.size = size
    const etag = headerOf(response.headers, 'etag')
    if (etag !== undefined) probe.etag = etag
    const lastModified = headerOf(response.headers, 'last-modified')
    if (lastModified !== undefined) probe.lastModified = lastModified
    return probe
  }
}

/** The file's size: Content-Range's total on 206, Content-Length otherwise. */
function sizeOf(
  status: number,
  contentLength: string | undefined,
  contentRange: string | undefined,
): number | undefined {
  if (status === 206) {
    const total = /\/(\d+)\s*$/.exec(contentRange ?? '')?.[1]
    return total === undefined ? undefined : Number(total)
  }
  return contentLength !== undefined && /^\d+$/.test(contentLength)
    ? Number(contentLength)
    : undefined
}
