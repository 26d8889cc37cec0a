#!/usr/bin/env node
/** Entry of the datagouv-publish bundle (dist/cli/index.js): runs main() and sets the exit code. */
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
