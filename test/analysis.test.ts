/**
 * `wait-for-analysis`, through the action against the emulator's simulated analyser
 * (hydra): availability, detected format, parsing into a table or its error, per resource in the
 * summary and the `analysis` output; a timeout is a warning.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

let f: Fixture
let remote: http.Server | undefined
afterEach(async () => {
  await f?.close()
  await new Promise((resolve) => (remote ? remote.close(resolve) : resolve(undefined)))
  remote = undefined
})

interface Analysis {
  id: string
  source: string
  state: string
  available: boolean | null
  status: number | null
  format: string | null
  mime: string | null
  parsing: string
  parsing_error: string | null
  preview: string | null
}

async function serveRemote(): Promise<string> {
  remote = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"', 'content-length': '2' })
    res.end(req.method === 'HEAD' ? undefined : '{}')
  })
  await new Promise<void>((resolve) => remote?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(remote.address() as AddressInfo).port}/api/data.json`
}

describe('wait-for-analysis', () => {
  it('waits for the analysis of what was published and reports it per resource', async () => {
    f = await fixture()
    const url = await serveRemote()
    await f.write('good.csv', 'a,b\n1,2\n')
    await f.write('bad.csv', 'a;b\n"unclosed\n')
    f.emulator.analyser.configure({
      delayMs: 300,
      parsingDelayMs: 300,
      outcome: 'success',
      rules: [
        {
          url: 'bad\\.csv$',
          outcome: { result: 'parsing-error', error: 'csv_detective: unclosed quote' },
        },
        { url: 'data\\.json$', outcome: { result: 'unavailable', status: 503 } },
      ],
    })
    const resources = `- good.csv\n- bad.csv\n- {url: '${url}', title: API}`

    const run = await f.run({ resources, 'create-missing': 'true', 'wait-for-analysis': '30s' })

    expect(run.code, run.stdout).toBe(0)
    const analysis = JSON.parse(run.outputs.analysis ?? '[]') as Analysis[]
    const bySource = Object.fromEntries(analysis.map((a) => [a.source, a]))
    expect(bySource['good.csv']).toMatchObject({
      state: 'analysed',
      available: true,
      status: 200,
      format: 'csv',
      parsing: 'ok',
      parsing_error: null,
    })
    expect(bySource['bad.csv']).toMatchObject({
      state: 'analysed',
      parsing: 'error',
      parsing_error: 'csv_detective: unclosed quote',
    })
    expect(bySource[url]).toMatchObject({ state: 'analysed', available: false, status: 503 })
    expect(run.summary).toContain('#### What data.gouv.fr made of it')
    expect(run.summary).toContain('error: csv_detective: unclosed quote')
    expect(run.stdout).toContain("up to 30 s for data.gouv.fr's analysis")
    expect(resourcesOutput(run).map((r) => r.action)).toEqual(['created', 'created', 'created'])
  })

  it('a timeout is a warning: the run succeeds and says what is pending', async () => {
    f = await fixture()
    await f.write('slow.csv', 'a\n1\n')
    // An analysis that takes ten minutes: a run that waited for it would outlast the test.
    f.emulator.analyser.configure({ delayMs: 600_000 })
    const run = await f.run({
      files: 'slow.csv',
      'create-missing': 'true',
      'wait-for-analysis': '3s',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/::warning::wait-for-analysis: 1 resource not analysed after 3 s/)
    expect(JSON.parse(run.outputs.analysis ?? '[]')).toMatchObject([
      { source: 'slow.csv', state: 'pending', parsing: 'pending' },
    ])
  })

  it('off by default and in dry-run: nothing is waited for', async () => {
    f = await fixture()
    await f.write('x.csv', 'x')
    f.emulator.analyser.configure({ delayMs: 20_000 })
    const run = await f.run({ files: 'x.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.analysis).toBe('[]')
  })
})
