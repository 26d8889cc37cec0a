/**
 * A far server: the action and `curl -F` publish the same file through the same link-profile proxy
 * (scripts/link-proxy.ts, in its own process so that the emulator's work does not delay its timers)
 * with a one-way delay and a shared rate per direction. The action's upload (its parts, as the
 * server sees them) is compared with curl's one request (as the server sees it); the server's
 * finalisation is excluded and reported. Two profiles:
 * - open: one connection can fill the link; target at most 1.05× curl (parts in flight hide the
 *   round trip after each part, they cannot beat the link);
 * - window-limited (`windowBytes`): each connection holds at most that many bytes in flight per
 *   direction (a small TCP window, or a proxy's buffer), so one flow, curl's, reaches only
 *   window ÷ round trip; target at most 0.5× curl (the link itself allows about bandwidth × round
 *   trip ÷ window times less).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { generateFile } from '../generate-file.js'
import {
  curlUpload,
  formatBytes,
  inTurn,
  median,
  rate,
  ratio,
  root,
  runMeasured,
  seconds,
  singleUploadSeconds,
  sizeTag,
  uploadPhases,
  type Bench,
} from './measure.js'
import { table, type Section } from './report.js'

export interface LinkProfile {
  delayMs: number
  bitsPerSecond: number
  /** Bytes one connection may have in flight per direction (link-proxy's --window); none: open. */
  windowBytes?: number
}

/** The profile in words: `40 ms each way, 400 Mbit/s each way[, 1.0 MiB in flight per connection]`. */
function linkText(profile: LinkProfile): string {
  const window =
    profile.windowBytes === undefined
      ? ''
      : `, ${formatBytes(profile.windowBytes)} in flight per connection`
  return `${profile.delayMs} ms each way, ${profile.bitsPerSecond / 1e6} Mbit/s each way${window}`
}

interface ProxyProcess {
  url: string
  /** Stops it; resolves with the counters it printed. */
  stop(): Promise<string>
}

async function startProxyProcess(target: string, profile: LinkProfile): Promise<ProxyProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'scripts/link-proxy.ts'),
      '--target',
      target,
      '--delay',
      String(profile.delayMs),
      '--rate',
      String(profile.bitsPerSecond),
      ...(profile.windowBytes === undefined ? [] : ['--window', String(profile.windowBytes)]),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Never left behind, even when the bench dies.
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the link proxy exited (${code}): ${stderr}`)))
  })
  const { url } = JSON.parse(first) as { url: string }
  return {
    url,
    async stop() {
      child.kill('SIGTERM')
      await exited
      process.off('exit', kill)
      return stderr.trim()
    },
  }
}

export async function farLink(bench: Bench, size: number, profile: LinkProfile): Promise<Section> {
  const windowed = profile.windowBytes !== undefined
  const id = windowed ? 'far-window' : 'far-link'
  const dataset = bench.emulator.addDataset({ owner: bench.user.id, slug: `bench-${id}` })
  const name = `${id}-${sizeTag(size)}.csv`
  const file = path.join(bench.work, name)
  const link = linkText(profile)
  bench.log(`far link (${link}), ${formatBytes(size)}: writing ${file}`)
  const sha1 = await generateFile(file, size)
  const action: Record<
    string,
    Array<{ wall: number; parts: number; final: number; gap: number; count: number; rss: number }>
  > = {}
  const curl: Array<{ wall: number; server: number }> = []
  const proxy = await startProxyProcess(bench.emulator.url, profile)
  let proxyStats: string
  try {
    const resource = bench.emulator.addFileResource(dataset.id, {
      filename: name,
      content: 'old',
      title: 'Far',
    })
    const inputs = {
      ...bench.extraInputs,
      'api-url': proxy.url,
      'api-key': bench.user.apiKey,
      dataset: dataset.id,
      files: name,
    }
    const markChanged = (): void => {
      const state = bench.emulator.getResource(dataset.id, resource.id)
      if (state === undefined) throw new Error('the benchmark resource disappeared')
      state.filesize = 3
      state.checksum = { type: 'sha1', value: '0'.repeat(40) }
    }
    const verify = (what: string): void => {
      const stored = bench.emulator.getResource(dataset.id, resource.id)
      if (stored?.checksum?.value !== sha1 || stored.filesize !== size)
        throw new Error(`${what} did not store ${name} through the link`)
    }
    for (let i = 0; i < bench.runs; i++) {
      for (const runtime of inTurn(bench.runtimes, i)) {
        markChanged()
        bench.emulator.resetRequests()
        const measured = await runMeasured(runtime, inputs, { cwd: bench.work })
        verify(`the action on ${runtime.label}`)
        const phases = uploadPhases(bench.emulator.requests)
        ;(action[runtime.label] ??= []).push({
          wall: measured.seconds,
          parts: phases.partsSeconds,
          final: phases.finalSeconds,
          gap: phases.gapSeconds,
          count: phases.parts,
          rss: measured.rss,
        })
        bench.log(
          `  run ${i + 1}/${bench.runs} ${runtime.label}: wall ${seconds(measured.seconds)}, parts ${seconds(phases.partsSeconds)} (${phases.parts}), finalisation ${seconds(phases.finalSeconds)}, wait between parts ${(phases.gapSeconds * 1000).toFixed(0)} ms`,
        )
      }
      markChanged()
      bench.emulator.resetRequests()
      const c = await curlUpload(
        `${proxy.url}/api/1/datasets/${dataset.id}/resources/${resource.id}/upload/`,
        bench.user.apiKey,
        file,
      )
      verify('curl')
      curl.push({ wall: c.seconds, server: singleUploadSeconds(bench.emulator.requests) })
      bench.log(
        `  run ${i + 1}/${bench.runs} curl -F: wall ${seconds(c.seconds)}, at the server ${seconds(curl.at(-1)?.server ?? Number.NaN)}`,
      )
    }
  } finally {
    proxyStats = await proxy.stop()
    await rm(file, { force: true })
  }

  const curlServer = median(curl.map((c) => c.server))
  const curlWall = median(curl.map((c) => c.wall))
  const ideal = (size * 8) / profile.bitsPerSecond
  // One connection moves at most a window per round trip.
  const oneFlow = Math.max(
    ideal,
    ((size / (profile.windowBytes ?? Infinity)) * 2 * profile.delayMs) / 1000,
  )
  const limit = windowed ? 0.5 : 1.05
  const pick = (label: string, key: 'wall' | 'parts' | 'final' | 'gap' | 'count'): number =>
    median((action[label] ?? []).map((r) => r[key]))
  const rows = bench.runtimes.map((r) => [
    r.label,
    String(pick(r.label, 'count')),
    seconds(pick(r.label, 'wall')),
    seconds(pick(r.label, 'parts')),
    seconds(pick(r.label, 'final')),
    `${(pick(r.label, 'gap') * 1000).toFixed(0)} ms`,
    `${seconds(curlWall)} / ${seconds(curlServer)}`,
    ratio(pick(r.label, 'parts') / curlServer),
    ratio((pick(r.label, 'wall') - pick(r.label, 'final')) / curlWall),
    rate(size, pick(r.label, 'parts')),
    (action[r.label] ?? []).map((x) => formatBytes(x.rss)).join(', '),
  ])
  const body = [
    `${formatBytes(size)} through the link (${link}; the bytes alone take ${seconds(ideal)} at that rate${windowed ? `; one connection moves at most a window per round trip, ${rate(profile.windowBytes ?? 0, (2 * profile.delayMs) / 1000)}: ${seconds(oneFlow)}` : ''}). Proxy counters at the end: \`${proxyStats.split('\n').pop() ?? ''}\`.`,
    table(
      [
        'Runtime',
        'Parts',
        'Action: wall',
        'parts phase',
        'finalisation',
        'wait between parts',
        'curl -F: wall / at the server',
        'Parts phase ÷ curl (server)',
        '(Wall − finalisation) ÷ curl wall',
        'Parts rate',
        'Peak RSS, each run',
      ],
      rows,
    ),
  ].join('\n\n')
  return {
    id,
    title: `Far link: ${link}`,
    body,
    targets: [
      {
        name: `Far link (${link}), ${formatBytes(size)}: upload ÷ curl -F, finalisation excluded (both as the server sees them)`,
        limit: windowed ? `≤ ${limit}× (the link allows ${ratio(ideal / oneFlow)})` : `≤ ${limit}×`,
        results: Object.fromEntries(
          bench.runtimes.map((r) => {
            const value = pick(r.label, 'parts') / curlServer
            return [
              r.label,
              {
                value: `${ratio(value)} (${seconds(pick(r.label, 'parts'))} vs ${seconds(curlServer)}); finalisation ${seconds(pick(r.label, 'final'))}`,
                met: value <= limit,
              },
            ]
          }),
        ),
      },
    ],
  }
}
