// Preloaded into a measured process (node --require): writes its peak resident set in bytes to
// $RSS_PROBE_FILE when it exits. On Linux it reads VmHWM from /proc/self/status, the high-water
// mark of this process's own address space; getrusage's ru_maxrss is not used there because Linux
// carries it over from the parent across fork and exec, so a big parent inflates it.
const { readFileSync, writeFileSync } = require('node:fs')
process.on('exit', () => {
  if (!process.env.RSS_PROBE_FILE) return
  let bytes = process.resourceUsage().maxRSS * 1024
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) bytes = Number(match[1]) * 1024
  } catch {}
  writeFileSync(process.env.RSS_PROBE_FILE, String(bytes))
})
