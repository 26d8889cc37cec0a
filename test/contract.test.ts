/** action.yml is the contract: the code's inputs and outputs and the README's tables must match it. */
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { INPUT_NAMES, INPUTS, type InputSpec } from '../src/engine/inputs.js'
import { OUTPUT_NAMES } from '../src/engine/report.js'
import { OPTIONS } from '../src/cli/flags.js'
import { USAGE } from '../src/cli/usage.js'

interface ActionYml {
  name: string
  description: string
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

const action = parse(await readFile(new URL('../action.yml', import.meta.url), 'utf8')) as ActionYml
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')

function tableRows(marker: string): string[][] {
  const block =
    new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)<!-- ${marker}:end -->`).exec(readme)?.[1] ??
    ''
  return block
    .trim()
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    )
}

describe('action.yml', () => {
  it('has a name and a description the Marketplace takes (description under 125 characters)', () => {
    expect(action.name.length).toBeGreaterThan(0)
    expect(action.description.length).toBeGreaterThan(40)
    expect(action.description.length).toBeLessThan(125)
  })

  it('runs the bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  it('declares exactly the inputs of the table (src/engine/inputs/table.ts), in its order, with its defaults', () => {
    expect(Object.keys(action.inputs)).toEqual(INPUT_NAMES)
    for (const name of INPUT_NAMES) {
      const spec: InputSpec = INPUTS[name]
      expect(action.inputs[name]?.default, name).toBe(spec.default)
    }
    expect(action.inputs.dataset?.required).toBe(true)
  })

  it('declares every output the code sets', () => {
    expect(Object.keys(action.outputs).sort()).toEqual([...OUTPUT_NAMES].sort())
  })
})

describe('README tables', () => {
  it('list every input with its default and description from action.yml', () => {
    const rows = tableRows('inputs')
    expect(rows.map((r) => r[0])).toEqual(Object.keys(action.inputs).map((n) => `\`${n}\``))
    for (const [name, cell, description] of rows) {
      const input = action.inputs[name?.replace(/`/g, '') ?? '']
      const expectedDefault = input?.required
        ? '(required)'
        : input?.default
          ? `\`${input.default}\``
          : ''
      expect(cell, name).toBe(expectedDefault)
      expect(description, name).toBe(input?.description.trim().replace(/\s*\n\s*/g, ' '))
    }
  })

  it('list every output with its description from action.yml', () => {
    const rows = tableRows('outputs')
    expect(rows.map((r) => r[0])).toEqual(Object.keys(action.outputs).map((n) => `\`${n}\``))
    for (const [name, description] of rows)
      expect(description, name).toBe(
        action.outputs[name?.replace(/`/g, '') ?? '']?.description.trim().replace(/\s*\n\s*/g, ' '),
      )
  })
})

describe('the CLI', () => {
  // Switches that turn off a default-on input are spelled --no-<input>.
  const flagOf = (input: string): string | undefined =>
    [input, `no-${input}`].find((name) => Object.prototype.hasOwnProperty.call(OPTIONS, name))

  it('has a flag for every input but the key (which only comes from DATAGOUV_API_KEY) and the pull request comment (the action only)', () => {
    const ACTION_ONLY = ['api-key', 'comment-on-pr', 'github-token']
    const missing = INPUT_NAMES.filter(
      (name) => !ACTION_ONLY.includes(name) && flagOf(name) === undefined,
    )
    expect(missing).toEqual([])
    for (const name of ACTION_ONLY) expect(flagOf(name), name).toBeUndefined()
    expect(Object.keys(OPTIONS)).not.toContain('api-key')
  })

  it('turns a boolean input around with a switch: --<input> when off by default, --no-<input> when on', () => {
    for (const name of INPUT_NAMES) {
      const spec: InputSpec = INPUTS[name]
      if (spec.cli === undefined || !('switch' in spec.cli)) continue
      expect(['true', 'false'], name).toContain(spec.default)
      const flag = spec.default === 'true' ? `no-${name}` : name
      expect(OPTIONS[flag]?.type, name).toBe('boolean')
    }
  })

  it('states in its help the defaults the code applies (one source: the table)', () => {
    for (const name of INPUT_NAMES) {
      const spec: InputSpec = INPUTS[name]
      const help = OPTIONS[flagOf(name) ?? '']?.help ?? ''
      if (/\(default /.test(help)) expect(help, name).toContain(`(default ${spec.default}`)
      expect(help, name).not.toContain('{default}')
    }
    expect(USAGE).toContain('--part-concurrency')
  })
})
