/**
 * Standalone udata emulator:
 *   npx tsx emulator/cli.ts [--port 8080] [--host 127.0.0.1] [--seed seed.json] [--data-dir DIR] [--legacy]
 * Prints `{"url": ..., "users": [...], "datasets": [...]}` on one stdout line, then one line per
 * request on stderr (`METHOD path status`, API keys masked). Stops on SIGINT / SIGTERM.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { DEFAULT_SEED, applySeed } from './seed.js'
import { startEmulator, type Emulator } from './server.js'

const USAGE = 'usage: tsx emulator/cli.ts [--port 8080] [--host 127.0.0.1] [--seed seed.json] [--data-dir DIR] [--legacy]'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      legacy: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const port = values.port === undefined ? 8080 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`)

  let seed: unknown = DEFAULT_SEED
  let seedDir = process.cwd()
  if (values.seed !== undefined) {
    const seedPath = resolve(values.seed)
    seed = JSON.parse(readFileSync(seedPath, 'utf8')) as unknown
    seedDir = dirname(seedPath)
  }

  let keys: string[] = []
  const mask = (text: string): string => keys.reduce((out, key) => out.split(key).join('***'), text)
  const emulator: Emulator = await startEmulator({
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values.legacy === true ? { version: 'legacy' as const } : {}),
    onRequest: (r) => {
      const fault = r.fault !== undefined ? ` [fault ${r.fault}]` : ''
      process.stderr.write(`${r.method} ${mask(r.path)} ${r.status === 0 ? 'dropped' : r.status}${fault}\n`)
    },
  })
  let summary
  try {
    summary = applySeed(emulator, seed, seedDir)
  } catch (error) {
    await emulator.close()
    throw error
  }
  keys = summary.users.map((u) => u.apiKey).filter((k) => k.length > 0)
  process.stdout.write(`${JSON.stringify(summary)}\n`)

  const stop = (): void => {
    emulator.close().then(
      () => process.stderr.write('udata emulator stopped\n'),
      (error: unknown) => {
        process.stderr.write(`udata emulator: ${String(error)}\n`)
        process.exitCode = 1
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`)
  process.exitCode = 1
})
