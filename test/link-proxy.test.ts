/**
 * The bench's far-link proxy (scripts/link-proxy.ts): its delay, its shared rate and its bound on
 * bytes in flight per connection are measurably applied, bytes arrive intact and in order, and a
 * receiver that stops reading pauses the sender.
 *
 * Its delays and rates are measured on a fake clock: the proxy's timers and `performance.now()`
 * are vitest's, and `drive` moves them forward a millisecond at a time once the loopback I/O of
 * the moment is done, so a measure is what the proxy models, whatever the machine's load.
 */
import { createHash, randomBytes } from 'node:crypto'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, expect, it, vi } from 'vitest'
import {
  parseBytes,
  parseRate,
  startLinkProxy,
  type LinkProxy,
  type LinkProxyOptions,
} from '../scripts/link-proxy.js'

// The proxy's clock: the global `performance`, which vitest's fake timers replace.
vi.mock('node:perf_hooks', () => ({ performance: { now: () => globalThis.performance.now() } }))

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The proxy's timers and clock faked from now on; `setImmediate` and the sockets stay real. */
function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
}

/** One turn of the event loop, in which the loopback I/O that is ready happens. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Fake time moved forward `stepMs` at a time, with the I/O of each moment done, until `done` settles. */
async function drive<T>(done: Promise<T>, stepMs = 1): Promise<T> {
  let settled = false
  const result = done.finally(() => (settled = true))
  for (;;) {
    for (let i = 0; i < 4; i++) await turn()
    if (settled) return result
    await vi.advanceTimersByTimeAsync(stepMs)
  }
}

const now = (): number => globalThis.performance.now()

async function listen(
  onConnection: (socket: Socket) => void,
): Promise<{ host: string; port: number }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onConnection(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port }
}

async function proxyTo(
  target: { host: string; port: number },
  options: Omit<LinkProxyOptions, 'target'>,
): Promise<LinkProxy> {
  const proxy = await startLinkProxy({ target, ...options })
  cleanups.push(() => proxy.close())
  return proxy
}

async function open(proxy: LinkProxy): Promise<Socket> {
  const socket = connect(proxy.port, '127.0.0.1')
  cleanups.push(() => void socket.destroy())
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  )
  return socket
}

/** Writes `message` and resolves with the milliseconds until `length` bytes came back. */
function roundTrip(socket: Socket, message: Buffer, length = message.length): Promise<number> {
  return drive(
    new Promise((resolve) => {
      const started = now()
      let received = 0
      const onData = (chunk: Buffer): void => {
        received += chunk.length
        if (received < length) return
        socket.off('data', onData)
        resolve(now() - started)
      }
      socket.on('data', onData)
      socket.write(message)
    }),
  )
}

/** A server that hashes what each connection sends and answers `<bytes> <sha1>\n` when it ends. */
function hashingServer(): Promise<{ host: string; port: number }> {
  return listen((socket) => {
    const hash = createHash('sha1')
    let bytes = 0
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    socket.on('end', () => socket.end(`${bytes} ${hash.digest('hex')}\n`))
  })
}

/** Sends `data` through the proxy, half-closes, and resolves with the server's answer and the time it took. */
async function upload(proxy: LinkProxy, data: Buffer): Promise<{ answer: string; ms: number }> {
  const socket = await open(proxy)
  const started = now()
  let answer = ''
  socket.setEncoding('utf8').on('data', (text: string) => (answer += text))
  socket.end(data)
  await new Promise((resolve) => socket.once('end', resolve))
  return { answer: answer.trim(), ms: now() - started }
}

const sha1 = (data: Buffer): string => createHash('sha1').update(data).digest('hex')

it('delays each direction: a round trip takes at least both delays, the first one a handshake more', async () => {
  const echo = await listen((socket) => socket.pipe(socket))
  const proxy = await proxyTo(echo, { up: { delayMs: 40 }, down: { delayMs: 60 } })
  fakeClock()
  const socket = await open(proxy)
  const first = await roundTrip(socket, Buffer.from('hello'))
  const second = await roundTrip(socket, Buffer.from('again'))
  expect(first).toBeGreaterThanOrEqual(2 * 100 - 2)
  expect(first).toBeLessThan(2 * 100 + 10)
  expect(second).toBeGreaterThanOrEqual(100 - 2)
  expect(second).toBeLessThan(100 + 10)

  const direct = await proxyTo(echo, {
    up: { delayMs: 40 },
    down: { delayMs: 60 },
    handshake: false,
  })
  const noHandshake = await roundTrip(await open(direct), Buffer.from('no handshake'))
  expect(noHandshake).toBeGreaterThanOrEqual(100 - 2)
  expect(noHandshake).toBeLessThan(100 + 10)
})

it('limits the rate: 8 MB at 40 Mbit/s takes at least 1.5 s, and arrives intact', async () => {
  const data = randomBytes(8_000_000)
  const proxy = await proxyTo(await hashingServer(), {
    up: { bitsPerSecond: parseRate('40M') },
    handshake: false,
  })
  fakeClock()
  const { answer, ms } = await drive(upload(proxy, data), 5)
  expect(answer).toBe(`${data.length} ${sha1(data)}`)
  expect(ms).toBeGreaterThanOrEqual(1500)
  expect(ms).toBeLessThan(1700)
  expect(proxy.stats().up.bytes).toBe(data.length)
})

it('shares one rate between connections: two 4 MB uploads at once both take about as long as 8 MB', async () => {
  const a = randomBytes(4_000_000)
  const b = randomBytes(4_000_000)
  const proxy = await proxyTo(await hashingServer(), {
    up: { bitsPerSecond: 40e6 },
    handshake: false,
  })
  fakeClock()
  const started = now()
  const [first, second] = await drive(Promise.all([upload(proxy, a), upload(proxy, b)]), 5)
  const total = now() - started
  expect(first.answer).toBe(`${a.length} ${sha1(a)}`)
  expect(second.answer).toBe(`${b.length} ${sha1(b)}`)
  // Alone, each would take 0.8 s; sharing the link fairly, each takes close to the 1.6 s of both.
  expect(total).toBeGreaterThanOrEqual(1500)
  expect(total).toBeLessThan(1700)
  expect(Math.min(first.ms, second.ms)).toBeGreaterThanOrEqual(1200)
  expect(proxy.stats().connections).toBe(2)
})

it('bounds its buffers: a receiver that does not read pauses the sender, whose own writes back up', async () => {
  const stalled: Socket[] = []
  const target = await listen((socket) => {
    socket.pause()
    stalled.push(socket)
  })
  const queueBytes = 128 * 1024
  const proxy = await proxyTo(target, { queueBytes, handshake: false })
  const socket = await open(proxy)
  const chunk = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < 64; i++) socket.write(chunk)
  // The proxy's queue fills and it stops reading; whatever it would still read comes in a few turns.
  while (proxy.stats().up.pauses === 0) await turn()
  for (let i = 0; i < 20; i++) await turn()
  const { up } = proxy.stats()
  expect(up.pauses).toBeGreaterThan(0)
  // At most the bound plus one read of the socket in the proxy's queue, whatever the sender wrote.
  expect(up.maxQueued).toBeLessThanOrEqual(queueBytes + 256 * 1024)
  // What the proxy did not take waits in the sender's own buffer (the loopback's socket buffers hold a few MiB).
  expect(socket.writableLength).toBeGreaterThan(32 * 1024 * 1024)

  // Once the receiver reads again, everything arrives.
  let received = 0
  const all = new Promise<void>((resolve) =>
    stalled[0]?.on('data', (c: Buffer) => {
      received += c.length
      if (received === 64 * chunk.length) resolve()
    }),
  )
  stalled[0]?.resume()
  await all
  expect(received).toBe(64 * chunk.length)
})

it('bounds the bytes in flight per connection: one connection moves a window per round trip, two move twice as much', async () => {
  const proxy = await proxyTo(await hashingServer(), {
    up: { delayMs: 20, bitsPerSecond: 400e6 },
    down: { delayMs: 20 },
    windowBytes: 64 * 1024,
    handshake: false,
  })
  fakeClock()
  // 1 MiB in windows of 64 KiB: 16 round trips of 40 ms, whatever the link's 400 Mbit/s (21 ms).
  const a = randomBytes(1024 * 1024)
  const alone = await drive(upload(proxy, a))
  expect(alone.answer).toBe(`${a.length} ${sha1(a)}`)
  expect(alone.ms).toBeGreaterThanOrEqual(15 * 40)
  expect(alone.ms).toBeLessThan(17 * 40 + 40)
  expect(proxy.stats().up.maxInFlight).toBe(64 * 1024)
  expect(proxy.stats().up.windowWaits).toBeGreaterThanOrEqual(15)

  // Two connections at once each have their own window: both finish in about the time of one.
  const b = randomBytes(1024 * 1024)
  const c = randomBytes(1024 * 1024)
  const started = now()
  const [second, third] = await drive(Promise.all([upload(proxy, b), upload(proxy, c)]))
  expect(second.answer).toBe(`${b.length} ${sha1(b)}`)
  expect(third.answer).toBe(`${c.length} ${sha1(c)}`)
  expect(now() - started).toBeLessThan(17 * 40 + 40)
  expect(proxy.stats().up.maxInFlight).toBe(64 * 1024)
})

it('parses sizes and rates as the command line gives them', () => {
  expect(parseBytes('1M')).toBe(1024 * 1024)
  expect(parseBytes('256K')).toBe(256 * 1024)
  expect(parseBytes('4096')).toBe(4096)
  expect(() => parseBytes('lots')).toThrow(/not a size such as 1M/)
  expect(parseRate('400M')).toBe(400e6)
  expect(() => parseRate('fast')).toThrow(/not a rate such as 400M/)
})
