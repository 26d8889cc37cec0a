/**
 * The client's dispatcher seam: a run given a dispatcher (the Runner's, the CLI's Io) sends every
 * request through it, the API's and the checks of remote URLs alike, and leaves it open for its
 * owner. A request that went around it (a global fetch, a second client) would reach a server
 * without having been seen here.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import { afterEach, expect, it } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'
import { runInProcess } from './helpers/runner.js'
import { runCli } from './helpers/run-cli.js'

/** An agent that notes every request it is given: `METHOD origin+path`. */
class RecordingAgent extends Agent {
  readonly seen: string[] = []
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.seen.push(`${options.method} ${String(options.origin)}${options.path}`)
    return super.dispatch(options, handler)
  }
}

let f: Fixture
let agent: RecordingAgent
let remote: { url: string; requests: string[]; server: Server } | undefined
afterEach(async () => {
  await f?.close()
  await agent?.close()
  await new Promise<void>((resolve) => (remote ? remote.server.close(() => resolve()) : resolve()))
  remote = undefined
})

async function remoteFile(): Promise<NonNullable<typeof remote>> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'text/csv', etag: '"1"' }).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server }
}

it("the action's requests, the API's and the URL checks, all go through the Runner's dispatcher", async () => {
  f = await fixture()
  remote = await remoteFile()
  agent = new RecordingAgent()
  await f.write('a.csv', 'a')
  const run = await runInProcess(
    {
      'api-url': f.emulator.url,
      'api-key': f.apiKey,
      dataset: f.dataset.id,
      files: 'a.csv',
      resources: `- url: ${remote.url}/data.csv\n  title: Remote`,
      'create-missing': 'true',
    },
    { cwd: f.workspace, dispatcher: agent },
  )
  expect(run.code, run.stdout).toBe(0)
  expect(resourcesOutput(run).map((r) => r.action)).toEqual(['created', 'created'])
  const api = agent.seen.filter((r) => r.includes(f.emulator.url))
  expect(api).toEqual(f.emulator.requests.map((q) => `${q.method} ${f.emulator.url}${q.path}`))
  expect(agent.seen.filter((r) => r.includes(remote?.url ?? '-'))).toEqual(
    remote.requests.map((r) => `${r.split(' ')[0]} ${remote?.url}${r.split(' ')[1]}`),
  )
  expect(remote.requests.length).toBeGreaterThan(0)
  expect(agent.seen).toHaveLength(api.length + remote.requests.length)
  expect(agent.closed).toBe(false) // its owner closes it
})

it("the CLI's requests go through the dispatcher of its Io", async () => {
  f = await fixture()
  agent = new RecordingAgent()
  await f.write('a.csv', 'a')
  const run = await runCli(
    [
      '--api-url',
      f.emulator.url,
      '--dataset',
      f.dataset.id,
      '--files',
      'a.csv',
      '--create-missing',
    ],
    { cwd: f.workspace, env: { DATAGOUV_API_KEY: f.apiKey }, dispatcher: agent },
  )
  expect(run.code, run.stderr).toBe(0)
  expect(f.emulator.requests.length).toBeGreaterThan(0)
  expect(agent.seen).toEqual(
    f.emulator.requests.map((q) => `${q.method} ${f.emulator.url}${q.path}`),
  )
})
