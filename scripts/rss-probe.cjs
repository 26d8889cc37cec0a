// Preloaded into a measured process (node --require, or NODE_OPTIONS=--require): writes, when it
// exits, to $RSS_PROBE_FILE a JSON object { rss, userMs, systemMs, atPeak, max, samples }: its peak
// resident set in bytes and the CPU time it used.
// On Linux the peak is VmHWM from /proc/self/status, the high-water mark of this process's own
// address space; getrusage's ru_maxrss is not used there because Linux carries it over from the
// parent across fork and exec, so a big parent inflates it.
//
// With RSS_PROBE_SAMPLE_MS set, it also samples process.memoryUsage() at that interval (an unref'd
// timer: it runs when the event loop is free, and never keeps the process alive): `atPeak` is the
// sample with the highest rss and what it was made of (V8 heap, external memory and array
// buffers); `max` the highest value of each figure over the run.
// RSS_PROBE_V8_FLAGS (e.g. --liftoff-only) is given to v8.setFlagsFromString before anything else
// runs, for flags that NODE_OPTIONS does not accept.
const { readFileSync, writeFileSync } = require('node:fs')
const v8 = require('node:v8')

if (process.env.RSS_PROBE_V8_FLAGS) v8.setFlagsFromString(process.env.RSS_PROBE_V8_FLAGS)

const interval = Number(process.env.RSS_PROBE_SAMPLE_MS || 0)
let atPeak
const max = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
let samples = 0
function sample() {
  const usage = process.memoryUsage()
  samples++
  for (const key of Object.keys(max)) if (usage[key] > max[key]) max[key] = usage[key]
  if (atPeak === undefined || usage.rss > atPeak.rss) atPeak = { ...usage, atMs: Math.round(process.uptime() * 1000) }
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
  if (interval > 0) Object.assign(result, { atPeak, max, samples })
  writeFileSync(process.env.RSS_PROBE_FILE, JSON.stringify(result))
})
