/** The action's entry point: `run()` on the runner of this step. */
import { run } from './main.js'

await run()
