/**
 * A real CONNECT proxy on loopback, as runners and curl use one, counting the tunnels it is asked
 * for; with `refuse`, it answers every CONNECT with that status instead (a corporate proxy whose
 * rules do not let the host through).
 */
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'

export interface Proxy {
  url: string
  /** `host:port` of every tunnel asked for, in order (refused ones included). */
  tunnels: string[]
  /** The `Proxy-Authorization` header of each CONNECT, in the same order (`''`: none). */
  authorizations: string[]
  close(): Promise<void>
}

export async function connectProxy(options: { refuse?: number } = {}): Promise<Proxy> {
  const tunnels: string[] = []
  const authorizations: string[] = []
  const server: Server = createServer((_req, res) => res.writeHead(405).end('CONNECT only'))
  server.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '')
    authorizations.push(req.headers['proxy-authorization'] ?? '')
    if (options.refuse !== undefined) {
      client.end(`HTTP/1.1 ${options.refuse} Refused by policy\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
