/**
 * The published file, downloaded for the diff: a GET of the resource's URL (the static host, not
 * the API: no key is ever sent), through the run's `Http` (its proxy settings), streamed to a
 * temporary file with its sha1 computed on the way, and never more than the size bound: above it,
 * the download stops and only its size is known.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApiError, NetworkError } from '../datagouv/errors.js'
import { discard, headerOf, type Http } from '../datagouv/http.js'
import type { Retrier } from '../datagouv/retry.js'

export interface DownloadOptions {
  http: Http
  userAgent: string
  timeoutMs: number
  /** Above this many bytes, nothing more is read. */
  maxBytes: number
  retrier: Pick<Retrier, 'run'>
}

export type Downloaded =
  | { kind: 'file'; size: number; sha1: string }
  /** Larger than the bound: its size when the server said it. */
  | { kind: 'too-large'; size?: number }

const MAX_REDIRECTS = 5

/** The file at `url` into `path` (replaced at each attempt), retried as API reads are. */
export async function download(
  url: string,
  path: string,
  options: DownloadOptions,
): Promise<Downloaded> {
  return options.retrier.run({
    label: `GET ${url}`,
    send: () => downloadOnce(url, path, options),
  })
}

async function downloadOnce(
  start: string,
  path: string,
  options: DownloadOptions,
): Promise<Downloaded> {
  let url = start
  for (let hop = 0; ; hop++) {
    const response = await options.http
      .request({
        method: 'GET',
        url: new URL(url),
        headers: { 'user-agent': options.userAgent, accept: '*/*' },
        timeoutMs: options.timeoutMs,
      })
      .catch((error: unknown) => {
        throw new NetworkError('GET', url, error)
      })
    const location = headerOf(response.headers, 'location')
    if (response.statusCode >= 300 && response.statusCode < 400 && location !== undefined) {
      await discard(response.body)
      if (hop === MAX_REDIRECTS)
        throw new ApiError('GET', url, response.statusCode, 'too many redirects')
      url = new URL(location, url).toString()
      continue
    }
    if (response.statusCode !== 200) {
      await discard(response.body)
      throw new ApiError('GET', url, response.statusCode, '')
    }
    const length = Number(headerOf(response.headers, 'content-length') ?? Number.NaN)
    if (length > options.maxBytes) {
      await discard(response.body)
      return { kind: 'too-large', size: length }
    }
    return save(response.body, path, options.maxBytes, url)
  }
}

/** The body into `path`, hashed as it goes; stops past `maxBytes`. */
async function save(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  path: string,
  maxBytes: number,
  url: string,
): Promise<Downloaded> {
  const hash = createHash('sha1')
  let size = 0
  let tooLarge = false
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > maxBytes) {
        tooLarge = true
        callback(new Error('above the bound'))
        return
      }
      hash.update(chunk)
      callback(null, chunk)
    },
  })
  try {
    await pipeline(body, counter, createWriteStream(path))
  } catch (error) {
    if (tooLarge) return { kind: 'too-large' }
    throw new NetworkError('GET', url, error)
  }
  return { kind: 'file', size, sha1: hash.digest('hex') }
}
