/**
 * HTTP on Node's own `http` and `https` modules: the one seam every request of a run goes through
 * (`Http`), and its implementation (`NodeHttp`) with keep-alive connections, the caller's proxy
 * variables (a CONNECT tunnel through the proxy, as curl and the runner use one), a streamed body
 * written at the socket's pace, and a timeout that says in which phase nothing moved.
 *
 * Why not undici, which the project used before: its HTTP/1.1 parser is WebAssembly, and V8
 * compiles it twice (baseline, then optimised once it is hot): ~22 MiB of compiler memory at the
 * first requests on Node 24, and undici's code itself adds ~25 MiB at start-up; Node's parser is
 * native, already in the binary. Peak RSS publishing 1 GiB went from 124–131 MiB to the figures in
 * BENCHMARKS.md (issue 20). The tests give a run their own `Http`: undici's MockAgent or an Agent
 * that records or breaks requests, behind test/helpers/undici-http.ts.
 */
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import tls from 'node:tls'
import { proxyUrl, type Env } from './proxy.js'

export interface HttpRequest {
  method: string
  url: URL
  /** Lower-case names. */
  headers: Record<string, string>
  /**
   * A text, or bytes pulled one chunk at a time: the next chunk is pulled only once the socket
   * took the previous one (multipart.ts reuses its read buffers).
   */
  body?: string | AsyncIterable<Uint8Array>
  /** Most time with no progress: waiting to send, for the answer's headers, between body reads. */
  timeoutMs: number
}

export interface HttpResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  /** To be read to its end (`readText`) or dropped (`discard`): a connection is held until then. */
  body: Readable
}

/** Where every request of a run goes: `NodeHttp` on the runner, the tests' own in tests. */
export interface Http {
  request(request: HttpRequest): Promise<HttpResponse>
  /** Closes its connections, once the run's requests are over. */
  close(): Promise<void>
}

const TIMEOUTS = {
  send: {
    code: 'SEND_TIMEOUT',
    says: (s: number) => `the server took no byte of the request for ${s} s`,
  },
  headers: {
    code: 'HEADERS_TIMEOUT',
    says: (s: number) => `no answer within ${s} s after the request was sent`,
  },
  body: { code: 'BODY_TIMEOUT', says: (s: number) => `the answer stopped for ${s} s` },
} as const

/**
 * Nothing moved for the request's timeout. `code` says what it waited for: `SEND_TIMEOUT`, the
 * server took no byte of the body; `HEADERS_TIMEOUT`, no answer after the body; `BODY_TIMEOUT`,
 * the answer stopped.
 */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError'
  readonly code: (typeof TIMEOUTS)[keyof typeof TIMEOUTS]['code']

  constructor(phase: keyof typeof TIMEOUTS, ms: number) {
    super(`timeout: ${TIMEOUTS[phase].says(ms / 1000)}`)
    this.code = TIMEOUTS[phase].code
  }
}

/** The proxy answered CONNECT with another status than 200: no tunnel. */
export class ProxyRefusedError extends Error {
  override readonly name = 'ProxyRefusedError'
  constructor(readonly status: number) {
    super(`the proxy answered ${status} to CONNECT`)
  }
}

/** A header's value, the first when the answer repeats it. */
export function headerOf(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The whole body as UTF-8 text. */
export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Reads and drops at most `limit` bytes of a body, then closes it: a server that sends a whole
 * file where a byte was asked is not read to its end.
 */
export async function discard(body: Readable, limit = 128 * 1024): Promise<void> {
  let read = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      read += chunk.length
      if (read > limit) break
    }
  } catch {
    // an answer cut short is dropped all the same
  } finally {
    body.destroy()
  }
}

const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo' } as const

/**
 * Requests through Node's agents, one per origin, keeping connections alive between requests;
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from `env` (proxy.ts) once per origin.
 */
export class NodeHttp implements Http {
  private readonly agents = new Map<string, http.Agent>()

  constructor(private readonly env: Env) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    const { url } = request
    const agent = this.agentFor(url)
    const client = url.protocol === 'https:' ? https : http
    const headers: Record<string, string> = { ...request.headers }
    const body = request.body
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body))
    else if (body === undefined && !['GET', 'HEAD', 'OPTIONS'].includes(request.method))
      headers['content-length'] = '0'
    // `timeout` also reaches a tunnel's createConnection, which bounds its CONNECT with it.
    const req = client.request(url, {
      method: request.method,
      headers,
      agent,
      timeout: request.timeoutMs,
    })
    return new Promise<HttpResponse>((resolve, reject) => {
      let phase: 'send' | 'headers' | 'body' = 'send'
      let response: IncomingMessage | undefined
      const fail = (error: Error): void => {
        req.destroy(error)
        response?.destroy(error)
        reject(error)
      }
      req.setTimeout(request.timeoutMs, () => fail(new HttpTimeoutError(phase, request.timeoutMs)))
      req.on('error', fail)
      req.on('finish', () => {
        if (phase === 'send') phase = 'headers'
      })
      req.on('response', (res) => {
        phase = 'body'
        response = res
        // A refusal that came before the body was all sent leaves the request unfinished: its
        // connection cannot carry another request.
        res.once('end', () => {
          if (!req.writableFinished) req.destroy()
        })
        // The request's timeout goes on watching the socket while the body is read.
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res })
      })
      if (body === undefined || typeof body === 'string') req.end(body)
      else
        void send(req, body, () => response !== undefined).catch((error: unknown) => {
          // An answer that came before the whole body was sent (a refusal) stands on its own.
          if (response === undefined)
            fail(error instanceof Error ? error : new Error(String(error)))
        })
    })
  }

  async close(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy()
    this.agents.clear()
  }

  /** The agent for the URL's origin, made at its first request: direct, or a proxy's tunnels. */
  private agentFor(url: URL): http.Agent {
    const secure = url.protocol === 'https:'
    let agent = this.agents.get(url.origin)
    if (agent === undefined) {
      const proxy = proxyUrl(this.env, url)
      agent =
        proxy !== undefined
          ? tunnelAgent(proxy, secure)
          : new (secure ? https.Agent : http.Agent)(AGENT_OPTIONS)
      this.agents.set(url.origin, agent)
    }
    return agent
  }
}

/**
 * Writes the body chunk by chunk, pulling the next one only once the socket has taken this one
 * (or the request's buffer is below its mark), and ends the request. Stops pulling when an answer
 * has come or the request is gone.
 */
async function send(
  req: http.ClientRequest,
  body: AsyncIterable<Uint8Array>,
  answered: () => boolean,
): Promise<void> {
  for await (const chunk of body) {
    if (answered() || req.destroyed) return
    if (!req.write(chunk)) {
      await drained(req)
      if (req.destroyed) return
    }
  }
  if (!answered() && !req.destroyed) req.end()
}

/** The request's buffer emptied into the socket, or the request is gone (an error included). */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done)
      req.off('close', done)
      resolve()
    }
    req.on('drain', done)
    req.on('close', done)
  })
}

/**
 * An agent whose connections are tunnels through an HTTP proxy: CONNECT host:port, then TLS for an
 * https target. Credentials in the proxy's URL go as `Proxy-Authorization: Basic`.
 */
function tunnelAgent(proxy: URL, secure: boolean): http.Agent {
  const Base = secure ? https.Agent : http.Agent
  const agent = new Base(AGENT_OPTIONS)
  const open = (
    options: http.ClientRequestArgs & tls.ConnectionOptions,
    done: (error: Error | null, socket?: Socket) => void,
  ): undefined => {
    const host = options.host ?? options.hostname ?? 'localhost'
    const port = Number(options.port) || (secure ? 443 : 80)
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`
    const headers: Record<string, string> = { host: target }
    if (proxy.username !== '' || proxy.password !== '') {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
      headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    }
    const connect = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    })
    const waited = options.timeout ?? 60_000
    connect.setTimeout(waited, () =>
      connect.destroy(
        new Error(`timeout: the proxy did not answer CONNECT within ${waited / 1000} s`),
      ),
    )
    connect.once('connect', (answer: IncomingMessage, socket: Socket) => {
      // The tunnel is the request's socket now: its own timeout watches it.
      connect.removeAllListeners('timeout')
      socket.setTimeout(0)
      if (answer.statusCode !== 200) {
        socket.destroy()
        done(new ProxyRefusedError(answer.statusCode ?? 0))
        return
      }
      if (!secure) {
        done(null, socket)
        return
      }
      const secured = tls.connect({ ...options, socket, servername: options.servername ?? host })
      const failed = (error: Error): void => done(error)
      secured.once('error', failed)
      secured.once('secureConnect', () => {
        secured.off('error', failed)
        done(null, secured)
      })
    })
    connect.once('error', (error) => done(error))
    connect.end()
    return undefined
  }
  // Node's agents wait for the callback when createConnection returns nothing.
  ;(agent as unknown as { createConnection: typeof open }).createConnection = open
  return agent
}
