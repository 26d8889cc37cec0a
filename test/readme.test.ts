/**
 * The README is executable: every `yaml` block that uses the action (a workflow, or a block of its
 * steps), the GitLab job, and every line of every shell block runs as written against emulators
 * seeded with what the examples name, in this process (the action's `run()`, the CLI's `main()`).
 * What each placeholder becomes, the build the workflows run, the events, secrets and remote sites
 * are one table: test/helpers/readme/world.ts. A block this cannot run fails; a line that cannot
 * run here (it needs the network, or spawns the bundles) is named in the table with why, checked
 * as far as it can be, and, when it spawns the bundles, run by test/bundle/readme.test.ts.
 *
 *   README_TRANSCRIPTS=.tmp/readme npx vitest run test/readme.test.ts   # what each example printed
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { root } from '../scripts/release-refs.js'
import { codeBlocks, type CodeBlock } from './helpers/readme/markdown.js'
import { Scene, usedSubstitutions, usedWarnings } from './helpers/readme/scene.js'
import { Terminal, usedRules } from './helpers/readme/terminal.js'
import { parseShell } from './helpers/readme/shell.js'
import { checkWithoutRunning, runSteps, runWorkflow } from './helpers/readme/workflow.js'
import {
  GITLAB_VARIABLES,
  SECTIONS,
  SUBSTITUTIONS,
  commandRules,
  type SectionSpec,
} from './helpers/readme/world.js'

const readme = await readFile(path.join(root, 'README.md'), 'utf8')
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
}
const rules = commandRules(pkg.scripts)
const SHELLS = new Set(['sh', 'bash', 'shell'])

interface Example {
  name: string
  heading: string
  run(scene: Scene, spec: SectionSpec): Promise<void>
  /** What is checked when the table says the section cannot run here. */
  check(): Promise<void>
}

/** One example per yaml block, one per section's shell blocks (its terminals, in order). */
function examples(blocks: CodeBlock[]): Example[] {
  const found: Example[] = []
  const terminals = new Map<string, CodeBlock[]>()
  for (const block of blocks) {
    const where = `README.md:${block.line}`
    if (SHELLS.has(block.lang)) {
      const section = terminals.get(block.heading)
      if (section) section.push(block)
      else {
        const list = [block]
        terminals.set(block.heading, list)
        found.push({
          name: `${block.heading}: shell (${where})`,
          heading: block.heading,
          run: (scene, spec) => runTerminals(list, scene, spec),
          check: async () => {
            for (const b of list) expect(parseShell(b.text).length, where).toBeGreaterThan(0)
          },
        })
      }
    } else if (block.lang === 'yaml' || block.lang === 'yml') {
      found.push({
        name: `${block.heading}: yaml (${where})`,
        heading: block.heading,
        run: (scene) => runYaml(block, scene),
        check: async () => {
          expect(
            await checkWithoutRunning(yamlOf(block)),
            `${where}: action steps`,
          ).toBeGreaterThan(0)
        },
      })
    } else {
      found.push({
        name: `${block.heading}: \`\`\`${block.lang} (${where})`,
        heading: block.heading,
        run: () => Promise.reject(new Error(`${where}: no rule runs a \`\`\`${block.lang} block`)),
        check: () =>
          Promise.reject(new Error(`${where}: no rule checks a \`\`\`${block.lang} block`)),
      })
    }
  }
  return found
}

/** Each block a terminal, in the section's folder; an emulator started in one serves the next. */
async function runTerminals(blocks: CodeBlock[], scene: Scene, spec: SectionSpec): Promise<void> {
  const folder = await scene.folder('terminal', spec.emptyFolder !== true)
  if (spec.emptyFolder !== true) await new Terminal(scene, folder, {}, rules).run('make all')
  for (const block of blocks) {
    scene.transcript.push(`=== terminal: README.md:${block.line}`)
    await new Terminal(scene, folder, {}, rules).run(block.text)
  }
}

function yamlOf(block: CodeBlock): unknown {
  const documents = parseAllDocuments(block.text)
  expect(documents, `README.md:${block.line}: one YAML document`).toHaveLength(1)
  expect(documents[0]?.errors ?? [], `README.md:${block.line}`).toEqual([])
  return documents[0]?.toJS() as unknown
}

async function runYaml(block: CodeBlock, scene: Scene): Promise<void> {
  const doc = yamlOf(block)
  if (Array.isArray(doc)) return runSteps(doc as Array<Record<string, unknown>>, scene)
  if (doc !== null && typeof doc === 'object') {
    const object = doc as Record<string, unknown>
    if ('jobs' in object) return runWorkflow(object, scene)
    const jobs = Object.values(object)
    if (jobs.length > 0 && jobs.every((j) => j !== null && typeof j === 'object' && 'script' in j))
      return runGitlab(object as Record<string, Record<string, unknown>>, scene)
  }
  throw new Error(
    `README.md:${block.line}: neither a workflow (jobs:), a list of steps nor a GitLab job (script:)`,
  )
}

/** A GitLab CI job: its script lines in a terminal with the project's CI/CD variables. */
async function runGitlab(
  jobs: Record<string, Record<string, unknown>>,
  scene: Scene,
): Promise<void> {
  for (const [name, job] of Object.entries(jobs)) {
    const unknown = Object.keys(job).filter((k) => !['image', 'script', 'stage'].includes(k))
    if (unknown.length > 0)
      throw new Error(`GitLab job ${name}: ${unknown.join(', ')} not run here`)
    // The image's Node is this one; the job runs in a clone after the build.
    const folder = await scene.folder(name, true)
    const terminal = new Terminal(scene, folder, { ...GITLAB_VARIABLES }, rules)
    await terminal.run('make all')
    for (const line of job.script as string[]) await terminal.run(line)
  }
}

const all = examples(codeBlocks(readme))

describe('README examples run as written against the emulator', () => {
  it('finds the examples: workflows, steps, the GitLab job, shell sections', () => {
    expect(all.length).toBeGreaterThanOrEqual(14)
  })

  for (const example of all) {
    it(example.name, async () => {
      const spec = SECTIONS[example.heading] ?? {}
      if (spec.notRun !== undefined) return example.check()
      const scene = await Scene.start(spec)
      try {
        await example.run(scene, spec)
      } catch (error) {
        // The transcript says what ran before: the step, the command, what they printed.
        throw new Error(
          `${(error as Error).message}\n--- transcript ---\n${scene.transcript.join('\n')}`,
          {
            cause: error,
          },
        )
      } finally {
        const keep = process.env.README_TRANSCRIPTS
        if (keep) {
          await mkdir(keep, { recursive: true })
          const file = `${example.name.replace(/[^\w]+/g, '-').slice(0, 80)}.txt`
          await writeFile(path.join(keep, file), scene.transcript.join('\n'))
        }
        await scene.close()
      }
    })
  }
})

describe('the table of test/helpers/readme/world.ts', () => {
  it('names only sections, substitutions and rules the README uses (after the examples ran)', () => {
    const headings = new Set(codeBlocks(readme).map((b) => b.heading))
    for (const heading of Object.keys(SECTIONS)) expect(headings, heading).toContain(heading)
    for (const { text } of SUBSTITUTIONS) expect(usedSubstitutions, text).toContain(text)
    for (const { match } of Object.values(SECTIONS).flatMap((s) => s.warnings ?? []))
      expect(usedWarnings, String(match)).toContain(match.source)
    for (const rule of rules) expect(usedRules, String(rule.match)).toContain(rule.match.source)
  })
})
