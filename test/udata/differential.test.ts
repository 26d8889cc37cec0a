/**
 * The emulator against real udata v17: the same raw HTTP requests sent to both, the answers and the
 * datasets' states compared field by field after each step.
 *
 * Both servers are seeded with the same shapes (the kit's seed: a user with a key, an organization
 * he administers, a dataset of it with two files and a remote resource, a second user with a
 * dataset of his own); each scenario then creates a dataset of its own, on both sides, through the
 * API. Requests name what they touch by label (`{ds}`, `{csv}`): each side maps labels to its own
 * ids, and the answers map ids back to labels before they are compared.
 *
 * What is not compared is the short list in `IGNORED` below: ids (replaced by their labels),
 * server-clock dates, the origin, the storage root and the upload timestamp folder in URLs, web
 * page URLs, and the help flask-restx appends to 404 messages.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startEmulator, type Emulator } from '../../emulator/server.js'
import { kitVersions, startUdata, type RealUdata } from './kit.js'

type Json = unknown

/** What is left out of the comparison, and why. Keep it small: every entry hides a possible bug. */
const IGNORED = {
  /** Dates of the server's clock (set when a request ran): compared as "a date" or null. */
  serverDates: new Set([
    'created_at',
    'last_modified',
    'last_update',
    'created_at_internal',
    'last_modified_internal',
    'deleted',
    'since',
    'last_login_at',
  ]),
  /** Web page URLs: the kit has no front-end (`CDATA_BASE_URL` unset), so udata answers null. */
  keys: new Set(['page']),
  /**
   * An organization's `metrics.members`: udata counts members in a job its API runs when a
   * member joins, which the kit's seed (members written directly) never ran, so it says 0.
   */
  organizationMembersMetric: 'metrics.members',
  /**
   * flask-restx appends to a 404 message `You have requested this URI [...] but did you mean ... ?`,
   * close matches (difflib) over udata's whole URL map: the text before it is compared.
   */
  notFoundHelp: / You have requested this URI \[.*$/s,
  /** Stored files: `<origin>/resources/` (the kit) or `/static/` (the emulator), then `<slug>/<YYYYMMDD-HHMMSS>/`. */
  storageRoot: /\/(?:resources|static)\//,
  stamp: /\/\d{8}-\d{6}(?:-\d+)?\//g,
}

const ANY_UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const ANY_OID = /\b[0-9a-f]{24}\b/gi

interface Side {
  name: 'udata' | 'emulator'
  origin: string
  key: string
  otherKey: string
  /** label → id */
  ids: Map<string, string>
}

interface FormSpec {
  fields?: Array<[string, string]>
  file?: { name: string; content: string }
}

interface Req {
  method: string
  /** With `{label}` placeholders. */
  path: string
  /** A JSON body; strings `{label}` anywhere in it are replaced by the side's id. */
  json?: Json
  /** A raw body sent as JSON (not re-serialised). */
  raw?: string
  form?: FormSpec
  /** Default `main` (the seeded user's key). */
  key?: 'main' | 'other' | 'bad' | 'none'
}

interface Answer {
  status: number
  location: string | null
  body: Json
}

function fill(side: Side, text: string): string {
  return text.replace(/\{([a-z0-9-]+)\}/g, (_m, label: string) => {
    const id = side.ids.get(label)
    if (id === undefined) throw new Error(`${side.name}: no id for {${label}}`)
    return id
  })
}

function fillJson(side: Side, value: Json): Json {
  if (typeof value === 'string') return /^\{[a-z0-9-]+\}$/.test(value) ? fill(side, value) : value
  if (Array.isArray(value)) return value.map((item) => fillJson(side, item))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(side, v)]))
  return value
}

async function send(side: Side, req: Req): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const key = req.key ?? 'main'
  if (key === 'main') headers['x-api-key'] = side.key
  if (key === 'other') headers['x-api-key'] = side.otherKey
  if (key === 'bad') headers['x-api-key'] = 'not-a-key-0123456789'
  let body: string | FormData | undefined
  if (req.json !== undefined || req.raw !== undefined) {
    headers['content-type'] = 'application/json'
    body = req.raw ?? JSON.stringify(fillJson(side, req.json))
  } else if (req.form !== undefined) {
    const form = new FormData()
    for (const [name, value] of req.form.fields ?? []) form.append(name, value)
    if (req.form.file !== undefined)
      form.append('file', new Blob([req.form.file.content]), req.form.file.name)
    body = form
  }
  const response = await fetch(new URL(fill(side, req.path), side.origin), {
    method: req.method,
    headers,
    redirect: 'manual',
    ...(body !== undefined ? { body } : {}),
  })
  const text = await response.text()
  let parsed: Json = text
  try {
    parsed = text === '' ? null : (JSON.parse(text) as Json)
  } catch {
    // not JSON: compared as text
  }
  return { status: response.status, location: response.headers.get('location'), body: parsed }
}

/** A side's answer with its ids, origin, clock and storage layout replaced by stable names. */
function normalize(side: Side, value: Json, key?: string): Json {
  if (Array.isArray(value)) return value.map((item) => normalize(side, item))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {}
    for (const [k, v] of Object.entries(value)) {
      if (IGNORED.keys.has(k)) continue
      out[k] = normalize(side, v, k)
    }
    return out
  }
  if (typeof value !== 'string') return value
  if (key !== undefined && IGNORED.serverDates.has(key) && !Number.isNaN(Date.parse(value)))
    return '<date>'
  return normalizeText(side, value)
}

function normalizeText(side: Side, text: string): string {
  let out = text.replace(IGNORED.notFoundHelp, '')
  const storage = new RegExp(`${escape(side.origin)}${IGNORED.storageRoot.source}`, 'g')
  if (storage.test(out))
    out = out.replace(storage, '<storage>/').replace(IGNORED.stamp, '/<stamp>/')
  out = out.split(side.origin).join('<origin>')
  const ids = [...side.ids.entries()].sort((a, b) => b[1].length - a[1].length)
  for (const [label, id] of ids) out = out.split(id).join(`<${label}>`)
  return out.replace(ANY_UUID, '<uuid>').replace(ANY_OID, '<oid>')
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Field-by-field differences, each as `path: udata … / emulator …`; `count` receives the leaves compared. */
function differences(a: Json, b: Json, path: string, out: string[], count: { n: number }): void {
  const show = (v: Json): string => (v === undefined ? '(absent)' : JSON.stringify(v))
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: udata ${a.length} items / emulator ${b.length}`)
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      differences(a[i], b[i], `${path}[${i}]`, out, count)
    return
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      differences(a[k], b[k], `${path}.${k}`, out, count)
    return
  }
  count.n++
  if (JSON.stringify(a) !== JSON.stringify(b))
    out.push(`${path}: udata ${show(a)} / emulator ${show(b)}`)
}

/** Remove a dotted path from a JSON value (a copy is not needed: answers are compared once). */
function omitPath(value: Json, path: string): void {
  const keys = path.split('.')
  const last = keys.pop() as string
  let node = value
  for (const key of keys) node = isObject(node) ? node[key] : undefined
  if (isObject(node)) delete node[last]
}

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The figures the suite prints at the end. */
const figures = { steps: 0, answers: 0, states: 0, fields: { n: 0 }, requests: 0 }

/** One scenario: its steps sent to both sides, their differences collected. */
class Scenario {
  readonly diffs: string[] = []

  constructor(readonly sides: readonly [Side, Side]) {}

  /** Send `req` to both; register the answer's `id` as `register`; compare; then the dataset `state`. */
  async step(
    name: string,
    req: Req,
    opts: { register?: string; state?: string; omit?: string } = {},
  ): Promise<[Answer, Answer]> {
    const answers = (await Promise.all(this.sides.map((s) => send(s, req)))) as [Answer, Answer]
    if (opts.omit !== undefined) for (const a of answers) omitPath(a.body, opts.omit)
    figures.steps++
    figures.requests += 2
    if (opts.register !== undefined) {
      for (const [i, side] of this.sides.entries()) {
        const id = (answers[i]?.body as { id?: unknown } | null)?.id
        if (typeof id === 'string') side.ids.set(opts.register, id)
      }
    }
    this.compare(name, answers)
    if (opts.state !== undefined) await this.state(`${name} → state`, opts.state)
    return answers
  }

  /** GET the dataset on both sides and compare the states. */
  async state(name: string, label: string): Promise<void> {
    const answers = (await Promise.all(
      this.sides.map((s) => send(s, { method: 'GET', path: `/api/1/datasets/{${label}}/` })),
    )) as [Answer, Answer]
    figures.states++
    figures.requests += 2
    this.compare(name, answers)
  }

  private compare(name: string, [real, emu]: [Answer, Answer]): void {
    figures.answers++
    const [a, b] = this.sides
    const out: string[] = []
    if (real.status !== emu.status)
      out.push(`status: udata ${real.status} / emulator ${emu.status}`)
    const la =
      real.location === null ? null : normalizeText(a, new URL(real.location, a.origin).href)
    const lb = emu.location === null ? null : normalizeText(b, new URL(emu.location, b.origin).href)
    if (la !== lb) out.push(`location: udata ${la} / emulator ${lb}`)
    differences(normalize(a, real.body), normalize(b, emu.body), 'body', out, figures.fields)
    for (const line of out) this.diffs.push(`${name}: ${line}`)
  }

  /** A new dataset of the seeded organization on both sides, registered as `label`. */
  async dataset(label: string, fields: Record<string, Json> = {}): Promise<void> {
    const title = `Differential ${label} ${RUN}`
    await this.step(
      `create ${label}`,
      {
        method: 'POST',
        path: '/api/1/datasets/',
        json: {
          title,
          description: 'A dataset of the differential test',
          organization: '{org}',
          ...fields,
        },
      },
      { register: label },
    )
  }

  /** A single upload creating a resource of `ds`, registered as `label`. */
  async upload(ds: string, label: string, name: string, content: string): Promise<void> {
    await this.step(
      `upload ${name} as a new resource`,
      {
        method: 'POST',
        path: `/api/1/datasets/{${ds}}/upload/`,
        form: { file: { name, content } },
      },
      { register: label },
    )
  }
}

const RUN = Math.random().toString(36).slice(2, 8)

/** The editable dataset fields, set to values other than their defaults. */
const FULL_STATE: Record<string, Json> = {
  acronym: 'ACR',
  description_short: 'A short description',
  license: 'lov2',
  frequency: 'monthly',
  frequency_date: '2030-01-02T03:04:05',
  temporal_coverage: { start: '2020-01-01', end: '2021-12-31' },
  spatial: { granularity: 'other', zones: [] },
  tags: ['alpha', 'beta'],
  private: true,
  extras: { 'custom-key': 'value', n: 1 },
  access_type: 'open',
  authorization_request_url: 'https://example.org/ask',
  access_type_reason: 'a reason',
  access_type_reason_category: 'intellectual_property_rights',
}

const v17 = kitVersions().find((v) => v.name === 'v17')

describe.skipIf(v17 === undefined)('differential: the emulator against real udata v17', () => {
  let udata: RealUdata
  let emu: Emulator
  let sides: [Side, Side]
  const started = Date.now()

  beforeAll(async () => {
    ;[udata, emu] = await Promise.all([startUdata(v17!), startEmulator()])
    const seed = udata.seed
    const otherKey = seed.other_api_key as string
    const user = emu.addUser({
      apiKey: seed.api_key,
      firstName: 'Pub',
      lastName: 'Lisher',
      email: 'publisher@example.org',
    })
    const other = emu.addUser({
      apiKey: otherKey,
      firstName: 'Other',
      lastName: 'Owner',
      email: 'other@example.org',
    })
    const org = emu.addOrganization({
      name: 'Real udata test org',
      description: 'Seeded org',
      members: [{ user: user.id, role: 'admin' }],
    })
    const ds = emu.addDataset({
      organization: org.id,
      title: 'Real udata test dataset',
      description: 'Seeded dataset',
      resources: [
        { url: 'https://example.org/remote.csv', title: 'Remote thing', format: 'csv' },
        { filename: 'other.json', content: '{"k": 1}\n', title: 'other.json' },
        { filename: 'data.csv', content: 'a,b\n1,2\n', title: 'data.csv' },
      ],
    })
    const foreign = emu.addDataset({
      owner: other.id,
      title: 'Foreign dataset',
      description: 'Owned by another user',
      resources: [{ filename: 'foreign.csv', content: 'f\n1\n', title: 'foreign.csv' }],
    })
    const [remote, json, csv] = ds.resources.map((r) => r.id)
    sides = [
      {
        name: 'udata',
        origin: udata.url,
        key: seed.api_key,
        otherKey,
        ids: new Map([
          ['user', seed.user_id],
          ['other', seed.other_user_id as string],
          ['org', seed.org_id],
          ['seed', seed.dataset_id],
          ['seed-csv', seed.resource_csv],
          ['seed-json', seed.resource_json],
          ['seed-remote', seed.resource_remote],
          ['foreign', seed.foreign_dataset_id],
        ]),
      },
      {
        name: 'emulator',
        origin: emu.url,
        key: seed.api_key,
        otherKey,
        ids: new Map([
          ['user', user.id],
          ['other', other.id],
          ['org', org.id],
          ['seed', ds.id],
          ['seed-csv', csv as string],
          ['seed-json', json as string],
          ['seed-remote', remote as string],
          ['foreign', foreign.id],
        ]),
      },
    ]
  })

  afterAll(async () => {
    await Promise.all([udata?.close(), emu?.close()])
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    console.log(
      `differential: ${figures.steps} steps (${figures.requests} requests, ${figures.answers} answers ` +
        `compared, ${figures.states} of them dataset states), ${figures.fields.n} fields compared, ${seconds} s`,
    )
  })

  const scenario = (): Scenario => new Scenario(sides)

  it('reads the seeded dataset alike', async () => {
    const s = scenario()
    await s.state('GET seeded dataset', 'seed')
    await s.step('GET me', { method: 'GET', path: '/api/1/me/' })
    await s.step(
      'GET the organization',
      { method: 'GET', path: '/api/1/organizations/{org}/' },
      { omit: IGNORED.organizationMembersMetric },
    )
    await s.step('GET frequencies', { method: 'GET', path: '/api/1/datasets/frequencies/' })
    await s.step('GET resource types', { method: 'GET', path: '/api/1/datasets/resource_types/' })
    await s.step('GET seeded resource', {
      method: 'GET',
      path: '/api/1/datasets/{seed}/resources/{seed-csv}/',
    })
    expect(s.diffs).toEqual([])
  })

  // One dataset per field: each field absent, null, then empty, after the full state was set.
  it.each(Object.keys(FULL_STATE))('dataset PUT without, with null, with "" %s', async (field) => {
    const s = scenario()
    const ds = `put-${field.replace(/_/g, '-')}`
    await s.dataset(ds)
    for (const mode of ['absent', 'null', 'empty'] as const) {
      await s.step(`${field}: full state`, {
        method: 'PUT',
        path: `/api/1/datasets/{${ds}}/`,
        json: FULL_STATE,
      })
      const body: Record<string, Json> = { description: 'Described again' }
      if (mode === 'null') body[field] = null
      if (mode === 'empty') body[field] = ''
      await s.step(
        `${field} ${mode}`,
        { method: 'PUT', path: `/api/1/datasets/{${ds}}/`, json: body },
        { state: ds },
      )
    }
    expect(s.diffs).toEqual([])
  })

  it('dataset PUT: the GET answer sent back, an empty body, access types, quality', async () => {
    const s = scenario()
    await s.dataset('whole', { tags: ['one', 'two'], frequency: 'daily' })
    await s.step('full state', {
      method: 'PUT',
      path: '/api/1/datasets/{whole}/',
      json: FULL_STATE,
    })
    const [real, emulated] = await s.step('GET', {
      method: 'GET',
      path: '/api/1/datasets/{whole}/',
    })
    // Each side gets its own answer back, as a client that reads then writes the whole object.
    for (const [i, side] of s.sides.entries()) {
      const own = [real, emulated][i]?.body
      await send(side, {
        method: 'PUT',
        path: '/api/1/datasets/{whole}/',
        raw: JSON.stringify(own),
      }).then((a) => expect(a.status, `${side.name}: ${JSON.stringify(a.body)}`).toBe(200))
    }
    await s.state('GET answer sent back', 'whole')
    await s.step(
      'empty body',
      { method: 'PUT', path: '/api/1/datasets/{whole}/', json: {} },
      { state: 'whole' },
    )
    await s.step(
      'restricted access drops the license',
      {
        method: 'PUT',
        path: '/api/1/datasets/{whole}/',
        json: { ...FULL_STATE, access_type: 'restricted' },
      },
      { state: 'whole' },
    )
    await s.step(
      'a long description, a documentation resource',
      {
        method: 'PUT',
        path: '/api/1/datasets/{whole}/',
        json: { ...FULL_STATE, description: 'x'.repeat(150), frequency: 'irregular' },
      },
      { state: 'whole' },
    )
    await s.step(
      'remote resource unavailable',
      {
        method: 'POST',
        path: '/api/1/datasets/{whole}/resources/',
        json: {
          title: 'Docs',
          url: 'https://example.org/docs',
          filetype: 'remote',
          type: 'documentation',
          extras: { 'check:available': false },
        },
      },
      { register: 'whole-docs', state: 'whole' },
    )
    expect(s.diffs).toEqual([])
  })

  it('dataset PUT: tags, licenses, frequencies, dates, titles', async () => {
    const s = scenario()
    await s.dataset('meta')
    const put = (name: string, json: Json): Promise<[Answer, Answer]> =>
      s.step(name, { method: 'PUT', path: '/api/1/datasets/{meta}/', json }, { state: 'meta' })
    await put('tags with spaces and capitals', {
      tags: ['Eau Potable', 'CAPITALES', '  spaced out  ', 'données', 'a_b.c', 'Eau potable'],
    })
    await put('tags as one string', { tags: 'Un, Deux trois,quatre' })
    await put('a tag too short', { tags: ['ok-tag', 'b'] })
    await put('a tag too long', { tags: ['x'.repeat(97)] })
    await put('an unknown license', { license: 'no-such-license' })
    await put('a known license', { license: 'odc-odbl' })
    await put('an unknown frequency', { frequency: 'sometimes' })
    await put('a frequency', { frequency: 'weekly' })
    await put('a date without time', { frequency_date: '2031-05-06' })
    await put('a date with an offset', { frequency_date: '2031-05-06T10:00:00+02:00' })
    await put('not a date', { frequency_date: 'tomorrow' })
    await put('a coverage without end', { temporal_coverage: { start: '2019-02-03' } })
    await put('a coverage as text', { temporal_coverage: '2018-01-01 - 2018-12-31' })
    await put('a coverage without start', { temporal_coverage: { end: '2019-02-03' } })
    await put('a short description too long', { description_short: 'x'.repeat(201) })
    await put('private as a string', { private: 'yes' })
    await put('an empty title', { title: '' })
    await put('a null description', { description: null })
    await put('an empty description', { description: '' })
    await put('extras as a list', { extras: ['a'] })
    await put('a former frequency id', { frequency: 'fourTimesADay' })
    await put('an unknown access type', { access_type: 'nope' })
    await put('an unknown reason category', { access_type_reason_category: 'nope' })
    await put('access audiences', {
      access_audiences: [{ role: 'private', condition: 'yes' }],
    })
    await put('only unknown keys', { no_such_field: 1 })
    await put('a coverage with a number', { temporal_coverage: { start: 5 } })
    await put('a new title', { title: `Renamed ${RUN}` })
    await s.step('the old slug', {
      method: 'GET',
      path: `/api/1/datasets/differential-meta-${RUN}/`,
    })
    expect(s.diffs).toEqual([])
  })

  it('deleted datasets: 410, then restored by a PUT with deleted null', async () => {
    const s = scenario()
    await s.dataset('gone')
    await s.step('delete', { method: 'DELETE', path: '/api/1/datasets/{gone}/' })
    await s.state('GET deleted (its owner)', 'gone')
    await s.step('PUT on a deleted dataset', {
      method: 'PUT',
      path: '/api/1/datasets/{gone}/',
      json: { title: 'x' },
    })
    await s.step('delete again', { method: 'DELETE', path: '/api/1/datasets/{gone}/' })
    await s.step(
      'restore',
      { method: 'PUT', path: '/api/1/datasets/{gone}/', json: { deleted: null } },
      { state: 'gone' },
    )
    expect(s.diffs).toEqual([])
  })

  it('uploads: single, into an existing resource, chunked', async () => {
    const s = scenario()
    await s.dataset('files')
    await s.upload('files', 'files-a', 'Ventes 2024.csv', 'year,n\n2024,1\n')
    await s.state('after the first upload', 'files')
    await s.step(
      'upload into the existing resource',
      {
        method: 'POST',
        path: '/api/1/datasets/{files}/resources/{files-a}/upload/',
        form: { file: { name: 'ventes-v2.csv', content: 'year,n\n2024,1\n2025,2\n' } },
      },
      { state: 'files' },
    )
    await s.step('upload a refused extension', {
      method: 'POST',
      path: '/api/1/datasets/{files}/upload/',
      form: { file: { name: 'script.exe', content: 'MZ' } },
    })
    await s.step('upload without a file', {
      method: 'POST',
      path: '/api/1/datasets/{files}/upload/',
      form: { fields: [['other', 'x']] },
    })
    const content = 'id,value\n' + Array.from({ length: 40 }, (_, i) => `${i},v${i}`).join('\n')
    const parts = [content.slice(0, 100), content.slice(100)]
    for (const [target, label] of [
      ['/api/1/datasets/{files}/upload/', 'files-chunked'],
      ['/api/1/datasets/{files}/resources/{files-a}/upload/', undefined],
    ] as const) {
      const uuid = randomUUID()
      const common: Array<[string, string]> = [
        ['uuid', uuid],
        ['filename', label === undefined ? 'Replaced in parts.csv' : 'Big Table.csv'],
        ['totalparts', '2'],
      ]
      for (const [index, part] of parts.entries()) {
        await s.step(`chunk ${index} of ${target}`, {
          method: 'POST',
          path: target,
          form: {
            fields: [
              ...common,
              ['partindex', String(index)],
              ['partbyteoffset', String(index === 0 ? 0 : 100)],
              ['chunksize', String(part.length)],
            ],
            file: { name: 'blob', content: part },
          },
        })
      }
      await s.step(
        `final request of ${target}`,
        { method: 'POST', path: target, form: { fields: common } },
        { state: 'files', ...(label !== undefined ? { register: label } : {}) },
      )
    }
    await s.step('chunk of the wrong size', {
      method: 'POST',
      path: '/api/1/datasets/{files}/upload/',
      form: {
        fields: [
          ['uuid', randomUUID()],
          ['filename', 'x.csv'],
          ['totalparts', '2'],
          ['partindex', '0'],
          ['partbyteoffset', '0'],
          ['chunksize', '10'],
        ],
        file: { name: 'blob', content: 'abc' },
      },
    })
    expect(s.diffs).toEqual([])
  })

  it('resources: PUT partial, remote creation, extras, reorder, delete', async () => {
    const s = scenario()
    await s.dataset('res')
    await s.upload('res', 'res-file', 'data.csv', 'a,b\n1,2\n')
    await s.step(
      'remote resource',
      {
        method: 'POST',
        path: '/api/1/datasets/{res}/resources/',
        json: {
          title: 'API',
          url: 'https://example.org/api',
          filetype: 'remote',
          format: ' JSON ',
          type: 'api',
        },
      },
      { register: 'res-remote', state: 'res' },
    )
    await s.step('remote resource without filetype', {
      method: 'POST',
      path: '/api/1/datasets/{res}/resources/',
      json: { title: 'Link', url: 'https://example.org/link' },
    })
    await s.step('remote resource without title nor url', {
      method: 'POST',
      path: '/api/1/datasets/{res}/resources/',
      json: { filetype: 'remote' },
    })
    const put = (name: string, rid: string, json: Json): Promise<[Answer, Answer]> =>
      s.step(
        name,
        { method: 'PUT', path: `/api/1/datasets/{res}/resources/{${rid}}/`, json },
        { state: 'res' },
      )
    await put('title only', 'res-file', { title: 'Data file' })
    await put('description and type', 'res-file', {
      description: 'About it',
      type: 'documentation',
    })
    await put('title only again (the rest kept)', 'res-file', { title: 'Data file 2' })
    await put('hosted file fields are protected', 'res-file', {
      url: 'https://example.org/elsewhere.csv',
      checksum: { type: 'sha1', value: 'deadbeef' },
      filesize: 1,
      mime: 'text/plain',
      format: 'txt',
    })
    await put('null description, extras, schema', 'res-file', {
      description: null,
      extras: { k: 'v' },
      schema: { name: 'etalab/schema-irve-statique', version: '2.3.1' },
    })
    await put('remote: new url and format', 'res-remote', {
      url: 'https://example.org/api/v2',
      format: 'XML',
    })
    await put('remote: filetype change', 'res-remote', { filetype: 'file' })
    await put('an empty title', 'res-remote', { title: '' })
    await put('a bad url', 'res-remote', { url: 'not a url' })
    await put('a bad type', 'res-remote', { type: 'nope' })
    await s.step(
      'v2 extras merge on a resource',
      {
        method: 'PUT',
        path: '/api/2/datasets/{res}/resources/{res-file}/extras/',
        json: { 'check:available': true, added: 1, k: null },
      },
      { state: 'res' },
    )
    await s.step(
      'v2 extras merge on the dataset',
      {
        method: 'PUT',
        path: '/api/2/datasets/{res}/extras/',
        json: { a: 1, b: 'two' },
      },
      { state: 'res' },
    )
    await s.step('v2 extras merge with a list', {
      method: 'PUT',
      path: '/api/2/datasets/{res}/extras/',
      json: ['a'],
    })
    await s.step(
      'v2 extras delete on the dataset',
      {
        method: 'DELETE',
        path: '/api/2/datasets/{res}/extras/',
        json: ['a', 'missing'],
      },
      { state: 'res' },
    )
    await s.upload('res', 'res-third', 'third.json', '{"a": 1}\n')
    await s.step(
      'reorder',
      {
        method: 'PUT',
        path: '/api/1/datasets/{res}/resources/',
        json: ['{res-file}', '{res-remote}', '{res-third}'],
      },
      { state: 'res' },
    )
    await s.step('reorder with one missing', {
      method: 'PUT',
      path: '/api/1/datasets/{res}/resources/',
      json: ['{res-file}', '{res-remote}'],
    })
    await s.step(
      'delete a resource',
      {
        method: 'DELETE',
        path: '/api/1/datasets/{res}/resources/{res-third}/',
      },
      { state: 'res' },
    )
    await s.step('the deleted resource', {
      method: 'GET',
      path: '/api/1/datasets/{res}/resources/{res-third}/',
    })
    expect(s.diffs).toEqual([])
  })

  it('community resources: remote creation, upload, reupload, PUT', async () => {
    const s = scenario()
    await s.dataset('com')
    await s.step(
      'remote community resource',
      {
        method: 'POST',
        path: '/api/1/datasets/community_resources/',
        key: 'other',
        json: {
          dataset: '{com}',
          title: 'Derived',
          url: 'https://example.org/derived.csv',
          filetype: 'remote',
        },
      },
      { register: 'com-remote' },
    )
    await s.step(
      'community upload',
      {
        method: 'POST',
        path: '/api/1/datasets/{com}/upload/community/',
        key: 'other',
        form: { file: { name: 'Derived Data.csv', content: 'x\n1\n' } },
      },
      { register: 'com-file' },
    )
    await s.step('community reupload', {
      method: 'POST',
      path: '/api/1/datasets/community_resources/{com-file}/upload/',
      key: 'other',
      form: { file: { name: 'derived-v2.csv', content: 'x\n1\n2\n' } },
    })
    await s.step('community PUT', {
      method: 'PUT',
      path: '/api/1/datasets/community_resources/{com-file}/',
      key: 'other',
      json: { title: 'Derived file', description: 'Made from it' },
    })
    await s.step('community PUT by someone else', {
      method: 'PUT',
      path: '/api/1/datasets/community_resources/{com-file}/',
      json: { title: 'Mine now' },
    })
    await s.step('community GET', {
      method: 'GET',
      path: '/api/1/datasets/community_resources/{com-remote}/',
    })
    await s.step('community without dataset', {
      method: 'POST',
      path: '/api/1/datasets/community_resources/',
      json: { title: 'Orphan', url: 'https://example.org/o.csv', filetype: 'remote' },
    })
    expect(s.diffs).toEqual([])
  })

  it('errors: bad key, another user’s dataset, unknown dataset or resource, bad bodies', async () => {
    const s = scenario()
    await s.step('bad key', {
      method: 'PUT',
      path: '/api/1/datasets/{seed}/',
      key: 'bad',
      json: { title: 'x' },
    })
    await s.step('no key', {
      method: 'PUT',
      path: '/api/1/datasets/{seed}/',
      key: 'none',
      json: { title: 'x' },
    })
    await s.step('another user’s dataset', {
      method: 'PUT',
      path: '/api/1/datasets/{foreign}/',
      json: { title: 'x' },
    })
    await s.step('another user’s upload', {
      method: 'POST',
      path: '/api/1/datasets/{foreign}/upload/',
      form: { file: { name: 'x.csv', content: 'x\n' } },
    })
    await s.step('another user’s extras', {
      method: 'PUT',
      path: '/api/2/datasets/{foreign}/extras/',
      json: { a: 1 },
    })
    await s.step('unknown dataset', {
      method: 'GET',
      path: '/api/1/datasets/no-such-dataset-here/',
    })
    await s.step('unknown dataset PUT', {
      method: 'PUT',
      path: '/api/1/datasets/000000000000000000000000/',
      json: { title: 'x' },
    })
    const missing = '00000000-0000-4000-8000-000000000000'
    await s.step('unknown resource', {
      method: 'GET',
      path: `/api/1/datasets/{seed}/resources/${missing}/`,
    })
    await s.step('unknown resource PUT', {
      method: 'PUT',
      path: `/api/1/datasets/{seed}/resources/${missing}/`,
      json: { title: 'x' },
    })
    await s.step('unknown resource upload', {
      method: 'POST',
      path: `/api/1/datasets/{seed}/resources/${missing}/upload/`,
      form: { file: { name: 'x.csv', content: 'x\n' } },
    })
    await s.step('unknown resource extras', {
      method: 'PUT',
      path: `/api/2/datasets/{seed}/resources/${missing}/extras/`,
      json: { a: 1 },
    })
    await s.step('not JSON', { method: 'PUT', path: '/api/1/datasets/{seed}/', raw: '{"title": ' })
    await s.step('a JSON list', { method: 'PUT', path: '/api/1/datasets/{seed}/', json: ['title'] })
    await s.step('a form body', {
      method: 'PUT',
      path: '/api/1/datasets/{seed}/',
      form: { fields: [['title', 'x']] },
    })
    await s.step('creation without title', {
      method: 'POST',
      path: '/api/1/datasets/',
      json: { description: 'd', organization: '{org}' },
    })
    await s.step('creation as an organization one is not in', {
      method: 'POST',
      path: '/api/1/datasets/',
      key: 'other',
      json: { title: 'x', description: 'd', organization: '{org}' },
    })
    expect(s.diffs).toEqual([])
  })
})
