/**
 * Loopback against real udata (the kit of real udata, test/udata/kit.ts: udata's own
 * Flask application, threaded, mongomock as its database): a changed file published by the action
 * on every runtime, and uploaded by `curl -F` as one request, to the same server. Target: the
 * parts phase at most 1.1× curl's request, both as the server's door sees them.
 *
 * The door is a recording HTTP proxy in the bench's process (real udata keeps no timings of its
 * own): it notes when each request arrived and when its answer was sent, and the first bytes of
 * each upload's body, which tell a part (a `partindex` field) from the finalisation and from a
 * single upload. The action and curl go through the same door. Beside the times, where they go:
 * the CPU seconds of the client (the action's process; curl's) and of the server's process
 * (utime + stime of its Python process, every thread, from /proc/<pid>/stat) during each run.
 * The door also reads, as each request arrives and is answered, the server's user and system CPU,
 * the action's process (found by its working directory, the bench's folder) and its own (it runs
 * in the bench's process): what each side spent in the parts phase and in curl's request.
 *
 * Where the server's CPU goes: after the runs, small requests with no body worth the name
 * measure what udata spends on each request whatever its size (the API key's lookup, the user's
 * login, the dataset's lookups, Flask): 1 KiB parts of a throwaway upload, and 1 KiB single uploads
 * into the resource. A chunked upload pays the first once per part, curl's request the second
 * once; the rest of each phase's server CPU is what the bytes cost (multipart parsing, the
 * temporary file, the stored file or part; and for the single upload, the sha1 that the chunked
 * upload only computes in its finalisation).
 *
 * Before each run the stored file is replaced by a tiny one (a single upload through the API),
 * so the action sends the whole file again. The action runs with `file-checks: off` and
 * `diff-max-size: 0`: both read the file before the upload, and their CPU is not the upload's.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { RecordedRequest } from '../../emulator/server.js'
import { kitVersions, startUdata, type RealUdata, type UdataVersion } from '../../test/udata/kit.js'
import { generateFile } from '../generate-file.js'
import {
  curlUpload,
  formatBytes,
  inTurn,
  median,
  rate,
  ratio,
  runMeasured,
  seconds,
  singleUploadSeconds,
  sizeTag,
  sync,
  uploadPhases,
  type Bench,
  type Runtime,
} from './measure.js'
import { table, type Section, type Verdict } from './report.js'

/** Where a run's time went: seconds of wall and CPU. */
interface Run {
  parts: number
  final: number
  count: number
  wall: number
  clientCpu: number
  serverCpu: number
  /** The server's CPU from the first part's arrival to the last part's answer. */
  partsCpu: number
  /** Each side's CPU over the same time (the server's, split in user and system). */
  partsSides: CpuSample
  rss: number
}

interface CurlRun {
  server: number
  wall: number
  clientCpu: number
  serverCpu: number
  /** The server's CPU from the request's arrival to its answer. */
  uploadCpu: number
  uploadSides: CpuSample
}

/** CPU seconds, at an instant or over a span. */
interface CpuSample {
  serverUser: number
  serverSystem: number
  /** The action's process; NaN when none runs (curl's turn). */
  clientUser: number
  clientSystem: number
  /** The bench's own process, where the door runs. */
  door: number
}

/** udata's CPU per request whatever its size (`perRequestCpu`). */
interface FixedCost {
  /** A 1 KiB part: what each part of a chunked upload pays. */
  part: number
  /** A 1 KiB single upload into the resource: what curl's request pays once. */
  single: number
}

export async function realUdata(
  bench: Bench,
  size: number,
  versionName: UdataVersion['name'],
  storage: string,
): Promise<Section> {
  const version = kitVersions().find((v) => v.name === versionName)
  if (version === undefined)
    throw new Error(
      `real udata ${versionName}: the kit is not there (test/udata/kit.ts says where it looks; REALUDATA_KIT)`,
    )
  bench.log(`real udata ${versionName}: starting`)
  const udata = await startUdata(version, 120_000, storage)
  const door = await recordingProxy(udata.url, () => cpuNow(udata, bench.work))
  const name = `real-${sizeTag(size)}.csv`
  const file = path.join(bench.work, name)
  const action: Record<string, Run[]> = {}
  const curl: CurlRun[] = []
  try {
    const dataset = await udata.api.createDataset(udata.seed.org_id)
    const resource = await udata.api.addFile(dataset.id, name, 'old\n', 'Bench')
    const uploadPath = `/api/1/datasets/${dataset.id}/resources/${resource.id}/upload/`
    bench.log(`real udata ${versionName}, ${formatBytes(size)}: writing ${file}`)
    const sha1 = await generateFile(file, size)
    // udata refuses (500) a second file of one name stored within the same second: every store
    // here waits for the clock's next second, before and after.
    const nextSecond = (): Promise<unknown> =>
      new Promise((resolve) => setTimeout(resolve, 1050 - (Date.now() % 1000)))
    const markChanged = async (): Promise<void> => {
      await nextSecond()
      const form = new FormData()
      form.append('file', new Blob(['old\n']), name)
      const answer = await fetch(`${udata.url}${uploadPath}`, {
        method: 'POST',
        headers: { 'x-api-key': udata.seed.api_key },
        body: form,
      })
      if (answer.status !== 200)
        throw new Error(`replacing the stored file answered ${answer.status}`)
      await nextSecond()
    }
    const verify = async (what: string): Promise<void> => {
      const stored = (await udata.api.dataset(dataset.id)).resources.find(
        (r) => r.id === resource.id,
      )
      if (stored?.checksum?.value !== sha1 || stored.filesize !== size)
        throw new Error(`${what} did not store ${name} in real udata ${versionName}`)
    }
    // The upload alone: the file checks and the data diff read the file before any part leaves,
    // and would count in the client's CPU (the unchanged and loopback scenarios keep them).
    const inputs = {
      'file-checks': 'off',
      'diff-max-size': '0',
      ...bench.extraInputs,
      'api-url': door.url,
      'api-key': udata.seed.api_key,
      dataset: dataset.id,
      files: name,
    }
    for (let i = 0; i < bench.runs; i++) {
      for (const runtime of inTurn(bench.runtimes, i)) {
        await markChanged()
        await sync()
        door.records.length = 0
        const cpuBefore = cpuSeconds(udata)
        const measured = await runMeasured(runtime, inputs, { cwd: bench.work })
        const serverCpu = cpuSeconds(udata) - cpuBefore
        await verify(`the action on ${runtime.label}`)
        const phases = uploadPhases(door.records)
        const partsSides = door.cpuDuring((r) => r.fields?.partindex !== undefined)
        const run: Run = {
          parts: phases.partsSeconds,
          final: phases.finalSeconds,
          count: phases.parts,
          wall: measured.seconds,
          clientCpu: measured.cpu,
          serverCpu,
          partsCpu: serverCpuOf(partsSides),
          partsSides,
          rss: measured.rss,
        }
        ;(action[runtime.label] ??= []).push(run)
        bench.log(
          `  run ${i + 1}/${bench.runs} ${runtime.label}: wall ${seconds(run.wall)}, parts ${seconds(run.parts)} (${run.count}), finalisation ${seconds(run.final)}, CPU action ${seconds(run.clientCpu)} / server ${seconds(serverCpu)} (parts phase ${seconds(run.partsCpu)}; action ${seconds(clientCpuOf(run.partsSides))}, door ${seconds(run.partsSides.door)})`,
        )
      }
      await markChanged()
      await sync()
      door.records.length = 0
      const cpuBefore = cpuSeconds(udata)
      const c = await curlUpload(`${door.url}${uploadPath}`, udata.seed.api_key, file)
      const serverCpu = cpuSeconds(udata) - cpuBefore
      await verify('curl')
      const uploadSides = door.cpuDuring((r) => r.method === 'POST')
      curl.push({
        server: singleUploadSeconds(door.records),
        wall: c.seconds,
        clientCpu: c.cpu,
        serverCpu,
        uploadCpu: serverCpuOf(uploadSides),
        uploadSides,
      })
      bench.log(
        `  run ${i + 1}/${bench.runs} curl -F: wall ${seconds(c.seconds)}, at the server ${seconds(curl.at(-1)?.server ?? Number.NaN)}, CPU curl ${seconds(c.cpu)} / server ${seconds(serverCpu)} (its request ${seconds(serverCpuOf(uploadSides))}; door ${seconds(uploadSides.door)})`,
      )
    }
    const fixed = await perRequestCpu(udata, dataset.id, uploadPath)
    bench.log(
      `  udata's CPU per request with a 1 KiB body: ${ms(fixed.part)} a part, ${ms(fixed.single)} a single upload`,
    )
    return report(bench, size, versionName, action, curl, fixed)
  } finally {
    await door.close()
    await udata.close()
    await rm(file, { force: true })
  }
}

/**
 * What udata spends on a request whatever its size: the server's CPU over requests with a 1 KiB
 * body sent one at a time straight to it, divided by their number (the kernel counts CPU in ticks
 * of 10 ms, so a batch, not each request): parts of one throwaway upload (never finalised), then
 * single uploads into the resource under names of their own (one name stored twice within a
 * second is refused, docs/udata-protocol.md §3.2 step 5).
 */
async function perRequestCpu(
  udata: RealUdata,
  datasetId: string,
  uploadPath: string,
): Promise<FixedCost> {
  const count = 30
  const body = new Blob([Buffer.alloc(1024, 'x')])
  const batch = async (form: (i: number) => FormData): Promise<number> => {
    const before = serverCpuOf(cpuNow(udata))
    for (let i = 0; i < count; i++) {
      const answer = await fetch(`${udata.url}${uploadPath}`, {
        method: 'POST',
        headers: { 'x-api-key': udata.seed.api_key },
        body: form(i),
      })
      await answer.arrayBuffer()
      if (answer.status !== 200)
        throw new Error(`a 1 KiB upload to dataset ${datasetId} answered ${answer.status}`)
    }
    return (serverCpuOf(cpuNow(udata)) - before) / count
  }
  const uuid = randomUUID()
  const part = await batch((i) => {
    const form = new FormData()
    for (const [field, value] of Object.entries({
      uuid,
      filename: 'fixed.csv',
      partindex: String(i),
      partbyteoffset: String(i * 1024),
      totalparts: String(count),
      chunksize: '1024',
    }))
      form.append(field, value)
    form.append('file', body, 'blob')
    return form
  })
  const single = await batch((i) => {
    const form = new FormData()
    form.append('file', body, `fixed-${i}.csv`)
    return form
  })
  return { part, single }
}

function report(
  bench: Bench,
  size: number,
  versionName: string,
  action: Record<string, Run[]>,
  curl: readonly CurlRun[],
  fixed: FixedCost,
): Section {
  const curlServer = median(curl.map((c) => c.server))
  const pick = (label: string, key: Exclude<keyof Run, 'partsSides'>): number =>
    median((action[label] ?? []).map((r) => r[key]))
  const pickSide = (label: string, key: keyof CpuSample): number =>
    median((action[label] ?? []).map((r) => r.partsSides[key]))
  const curlSide = (key: keyof CpuSample): number => median(curl.map((c) => c.uploadSides[key]))
  const curlCells = `${seconds(median(curl.map((c) => c.wall)))} / ${seconds(curlServer)}`
  const curlCpu = `${seconds(median(curl.map((c) => c.clientCpu)))} / ${seconds(median(curl.map((c) => c.serverCpu)))}`
  const curlUploadCpu = median(curl.map((c) => c.uploadCpu))
  const rows = bench.runtimes.map((r) => [
    r.label,
    String(pick(r.label, 'count')),
    seconds(pick(r.label, 'wall')),
    seconds(pick(r.label, 'parts')),
    seconds(pick(r.label, 'final')),
    `${seconds(pick(r.label, 'clientCpu'))} / ${seconds(pick(r.label, 'serverCpu'))}`,
    seconds(pick(r.label, 'partsCpu')),
    curlCells,
    curlCpu,
    seconds(curlUploadCpu),
    ratio(pick(r.label, 'parts') / curlServer),
    rate(size, pick(r.label, 'parts')),
    (action[r.label] ?? []).map((x) => formatBytes(x.rss)).join(', '),
  ])
  const body = [
    `${formatBytes(size)} to real udata ${versionName} (Flask's threaded server, mongomock), through a recording door in the bench's process. CPU seconds are those of each whole run: the client's process, and the server's process over the same time (the action's run includes its reads of the dataset and its finalisation; curl's is one request); the server's CPU in the parts phase and in curl's request is read at the door as the first request arrives and the last is answered.`,
    table(
      [
        'Runtime',
        'Parts',
        'Action: wall',
        'parts phase',
        'finalisation',
        'CPU: action / server',
        'server CPU in the parts phase',
        'curl -F: wall / at the server',
        'CPU: curl / server',
        'server CPU in its request',
        'Parts phase ÷ curl',
        'Parts rate',
        'Peak RSS, each run',
      ],
      rows,
    ),
    `Where the CPU goes, in the parts phase and in curl's request (medians): the server's user and system CPU; of it, what udata spends on each request whatever its size (measured after the runs with 1 KiB bodies: ${ms(fixed.part)} a part, ${ms(fixed.single)} a single upload) and what is left for the bytes; the client's process (curl's: its whole run) and the door's, over the same time.`,
    table(
      [
        'In',
        'Requests',
        'Wall at the door',
        'Server CPU: user / system',
        'of which per request',
        'for the bytes',
        'Client CPU: user / system',
        'Door CPU',
      ],
      [
        ...bench.runtimes.map((r) => {
          const count = pick(r.label, 'count')
          return [
            `${r.label}: parts`,
            String(count),
            seconds(pick(r.label, 'parts')),
            `${seconds(pickSide(r.label, 'serverUser'))} / ${seconds(pickSide(r.label, 'serverSystem'))}`,
            `${count} × ${ms(fixed.part)} = ${seconds(count * fixed.part)}`,
            seconds(pick(r.label, 'partsCpu') - count * fixed.part),
            `${seconds(pickSide(r.label, 'clientUser'))} / ${seconds(pickSide(r.label, 'clientSystem'))}`,
            seconds(pickSide(r.label, 'door')),
          ]
        }),
        [
          'curl -F',
          '1',
          seconds(curlServer),
          `${seconds(curlSide('serverUser'))} / ${seconds(curlSide('serverSystem'))}`,
          ms(fixed.single),
          seconds(curlUploadCpu - fixed.single),
          `${seconds(median(curl.map((c) => c.clientCpu)))} (whole run)`,
          seconds(curlSide('door')),
        ],
      ],
    ),
  ].join('\n\n')
  const results: Record<string, Verdict> = Object.fromEntries(
    bench.runtimes.map((r: Runtime) => {
      const value = pick(r.label, 'parts') / curlServer
      return [
        r.label,
        {
          value: `${ratio(value)} (${seconds(pick(r.label, 'parts'))} vs ${seconds(curlServer)}); server CPU ${seconds(pick(r.label, 'partsCpu'))} in the parts (${pick(r.label, 'count')} × ${ms(fixed.part)} of it per request, whatever its size) vs ${seconds(curlUploadCpu)} in curl's request; action's CPU ${seconds(median((action[r.label] ?? []).map((x) => clientCpuOf(x.partsSides))))} in the parts; whole runs: action ${seconds(pick(r.label, 'clientCpu'))} and server ${seconds(pick(r.label, 'serverCpu'))}, curl ${curlCpu.replace(' / ', ' and server ')}`,
          met: value <= 1.1,
        },
      ]
    }),
  )
  return {
    id: 'real-udata',
    title: `Loopback against real udata ${versionName}: action vs curl -F`,
    body,
    targets: [
      {
        name: `Real udata ${versionName}, ${formatBytes(size)}: parts phase ÷ curl -F (both at the server's door); CPU client, server`,
        limit: '≤ 1.1×',
        results,
      },
    ],
  }
}

const ms = (s: number): string => (Number.isNaN(s) ? 'n/a' : `${(s * 1000).toFixed(1)} ms`)

/** utime + stime of the server's process (every thread), in seconds. */
function cpuSeconds(udata: RealUdata): number {
  return udata.pid === undefined ? Number.NaN : processCpu(udata.pid).total
}

/** utime and stime of a process (every thread, the ended ones included), in seconds. */
function processCpu(pid: number): { user: number; system: number; total: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const user = Number(fields[11]) / clockTicks()
  const system = Number(fields[12]) / clockTicks()
  return { user, system, total: user + system }
}

/** Each side's CPU now: the server's, the action's if it runs in `work`, the door's. */
function cpuNow(udata: RealUdata, work?: string): CpuSample {
  const server =
    udata.pid === undefined ? { user: Number.NaN, system: Number.NaN } : processCpu(udata.pid)
  const own = process.cpuUsage()
  return {
    serverUser: server.user,
    serverSystem: server.system,
    ...(work === undefined
      ? { clientUser: Number.NaN, clientSystem: Number.NaN }
      : clientCpu(work)),
    door: (own.user + own.system) / 1e6,
  }
}

const serverCpuOf = (sample: CpuSample): number => sample.serverUser + sample.serverSystem
const clientCpuOf = (sample: CpuSample): number => sample.clientUser + sample.clientSystem

/** The action's process: the one working in the bench's folder (curl works elsewhere). */
let client: number | undefined
function clientCpu(work: string): { clientUser: number; clientSystem: number } {
  const none = { clientUser: Number.NaN, clientSystem: Number.NaN }
  const worksIn = (pid: number): boolean => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === work
    } catch {
      return false
    }
  }
  if (client === undefined || !worksIn(client))
    client = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .find((pid) => pid !== process.pid && worksIn(pid))
  if (client === undefined) return none
  try {
    const { user, system } = processCpu(client)
    return { clientUser: user, clientSystem: system }
  } catch {
    return none
  }
}

let ticks: number | undefined
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  return ticks
}

interface Door {
  url: string
  /** What the server saw, as the emulator records it: arrival, answer, body bytes, upload fields. */
  records: RecordedRequest[]
  /** Each side's CPU seconds from the first arrival to the last answer of the requests chosen. */
  cpuDuring(which: (record: RecordedRequest) => boolean): CpuSample
  close(): Promise<void>
}

/**
 * An HTTP proxy to `target` that records each request. The Host header is the target's (udata
 * answers only its SERVER_NAME). An upload's form fields are read from the first bytes of its body:
 * `uuid` and `partindex` (a part), `uuid` alone (the finalisation), none (a single upload).
 */
async function recordingProxy(target: string, cpu: () => CpuSample): Promise<Door> {
  const to = new URL(target)
  const records: RecordedRequest[] = []
  /** Each side's CPU seconds at each request's arrival and answer. */
  const cpuAt = new Map<RecordedRequest, { start: CpuSample; end?: CpuSample }>()
  const server: Server = createServer((req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: {},
      status: 0,
      bodyBytes: 0,
      startedAt: Date.now(),
    }
    records.push(record)
    cpuAt.set(record, { start: cpu() })
    let head = ''
    req.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length
      if (head.length < 4096) head += chunk.subarray(0, 4096).toString('latin1')
    })
    req.on('end', () => {
      const fields: Record<string, string> = {}
      for (const match of head.matchAll(/name="(uuid|partindex)"\r\n\r\n([^\r]*)\r\n/g))
        fields[match[1] as string] = match[2] as string
      if (Object.keys(fields).length > 0) record.fields = fields
    })
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (answer: IncomingMessage) => {
        record.status = answer.statusCode ?? 0
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.on('error', () => upstream.destroy())
    const answered = (): void => {
      record.finishedAt = Date.now()
      const at = cpuAt.get(record)
      if (at !== undefined) at.end = cpu()
    }
    res.on('close', () => record.finishedAt === undefined && answered())
    res.on('finish', answered)
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    cpuDuring(which) {
      const chosen = records.filter(which)
      // CPU counters only grow: the earliest of the starts and the latest of the ends bound the span.
      const span = (key: keyof CpuSample): number =>
        chosen.length === 0
          ? Number.NaN
          : Math.max(...chosen.map((r) => cpuAt.get(r)?.end?.[key] ?? Number.NaN)) -
            Math.min(...chosen.map((r) => cpuAt.get(r)?.start[key] ?? Number.NaN))
      return {
        serverUser: span('serverUser'),
        serverSystem: span('serverSystem'),
        clientUser: span('clientUser'),
        clientSystem: span('clientSystem'),
        door: span('door'),
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
