// Preloaded into a measured process (node --require): writes its peak RSS in bytes to
// $RSS_PROBE_FILE when it exits. Exact, unlike sampling /proc from outside.
const { writeFileSync } = require('node:fs')
process.on('exit', () => {
  if (process.env.RSS_PROBE_FILE) writeFileSync(process.env.RSS_PROBE_FILE, String(process.resourceUsage().maxRSS * 1024))
})
