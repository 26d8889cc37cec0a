/**
 * Where one README example runs: the instances of the table (test/helpers/readme/world.ts) as
 * emulators seeded with what the examples name, a temporary folder, the stand-in of the remote
 * sites they link, the emulators a command of the example starts, and a transcript of every step
 * and command, shown when the example fails.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MockAgent } from 'undici'
import { serve } from '../../../emulator/command.js'
import { applySeed } from '../../../emulator/seed.js'
import { startEmulator, type Emulator } from '../../../emulator/server.js'
import {
  API_URLS,
  CHECKOUT,
  EXECUTABLE,
  INSTANCES,
  REMOTES,
  RUN,
  SUBSTITUTIONS,
  type SectionSpec,
} from './world.js'

/** Substitutions and expected warnings of the table an example used: a test fails on one unused. */
export const usedSubstitutions = new Set<string>()
export const usedWarnings = new Set<string>()

/** A comment of the pull request, as GitHub's REST API stand-in holds it. */
interface Comment {
  id: number
  body: string
  html_url: string
}

export class Scene {
  /** Everything that ran, in order, with what it printed. */
  readonly transcript: string[] = []
  /** The remote sites of the table answered here, the emulators for real. */
  readonly dispatcher: MockAgent
  /** Written address (`127.0.0.1:8080`) -> the address of the emulator a command started. */
  private readonly addresses = new Map<string, string>()
  private readonly emulators: Emulator[] = []
  /** The comments GitHub's API stand-in holds, by pull request number. */
  readonly comments = new Map<number, Comment[]>()

  private constructor(
    readonly base: string,
    private readonly instances: ReadonlyMap<string, Emulator>,
    private readonly spec: SectionSpec,
  ) {
    this.dispatcher = standIn()
    githubApi(this.dispatcher, this.comments)
  }

  /** A scene with the table's instances (none when the section starts its own emulator). */
  static async start(spec: SectionSpec = {}): Promise<Scene> {
    const base = await mkdtemp(path.join(tmpdir(), 'readme-'))
    const instances = new Map<string, Emulator>()
    const scene = new Scene(base, instances, spec)
    if (spec.ownEmulator !== true) {
      for (const [name, seed] of Object.entries(INSTANCES)) {
        // As test/helpers/fixture.ts: no same-second FileExists, which would depend on the clock.
        const emulator = await startEmulator({ sameSecondConflict: false })
        scene.emulators.push(emulator)
        applySeed(emulator, seed, base)
        instances.set(name, emulator)
      }
    }
    return scene
  }

  /** The URL an action step or a command gets for the `api-url` it was written with. */
  apiUrl(written: string | undefined): string {
    const value = (written ?? '')
      .trim()
      .replace(/\/+$/, '')
      .replace(/\/api\/1$/, '')
    if (/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(value)) return this.substitute(value)
    const name = API_URLS[value]
    const emulator = name === undefined ? undefined : this.instances.get(name)
    if (emulator === undefined)
      throw new Error(
        `api-url '${written ?? ''}': no instance answers for it here ` +
          `(the table's: ${Object.keys(API_URLS)
            .map((k) => k || '(none)')
            .join(', ')}; instances started: ${[...this.instances.keys()].join(', ') || 'none'})`,
      )
    return emulator.url
  }

  /** The `::warning::` lines of a step's log that the section's table does not expect. */
  unexpectedWarnings(log: string): string[] {
    return log
      .split('\n')
      .filter((line) => line.startsWith('::warning::'))
      .filter((line) => {
        const expected = this.spec.warnings?.find((w) => w.match.test(line))
        if (expected !== undefined) usedWarnings.add(expected.match.source)
        return expected === undefined
      })
  }

  /** Starts an emulator from a command line's arguments (`udata-emulator …`), on a free port. */
  async startEmulator(args: string[], cwd: string): Promise<void> {
    const written = portOf(args)
    const free = [...args]
    const at = free.findIndex((a) => a === '--port' || a.startsWith('--port='))
    if (at >= 0) free.splice(at, free[at] === '--port' ? 2 : 1)
    let out = ''
    const running = await serve([...free, '--port', '0', '--quiet'], {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: () => true },
      cwd,
    })
    if (running === undefined) {
      this.transcript.push(out)
      return
    }
    this.emulators.push(running.emulator)
    const actual = new URL(running.emulator.url).host
    for (const host of ['127.0.0.1', 'localhost']) this.addresses.set(`${host}:${written}`, actual)
    this.transcript.push(`(emulator at ${running.emulator.url} for 127.0.0.1:${written}) ${out}`)
  }

  /** `text` with the table's substitutions and the addresses of the emulators started. */
  substitute(text: string): string {
    let out = text
    for (const { text: from, by } of SUBSTITUTIONS) {
      if (!out.includes(from)) continue
      usedSubstitutions.add(from)
      out = out.split(from).join(by)
    }
    for (const [from, to] of this.addresses) out = out.split(from).join(to)
    return out
  }

  /** A folder of the scene; with `checkout`, the table's repository written in it. */
  async folder(name: string, checkout: boolean): Promise<string> {
    const dir = await mkdtemp(path.join(this.base, `${name.replace(/[^\w-]+/g, '-')}-`))
    if (checkout) await writeCheckout(dir)
    return dir
  }

  async close(): Promise<void> {
    await Promise.all(this.emulators.map((e) => e.close()))
    await this.dispatcher.close()
    await rm(this.base, { recursive: true, force: true })
  }
}

export async function writeCheckout(dir: string): Promise<void> {
  for (const [file, content] of Object.entries(CHECKOUT)) {
    const full = path.join(dir, file)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, content)
    if (EXECUTABLE.has(file)) await chmod(full, 0o755)
  }
}

/** The port a command line gives the emulator (its default, 8080, when none). */
function portOf(args: string[]): string {
  const at = args.findIndex((a) => a === '--port' || a.startsWith('--port='))
  if (at < 0) return '8080'
  return (args[at] === '--port' ? args[at + 1] : args[at]?.slice('--port='.length)) ?? '8080'
}

/** A dispatcher that answers for the table's remote sites and lets loopback requests through. */
function standIn(): MockAgent {
  const agent = new MockAgent()
  agent.enableNetConnect((host: string) => /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host))
  for (const [url, remote] of Object.entries(REMOTES)) {
    const { origin, pathname } = new URL(url)
    const headers = {
      'content-type': remote.type,
      etag: remote.etag,
      'last-modified': 'Mon, 02 Mar 2026 08:00:00 GMT',
      'content-length': String(Buffer.byteLength(remote.body)),
    }
    const pool = agent.get(origin)
    pool.intercept({ path: pathname, method: 'HEAD' }).reply(200, '', { headers }).persist()
    pool.intercept({ path: pathname, method: 'GET' }).reply(200, remote.body, { headers }).persist()
  }
  return agent
}

/**
 * GitHub's REST API as comment-on-pr uses it (the issue comments of a pull request: list, create,
 * update, delete), in memory, for the workflow's token (world.ts `RUN.token`) only.
 */
function githubApi(agent: MockAgent, comments: Map<number, Comment[]>): void {
  const pool = agent.get('https://api.github.com')
  const json = { 'content-type': 'application/json; charset=utf-8' }
  let next = 1
  pool
    .intercept({ path: (p: string) => p.startsWith('/repos/'), method: () => true })
    .reply((request) => {
      const auth = String((request.headers as Record<string, string>).authorization ?? '')
      if (!auth.endsWith(RUN.token))
        return {
          statusCode: 401,
          data: '{"message":"Bad credentials"}',
          responseOptions: { headers: json },
        }
      const url = new URL(request.path, 'https://api.github.com')
      const issue = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname)
      const one = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname)
      const body = (): string =>
        (JSON.parse(typeof request.body === 'string' ? request.body : '{}') as { body?: string })
          .body ?? ''
      if (issue && request.method === 'GET') {
        const list = comments.get(Number(issue[1])) ?? []
        return { statusCode: 200, data: JSON.stringify(list), responseOptions: { headers: json } }
      }
      if (issue && request.method === 'POST') {
        const number = Number(issue[1])
        const id = next++
        const comment = {
          id,
          body: body(),
          html_url: `https://github.com/${RUN.repository}/pull/${number}#issuecomment-${id}`,
        }
        comments.set(number, [...(comments.get(number) ?? []), comment])
        return {
          statusCode: 201,
          data: JSON.stringify(comment),
          responseOptions: { headers: json },
        }
      }
      const found = [...comments.values()].flat().find((c) => one && c.id === Number(one[1]))
      if (found && request.method === 'PATCH') {
        found.body = body()
        return { statusCode: 200, data: JSON.stringify(found), responseOptions: { headers: json } }
      }
      if (found && request.method === 'DELETE') {
        for (const [n, list] of comments)
          comments.set(
            n,
            list.filter((c) => c !== found),
          )
        return { statusCode: 204, data: '' }
      }
      return {
        statusCode: 404,
        data: '{"message":"Not Found"}',
        responseOptions: { headers: json },
      }
    })
    .persist()
}
