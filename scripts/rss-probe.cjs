// Preloaded into a measured process (node --require, or NODE_OPTIONS=--require): writes, when it
// exits, to $RSS_PROBE_FILE a JSON object { rss, userMs, systemMs, ... }: its peak resident set in
// bytes and the CPU time it used.
// On Linux the peak is VmHWM from /proc/self/status, the high-water mark of this process's own
// address space; getrusage's ru_maxrss is not used there because Linux carries it over from the
// parent across fork and exec, so a big parent inflates it.
//
// With RSS_PROBE_SAMPLE_MS set, it also samples process.memoryUsage() and V8's malloced memory
// (its compilers' and parsers' zones, v8.getHeapStatistics()) at that interval, from an unref'd
// timer (it runs when the event loop is free, and never keeps the process alive): `atPeak` is the
// sample with the highest rss, `max` the highest value of each figure over the run, `v8` V8's own
// statistics at exit (peak_malloced_memory among them), `spaces` the heap spaces at the peak.
// RSS_PROBE_TIMELINE=1 adds every sample: [ms since start, rss, heapTotal, heapUsed, external,
// arrayBuffers, malloced].
const { readFileSync, writeFileSync } = require('node:fs')
const v8 = require('node:v8')

const interval = Number(process.env.RSS_PROBE_SAMPLE_MS || 0)
const timeline = process.env.RSS_PROBE_TIMELINE === '1' ? [] : undefined
let atPeak
let spaces
const max = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0, malloced: 0 }
let samples = 0
function sample() {
  const usage = { ...process.memoryUsage(), malloced: v8.getHeapStatistics().malloced_memory }
  const atMs = Math.round(process.uptime() * 1000)
  samples++
  for (const key of Object.keys(max)) if (usage[key] > max[key]) max[key] = usage[key]
  if (atPeak === undefined || usage.rss > atPeak.rss) {
    atPeak = { ...usage, atMs }
    spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]),
    )
  }
  timeline?.push([
    atMs,
    usage.rss,
    usage.heapTotal,
    usage.heapUsed,
    usage.external,
    usage.arrayBuffers,
    usage.malloced,
  ])
}
if (interval > 0) setInterval(sample, interval).unref()

process.on('exit', () => {
  if (!process.env.RSS_PROBE_FILE) return
  if (interval > 0) sample()
  const usage = process.resourceUsage()
  let rss = usage.maxRSS * 1024
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) rss = Number(match[1]) * 1024
  } catch {
    // not Linux: keep ru_maxrss
  }
  const result = { rss, userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000 }
  if (interval > 0)
    Object.assign(result, { atPeak, max, samples, spaces, v8: v8.getHeapStatistics(), timeline })
  writeFileSync(process.env.RSS_PROBE_FILE, JSON.stringify(result))
})
