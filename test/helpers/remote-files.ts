import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback server of remote files, for the remote resources of the emulator tests and of the
 * conformance suite: every path answers the same JSON body with the validators (ETag,
 * Last-Modified) the test sets between runs, `bytes=0-0` as a ranged GET does, `/missing` with 404.
 */
export interface RemoteFiles {
  url(urlPath: string): string
  etag: string
  lastModified: string
  /** The body it serves: it follows the ETag, as a file that changed would. */
  readonly body: string
  /** HEAD answered 405, as some servers do: a client falls back to a ranged GET. */
  refuseHead: boolean
  /** The requests it received, with the key header when one was (never expected). */
  requests: Array<{ method: string; path: string; range?: string; key?: string }>
  close(): Promise<void>
}

export async function remoteFiles(): Promise<RemoteFiles> {
  const state = {
    etag: '"v1"',
    lastModified: 'Mon, 02 Nov 2026 10:00:00 GMT',
    get body(): string {
      return `{"version": ${JSON.stringify(this.etag)}}`
    },
    refuseHead: false,
    requests: [] as RemoteFiles['requests'],
  }
  const server: Server = createServer((req, res) => {
    const key = req.headers['x-api-key']
    state.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      ...(req.headers.range !== undefined ? { range: req.headers.range } : {}),
      ...(key !== undefined ? { key: String(key) } : {}),
    })
    if (req.url === '/missing') {
      res.writeHead(404).end('not here')
      return
    }
    if (req.method === 'HEAD' && state.refuseHead) {
      res.writeHead(405).end()
      return
    }
    const body = Buffer.from(state.body)
    const headers = {
      etag: state.etag,
      'last-modified': state.lastModified,
      'content-type': 'application/json',
    }
    if (req.headers.range === 'bytes=0-0') {
      res
        .writeHead(206, {
          ...headers,
          'content-range': `bytes 0-0/${body.length}`,
          'content-length': '1',
        })
        .end(body.subarray(0, 1))
      return
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    url: (urlPath: string) => `http://127.0.0.1:${port}${urlPath}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}
