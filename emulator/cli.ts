#!/usr/bin/env node
/**
 * Standalone udata emulator, the `udata-emulator` command. From a clone, without installing anything:
 *   node dist/emulator/index.js [options]        (the bundle built from this file)
 *   npx tsx emulator/cli.ts [options]            (from the sources, after npm ci)
 * Prints `{"url": ..., "users": [...], "organizations": [...], "datasets": [...]}` on one stdout
 * line, then one line per request on stderr. Stops on SIGINT / SIGTERM. `--help` says it all
 * (emulator/command.ts).
 */
import { serve } from './command.js'

async function main(): Promise<void> {
  const running = await serve(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
  })
  if (running === undefined) return
  const stop = (): void => {
    running.emulator.close().then(
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
  process.stderr.write(
    `udata emulator: ${error instanceof Error ? error.message : String(error)}\n(--help for usage)\n`,
  )
  process.exitCode = 1
})
