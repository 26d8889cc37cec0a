/**
 * A far link on loopback: a TCP proxy that gives each direction a one-way delay and one rate limit
 * shared by every connection, with bounded buffers so that senders feel back-pressure.
 *
 * Model, per direction (up: client -> target, down: target -> client):
 * - each connection has its own queue; when it holds more than `queueBytes`, its source socket is
 *   paused (no more reads: TCP's window closes on the sender, its writes stop being accepted) and
 *   resumed once the queue has drained below half of that;
 * - one serializer per direction takes slices from the queues of every connection in turn (round
 *   robin) at `bitsPerSecond` in total, on a virtual clock so that timer lateness costs no rate;
 * - each slice is written to the other side `delayMs` after it was serialized (bytes in flight are
 *   the link's bandwidth x delay, bounded by the model);
 * - a connection whose receiver does not read (its writable buffer above `queueBytes`) is skipped
 *   by the serializer until it drains, so its queue fills and its sender is paused in turn;
 * - with `windowBytes`, each connection has at most that many bytes in flight per direction:
 *   bytes count from the moment they are serialized until their acknowledgement is back, one
 *   one-way delay of the other direction after their delivery (TCP's window, or the buffer of a
 *   proxy on the way); a connection at its bound is skipped until acknowledgements free room, so
 *   one connection moves at most `windowBytes` per round trip, however fast the link;
 * - a new connection waits one round trip before its first byte leaves (the TCP handshake a real
 *   far server costs), and a closed side (FIN) travels through the same delay after its data.
 *
 * Not modelled: loss, TCP's slow start and congestion window (without `windowBytes` the sender's
 * window is the loopback's, so a single connection can fill the link at once), TLS.
 *
 *   import { startLinkProxy } from './link-proxy.js'      // in process (tests)
 *   tsx scripts/link-proxy.ts --target http://127.0.0.1:8080 --delay 40 --rate 400M [--window 1M]
 *                                                          # own process: prints {"url": ...}
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export interface DirectionProfile {
  /** One-way delay in milliseconds (default 0). */
  delayMs?: number
  /** Bits per second shared by all connections in this direction; 0 or Infinity: unlimited (default). */
  bitsPerSecond?: number
}

export interface LinkProxyOptions {
  /** Where connections go. */
  target: { host: string; port: number }
  /** client -> target. */
  up?: DirectionProfile
  /** target -> client. */
  down?: DirectionProfile
  /** Bytes queued per connection and direction before its source is paused (default 256 KiB). */
  queueBytes?: number
  /**
   * Bytes one connection may have in flight per direction, from serialization to acknowledgement
   * (default: unbounded; the loopback's window lets one connection fill the link).
   */
  windowBytes?: number
  /** A new connection waits one round trip (up + down delay) before its first byte leaves (default true). */
  handshake?: boolean
  /** Listening address (default 127.0.0.1) and port (default 0: any free one). */
  host?: string
  port?: number
}

export interface DirectionStats {
  /** Bytes delivered to the other side. */
  bytes: number
  /** The most bytes one connection ever had queued in this direction. */
  maxQueued: number
  /** Times a source socket was paused because its queue was full. */
  pauses: number
  /** Times a connection had to wait for acknowledgements (its window was full). */
  windowWaits: number
  /** The most bytes one connection ever had in flight (serialized, not yet acknowledged). */
  maxInFlight: number
}

export interface LinkProxy {
  /** `http://host:port` of the proxy. */
  readonly url: string
  readonly port: number
  stats(): { connections: number; up: DirectionStats; down: DirectionStats }
  close(): Promise<void>
}

interface Delivery {
  due: number
  pipe: Pipe
  /** Empty with `end`: the sender's FIN. */
  chunk: Buffer
  end: boolean
}

/**
 * Items handed to `handle` at their due time (performance.now() ms), in the order pushed: due
 * times must not decrease. One timer, for the head.
 */
class DelayLine<T extends { due: number }> {
  private readonly items: T[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity

  constructor(private readonly handle: (item: T) => void) {}

  push(item: T): void {
    this.items.push(item)
    if (item.due < this.armedFor) this.arm()
  }

  close(): void {
    clearTimeout(this.timer)
    this.items.length = 0
    this.head = 0
  }

  private arm(): void {
    clearTimeout(this.timer)
    const next = this.items[this.head]
    if (next === undefined) {
      this.timer = undefined
      this.armedFor = Infinity
      return
    }
    this.armedFor = next.due
    this.timer = setTimeout(() => this.run(), Math.max(0, next.due - performance.now()))
  }

  private run(): void {
    const now = performance.now()
    for (
      let item = this.items[this.head];
      item !== undefined && item.due <= now + 0.5;
      item = this.items[this.head]
    ) {
      this.head++
      this.handle(item)
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.head = 0
    }
    this.arm()
  }
}

/** One direction of one connection: the bytes read from `source` on their way to `destination`. */
class Pipe {
  private readonly queue: Buffer[] = []
  queued = 0
  /** The source sent FIN; `endScheduled` once that FIN is in flight behind the last data. */
  ended = false
  endScheduled = false
  /** The receiver has more than the bound unread: skipped by the serializer until it drains. */
  blocked = false
  /** In the link's round-robin ring. */
  waiting = false
  /** Serialized and not yet acknowledged (bounded by the link's window). */
  inFlight = 0
  /** Data is not read before this time (the handshake's round trip). */
  private paused = false

  constructor(
    readonly link: Link,
    readonly source: Socket,
    readonly destination: Socket,
    private readonly bound: number,
  ) {
    source.on('data', (chunk: Buffer) => {
      this.queue.push(chunk)
      this.queued += chunk.length
      if (this.queued > link.stats.maxQueued) link.stats.maxQueued = this.queued
      if (this.queued >= bound && !this.paused) {
        this.paused = true
        link.stats.pauses++
        source.pause()
      }
      link.wake(this)
    })
    source.on('end', () => {
      this.ended = true
      link.wake(this)
    })
    destination.on('drain', () => {
      if (!this.blocked) return
      this.blocked = false
      link.wake(this)
    })
  }

  /** Has something to serialize: data its window has room for, else its FIN after the data. */
  get ready(): boolean {
    if (this.blocked || this.destination.destroyed) return false
    if (this.queued > 0) return this.inFlight < this.link.window
    return this.ended && !this.endScheduled
  }

  /** Up to `max` bytes from the head of the queue. */
  take(max: number): Buffer {
    const head = this.queue[0] as Buffer
    let chunk: Buffer
    if (head.length <= max) {
      this.queue.shift()
      chunk = head
    } else {
      chunk = head.subarray(0, max)
      this.queue[0] = head.subarray(max)
    }
    this.queued -= chunk.length
    if (this.paused && this.queued <= this.bound / 2) {
      this.paused = false
      this.source.resume()
    }
    return chunk
  }

  deliver(item: Delivery): void {
    if (this.destination.destroyed) return
    if (item.end) {
      this.destination.end()
      return
    }
    this.link.stats.bytes += item.chunk.length
    this.destination.write(item.chunk)
    if (this.destination.writableLength > this.bound) this.blocked = true
  }
}

/** One direction of the link: a serializer at the shared rate, then the delay line. */
class Link {
  readonly stats: DirectionStats = {
    bytes: 0,
    maxQueued: 0,
    pauses: 0,
    windowWaits: 0,
    maxInFlight: 0,
  }
  private readonly ring: Pipe[] = []
  /** Virtual time (performance.now() ms) at which the serializer is free. */
  private clock = 0
  private idle = true
  private pumpTimer: NodeJS.Timeout | undefined
  /** Bytes on their way to the other side. */
  private readonly line = new DelayLine<Delivery>((item) => {
    item.pipe.deliver(item)
    if (!item.end && Number.isFinite(this.window))
      this.acks.push({ due: item.due + this.ackDelayMs, pipe: item.pipe, bytes: item.chunk.length })
  })
  /** Acknowledgements on their way back, which free room in their connection's window. */
  private readonly acks = new DelayLine<{ due: number; pipe: Pipe; bytes: number }>((ack) => {
    ack.pipe.inFlight -= ack.bytes
    this.wake(ack.pipe)
  })
  /** Bytes per millisecond, Infinity when unlimited. */
  private readonly bytesPerMs: number
  private readonly slice: number
  private readonly delayMs: number
  /** Bytes in flight per connection; Infinity when unbounded. */
  readonly window: number

  constructor(
    profile: DirectionProfile = {},
    window = Infinity,
    /** The other direction's delay: how long an acknowledgement takes to come back. */
    private readonly ackDelayMs = 0,
  ) {
    const bps = profile.bitsPerSecond ?? 0
    this.bytesPerMs = bps > 0 && Number.isFinite(bps) ? bps / 8000 : Infinity
    this.delayMs = Math.max(0, profile.delayMs ?? 0)
    this.window = window > 0 ? window : Infinity
    // About 2 ms of the link per slice, between 4 and 64 KiB: fine enough for fair sharing, few enough timers.
    this.slice = Number.isFinite(this.bytesPerMs)
      ? Math.min(64 * 1024, Math.max(4 * 1024, Math.round(this.bytesPerMs * 2)))
      : 1024 * 1024
  }

  wake(pipe: Pipe): void {
    if (!pipe.waiting && pipe.ready) {
      pipe.waiting = true
      this.ring.push(pipe)
    }
    if (this.pumpTimer === undefined) this.pump()
  }

  close(): void {
    clearTimeout(this.pumpTimer)
    this.line.close()
    this.acks.close()
    this.ring.length = 0
  }

  private pump(): void {
    this.pumpTimer = undefined
    const now = performance.now()
    // An idle link saves no credit; a busy one catches up with its virtual clock (timers fire late).
    if (this.idle || this.clock < now - 50) this.clock = Math.max(this.clock, now)
    while (this.ring.length > 0 && this.clock <= now + 1) {
      const pipe = this.ring.shift() as Pipe
      pipe.waiting = false
      if (!pipe.ready) continue
      if (pipe.queued > 0 && pipe.inFlight < this.window) {
        const chunk = pipe.take(Math.min(this.slice, this.window - pipe.inFlight))
        this.clock += chunk.length / this.bytesPerMs
        this.line.push({ due: this.clock + this.delayMs, pipe, chunk, end: false })
        if (Number.isFinite(this.window)) {
          pipe.inFlight += chunk.length
          if (pipe.inFlight > this.stats.maxInFlight) this.stats.maxInFlight = pipe.inFlight
          if (pipe.inFlight >= this.window) this.stats.windowWaits++
        }
      }
      if (pipe.queued === 0 && pipe.ended && !pipe.endScheduled) {
        pipe.endScheduled = true
        this.line.push({ due: this.clock + this.delayMs, pipe, chunk: Buffer.alloc(0), end: true })
      }
      if (pipe.ready) {
        pipe.waiting = true
        this.ring.push(pipe)
      }
    }
    this.idle = this.ring.length === 0
    if (!this.idle) this.pumpTimer = setTimeout(() => this.pump(), Math.max(1, this.clock - now))
  }
}

export async function startLinkProxy(options: LinkProxyOptions): Promise<LinkProxy> {
  const window = options.windowBytes ?? Infinity
  const up = new Link(options.up, window, options.down?.delayMs ?? 0)
  const down = new Link(options.down, window, options.up?.delayMs ?? 0)
  const bound = options.queueBytes ?? 256 * 1024
  const handshakeMs =
    options.handshake === false ? 0 : (options.up?.delayMs ?? 0) + (options.down?.delayMs ?? 0)
  const sockets = new Set<Socket>()
  let connections = 0

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    connections++
    const upstream = connect({
      host: options.target.host,
      port: options.target.port,
      allowHalfOpen: true,
    })
    upstream.pause()
    // A clean close travels as a FIN through the pipes; an error is a reset of both sides.
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.on('error', () => other.destroy())
      socket.on('close', (hadError) => {
        sockets.delete(socket)
        if (hadError) other.destroy()
      })
    }
    new Pipe(up, client, upstream, bound)
    new Pipe(down, upstream, client, bound)
    const start = (): void => {
      client.resume()
      upstream.resume()
    }
    upstream.once('connect', () => (handshakeMs > 0 ? setTimeout(start, handshakeMs) : start()))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: () => ({ connections, up: { ...up.stats }, down: { ...down.stats } }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        up.close()
        down.close()
        server.close(() => resolve())
      }),
  }
}

/** `1M`, `256K`, `64k` (binary units) or a plain number: bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim())
  if (match === null) throw new Error(`'${text}' is not a size such as 1M or 256K (bytes)`)
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    (match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'
  ]
  return Math.round(Number(match[1]) * scale)
}

/** `400M`, `40m`, `1.5G`, `800k` or a plain number: bits per second. */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:bit\/s|bps)?$/i.exec(text.trim())
  if (match === null) throw new Error(`'${text}' is not a rate such as 400M (bits per second)`)
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[
    (match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'
  ]
  return Number(match[1]) * scale
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      delay: { type: 'string', default: '0' },
      rate: { type: 'string', default: '0' },
      'queue-bytes': { type: 'string', default: String(256 * 1024) },
      window: { type: 'string' },
      port: { type: 'string', default: '0' },
      'no-handshake': { type: 'boolean', default: false },
    },
  })
  if (values.target === undefined) throw new Error('--target http://host:port is required')
  const target = new URL(values.target)
  const profile = { delayMs: Number(values.delay), bitsPerSecond: parseRate(values.rate) }
  const proxy = await startLinkProxy({
    target: { host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) },
    up: profile,
    down: profile,
    queueBytes: Number(values['queue-bytes']),
    ...(values.window !== undefined ? { windowBytes: parseBytes(values.window) } : {}),
    handshake: !values['no-handshake'],
    port: Number(values.port),
  })
  console.log(JSON.stringify({ url: proxy.url }))
  const stop = (): void => {
    console.error(JSON.stringify(proxy.stats()))
    void proxy.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
