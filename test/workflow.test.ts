/**
 * Our implementation of the runner's protocol (src/action/workflow.ts): what each function prints
 * on stdout and appends to the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, byte for byte. The
 * expected strings are what @actions/core 3.0.1 wrote for the same calls when workflow.ts replaced
 * it (compared then on a few hundred random names and values made of `%`, `:`, `,`, CR, LF, `::`
 * and `ghadelimiter_`, error cases included); @actions/core is no longer a dependency, so they are
 * written out here.
 */
import { spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { parseOutputFile } from '../scripts/run-action.js'
import * as workflow from '../src/action/workflow.js'
import { root } from '../scripts/release-refs.js'

/** A value that needs every escape: `%`, CR, LF, `::`, `:` and `,`. */
const AWKWARD = 'a%b\r\nc::d:e,f'
const DELIMITER =
  /ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g

let printed = ''
let dir = ''
let exitCode: typeof process.exitCode
beforeEach(async () => {
  printed = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed += String(chunk)
    return true
  })
  dir = await mkdtemp(path.join(tmpdir(), 'workflow-'))
  exitCode = process.exitCode
})
afterEach(async () => {
  vi.restoreAllMocks()
  process.exitCode = exitCode
  await rm(dir, { recursive: true, force: true })
})

describe('getInput', () => {
  it('reads INPUT_<NAME>: upper-cased, spaces made _, hyphens kept, trimmed', () => {
    const env = {
      'INPUT_API-KEY': '  k  ',
      INPUT_DRY_RUN: '\ttrue\n',
      INPUT_FILES: '\n  out/*.csv\n!out/draft.csv \n',
      INPUT_EMPTY: '',
    }
    expect(workflow.getInput(env, 'api-key')).toBe('k')
    expect(workflow.getInput(env, 'dry run')).toBe('true')
    expect(workflow.getInput(env, 'Dry Run')).toBe('true')
    // Inner lines keep their spaces: only the ends are trimmed.
    expect(workflow.getInput(env, 'files')).toBe('out/*.csv\n!out/draft.csv')
    expect(workflow.getInput(env, 'empty')).toBe('')
    expect(workflow.getInput(env, 'absent')).toBe('')
    // The runner's variable has `-`, never `_`, for a hyphen.
    expect(workflow.getInput(env, 'api_key')).toBe('')
  })
})

describe('commands on stdout', () => {
  it('escapes their data: % first, then CR and LF; `::` and `,` stay as they are', () => {
    workflow.setSecret(AWKWARD)
    workflow.debug(AWKWARD)
    workflow.warning(AWKWARD)
    workflow.error(AWKWARD)
    workflow.debug('')
    workflow.warning('100%25 done')
    expect(printed).toBe(
      [
        '::add-mask::a%25b%0D%0Ac::d:e,f',
        '::debug::a%25b%0D%0Ac::d:e,f',
        '::warning::a%25b%0D%0Ac::d:e,f',
        '::error::a%25b%0D%0Ac::d:e,f',
        '::debug::',
        '::warning::100%2525 done',
        '',
      ].join('\n'),
    )
  })

  it('prints an info line as it is, a multi-line one too', () => {
    workflow.info('Plan:\n  upload  a.csv  100% changed')
    workflow.info('::not-a-command::')
    workflow.info('')
    expect(printed).toBe('Plan:\n  upload  a.csv  100% changed\n::not-a-command::\n\n')
  })

  it('groups the lines printed while the function runs, and gives back its value', async () => {
    const value = await workflow.group('Preflight: 2 files, 50%\n', async () => {
      workflow.info('inside')
      return 42
    })
    expect(value).toBe(42)
    expect(printed).toBe('::group::Preflight: 2 files, 50%25%0A\ninside\n::endgroup::\n')
  })

  it('closes the group when the function throws, and throws its error', async () => {
    const failure = new Error('boom')
    await expect(
      workflow.group('g', async () => {
        workflow.info('before')
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(printed).toBe('::group::g\nbefore\n::endgroup::\n')
  })

  it('fails the step: exit code 1 and an error annotation', () => {
    workflow.setFailed('1 of 2 entries failed:\nfiles a.csv: 50% sent')
    expect(process.exitCode).toBe(1)
    expect(printed).toBe('::error::1 of 2 entries failed:%0Afiles a.csv: 50%25 sent\n')
  })
})

describe('setOutput', () => {
  it('appends a name<<DELIMITER block to the GITHUB_OUTPUT file, with a fresh delimiter each', async () => {
    const file = path.join(dir, 'output')
    await writeFile(file, 'before=1\n')
    const env = { GITHUB_OUTPUT: file }
    const forged = 'x\nghadelimiter_00000000-0000-4000-8000-000000000000\nchanged<<EOF\ntrue\nEOF'
    workflow.setOutput(env, 'resources', '[{"id": "r1"}]\n[second line]')
    workflow.setOutput(env, 'changed', 'true')
    workflow.setOutput(env, 'awkward', AWKWARD)
    workflow.setOutput(env, 'forged', forged)
    workflow.setOutput(env, 'empty', '')

    const text = await readFile(file, 'utf8')
    const delimiters = text.match(DELIMITER) ?? []
    // Each block opens and closes with its own random delimiter.
    expect(delimiters).toHaveLength(11) // 2 per block, and the one inside `forged`
    const own = delimiters.filter((d) => !forged.includes(d))
    expect(new Set(own).size).toBe(5)
    expect(text.replace(DELIMITER, 'DELIM')).toBe(
      [
        'before=1',
        'resources<<DELIM',
        '[{"id": "r1"}]',
        '[second line]',
        'DELIM',
        'changed<<DELIM',
        'true',
        'DELIM',
        'awkward<<DELIM',
        'a%b\r',
        'c::d:e,f',
        'DELIM',
        'forged<<DELIM',
        'x',
        'DELIM', // the delimiter inside the value, not this block's
        'changed<<EOF',
        'true',
        'EOF',
        'DELIM',
        'empty<<DELIM',
        '',
        'DELIM',
        '',
      ].join('\n'),
    )
    // Values are written as they are, nothing escaped, and read back whole: the value that
    // carries a delimiter and a block of its own sets no other output.
    expect(parseOutputFile(text)).toEqual({
      resources: '[{"id": "r1"}]\n[second line]',
      changed: 'true',
      awkward: AWKWARD,
      forged,
      empty: '',
    })
    expect(printed).toBe('')
  })

  it('refuses a name or value that holds the delimiter', () => {
    const delimiter = 'ghadelimiter_0f6b3c2e-9f1a-4c1e-8d2b-5a7e6f4d3c21'
    expect(workflow.outputBlock('a', 'b\nc', delimiter)).toBe(`a<<${delimiter}\nb\nc\n${delimiter}`)
    expect(() => workflow.outputBlock('a', `x\n${delimiter}\nb=1`, delimiter)).toThrow(
      `Unexpected input: value should not contain the delimiter "${delimiter}"`,
    )
    expect(() => workflow.outputBlock(`a${delimiter}`, 'v', delimiter)).toThrow(
      `Unexpected input: name should not contain the delimiter "${delimiter}"`,
    )
  })

  it('fails on a GITHUB_OUTPUT file that does not exist rather than create it', async () => {
    const file = path.join(dir, 'missing')
    expect(() => workflow.setOutput({ GITHUB_OUTPUT: file }, 'a', 'b')).toThrow(
      `Missing file at path: ${file}`,
    )
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('without GITHUB_OUTPUT, prints the ::set-output command, its name escaped as a property', () => {
    workflow.setOutput({}, 'a:b,c%', AWKWARD)
    workflow.setOutput({ GITHUB_OUTPUT: '' }, 'changed', 'false')
    workflow.setOutput({}, '', 'v')
    expect(printed).toBe(
      [
        '',
        '::set-output name=a%3Ab%2Cc%25::a%25b%0D%0Ac::d:e,f',
        '',
        '::set-output name=changed::false',
        '',
        '::set-output ::v',
        '',
      ].join('\n'),
    )
  })
})

describe('appendSummary', () => {
  it('appends the Markdown as it is to the GITHUB_STEP_SUMMARY file', async () => {
    const file = path.join(dir, 'summary')
    await writeFile(file, '# Earlier step\n')
    const env = { GITHUB_STEP_SUMMARY: file }
    await workflow.appendSummary(env, '### Published\n\n| a | b |\n')
    await workflow.appendSummary(env, 'no newline, 100%')
    await workflow.appendSummary(env, '')
    expect(await readFile(file, 'utf8')).toBe(
      '# Earlier step\n### Published\n\n| a | b |\nno newline, 100%',
    )
    expect(printed).toBe('')
  })

  it('says what is wrong when the runner names no file or one it cannot write', async () => {
    const unset =
      'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.'
    await expect(workflow.appendSummary({}, 'a')).rejects.toThrow(unset)
    await expect(workflow.appendSummary({ GITHUB_STEP_SUMMARY: '' }, 'a')).rejects.toThrow(unset)
    const missing = path.join(dir, 'missing')
    await expect(workflow.appendSummary({ GITHUB_STEP_SUMMARY: missing }, 'a')).rejects.toThrow(
      `Unable to access summary file: '${missing}'. Check if the file has correct read/write permissions.`,
    )
    const readOnly = path.join(dir, 'read-only')
    await writeFile(readOnly, '')
    await chmod(readOnly, 0o444)
    // root may write anyway: then the append simply succeeds.
    if (process.getuid?.() !== 0)
      await expect(workflow.appendSummary({ GITHUB_STEP_SUMMARY: readOnly }, 'a')).rejects.toThrow(
        `Unable to access summary file: '${readOnly}'`,
      )
  })
})

it('in a process of its own: the bytes on stdout, the files, and exit code 1', async () => {
  vi.restoreAllMocks()
  const output = path.join(dir, 'output')
  const summary = path.join(dir, 'summary')
  await writeFile(output, '')
  await writeFile(summary, '')
  const script = `
    import * as w from ${JSON.stringify(path.join(root, 'src/action/workflow.ts'))}
    const env = process.env
    w.setSecret(w.getInput(env, 'api key'))
    await w.group('Publish', async () => w.info('line 1\\nline 2'))
    w.setOutput(env, 'changed', 'true')
    await w.appendSummary(env, '### Done\\n')
    w.setFailed('1 failed')
  `
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        'INPUT_API KEY': 'not this one',
        INPUT_API_KEY: ' s3cr%t\n',
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
      },
    },
  )
  expect(child.stderr).toBe('')
  expect(child.stdout).toBe(
    '::add-mask::s3cr%25t\n::group::Publish\nline 1\nline 2\n::endgroup::\n::error::1 failed\n',
  )
  expect(child.status).toBe(1)
  expect(parseOutputFile(await readFile(output, 'utf8'))).toEqual({ changed: 'true' })
  expect(await readFile(summary, 'utf8')).toBe('### Done\n')
})
