/**
 * The README's command lines that spawn the bundles, which test/readme.test.ts checks but does not
 * run (the rules of test/helpers/readme/world.ts marked `bundle`): run here as written, from the
 * clone, on $ACTION_NODE (scripts/test-node24.sh: Node 24) for the bundles they start.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { expect, it } from 'vitest'
import { root } from '../../scripts/release-refs.js'
import { codeBlocks } from '../helpers/readme/markdown.js'
import { parseShell } from '../helpers/readme/shell.js'
import { bash } from '../helpers/readme/terminal.js'
import { commandRules } from '../helpers/readme/world.js'

const readme = await readFile(path.join(root, 'README.md'), 'utf8')
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
}
const rules = commandRules(pkg.scripts).filter((r) => r.bundle === true)

/** Every pipeline of the README's shell blocks that such a rule names, as written. */
const lines = codeBlocks(readme)
  .filter((b) => ['sh', 'bash', 'shell'].includes(b.lang))
  .flatMap((b) => parseShell(b.text).flatMap((s) => s.parts.map((p) => p.pipeline.source)))
  .filter((source) => rules.some((r) => r.match.test(source)))

it('finds the lines to run', () => {
  expect(lines).toContain('npm run demo')
})

for (const line of new Set(lines)) {
  it(`runs \`${line}\` from the clone`, async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    )
    const run = await bash(line, root, env)
    expect(run.code, run.stdout + run.stderr).toBe(0)
    if (line === 'npm run demo')
      // scripts/demo.ts: a second run of the same publication changes nothing.
      expect(run.stdout).toMatch(/of which 0 could change anything/)
  })
}
