/**
 * Writes the README's inputs and outputs tables from action.yml (between the `inputs:start/end`
 * and `outputs:start/end` markers). test/contract.test.ts fails when they differ.
 *
 *   npm run docs
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parse } from 'yaml'

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const action = parse(await readFile(new URL('../action.yml', import.meta.url), 'utf8')) as ActionYml
const readmeUrl = new URL('../README.md', import.meta.url)
let readme = await readFile(readmeUrl, 'utf8')

const oneLine = (text: string) =>
  text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
const inputs = [
  '| Input | Default | Description |',
  '| --- | --- | --- |',
  ...Object.entries(action.inputs).map(([name, input]) => {
    const defaultCell = input.required ? '(required)' : input.default ? `\`${input.default}\`` : ''
    return `| \`${name}\` | ${defaultCell} | ${oneLine(input.description)} |`
  }),
].join('\n')
const outputs = [
  '| Output | Description |',
  '| --- | --- |',
  ...Object.entries(action.outputs).map(
    ([name, output]) => `| \`${name}\` | ${oneLine(output.description)} |`,
  ),
].join('\n')

for (const [marker, table] of [
  ['inputs', inputs],
  ['outputs', outputs],
] as const) {
  const pattern = new RegExp(`(<!-- ${marker}:start -->\\n)[\\s\\S]*?(<!-- ${marker}:end -->)`)
  if (!pattern.test(readme)) throw new Error(`README.md has no ${marker}:start/end markers`)
  readme = readme.replace(pattern, `$1${table}\n$2`)
}
await writeFile(readmeUrl, readme)
console.log('README.md tables written from action.yml')
