// Preloaded into a measured process (node --require): writes, when it exits, to $RSS_PROBE_FILE a
// JSON object { rss, userMs, systemMs }: its peak resident set in bytes and the CPU time it used.
// On Linux the peak is VmHWM from /proc/self/status, the high-water mark of this process's own
// address space; getrusage's ru_maxrss is not used there because Linux carries it over from the
// parent across fork and exec, so a big parent inflates it.
const { readFileSync, writeFileSync } = require('node:fs')
process.on('exit', () => {
  if (!process.env.RSS_PROBE_FILE) return
  const usage = process.resourceUsage()
  let rss = usage.maxRSS * 1024
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) rss = Number(match[1]) * 1024
  } catch {
    // not Linux: keep ru_maxrss
  }
  writeFileSync(process.env.RSS_PROBE_FILE, JSON.stringify({ rss, userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000 }))
})
