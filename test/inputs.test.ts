import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { getInput } from '../src/action/workflow.js'
import {
  INPUT_NAMES,
  INPUTS,
  InputError,
  parseResources,
  readSettings,
  type InputName,
} from '../src/engine/inputs.js'

/**
 * Inputs go through the action's own getInput (src/action/workflow.ts), as the runner provides them
 * (INPUT_<NAME>, hyphens kept).
 */
function settingsFrom(inputs: Partial<Record<InputName, string>>) {
  for (const name of INPUT_NAMES) vi.stubEnv(`INPUT_${name.toUpperCase()}`, inputs[name] ?? '')
  return readSettings((name) => getInput(process.env, name))
}

function problemsOf(inputs: Partial<Record<InputName, string>>): string {
  try {
    settingsFrom(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as Error).message
  }
  throw new Error('expected an InputError')
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('readSettings', () => {
  it('applies the defaults of action.yml to inputs not given', () => {
    const settings = settingsFrom({
      'api-key': 'k',
      dataset: 'my-dataset',
      files: 'out/*.csv\n!out/tmp.csv\n# comment\n',
    })
    expect(settings).toMatchObject({
      apiKey: 'k',
      dataset: 'my-dataset',
      apiUrl: 'https://www.data.gouv.fr',
      files: ['out/*.csv', '!out/tmp.csv'],
      ifNoFilesFound: 'error',
      ifUnchanged: 'skip',
      createMissing: false,
      dryRun: false,
      chunkSize: 20_000_000,
      concurrency: 3,
      maxRetries: 5,
      timeoutSeconds: 300,
    })
  })

  it('accepts the API URL with or without /api/1 and keeps the origin', () => {
    expect(
      settingsFrom({
        'api-key': 'k',
        dataset: 'd',
        files: 'a',
        'api-url': 'https://demo.data.gouv.fr/api/1/',
      }).apiUrl,
    ).toBe('https://demo.data.gouv.fr')
    expect(
      settingsFrom({ 'api-key': 'k', dataset: 'd', files: 'a', 'api-url': 'http://127.0.0.1:8080' })
        .apiUrl,
    ).toBe('http://127.0.0.1:8080')
  })

  it('refuses plain http to a non-loopback host and non-http schemes', () => {
    expect(
      problemsOf({
        'api-key': 'k',
        dataset: 'd',
        files: 'a',
        'api-url': 'http://www.data.gouv.fr',
      }),
    ).toMatch(/input 'api-url': plain http:\/\/ is only accepted for a loopback host/)
    expect(
      problemsOf({ 'api-key': 'k', dataset: 'd', files: 'a', 'api-url': 'ftp://www.data.gouv.fr' }),
    ).toMatch(/input 'api-url': only https/)
    expect(
      problemsOf({
        'api-key': 'k',
        dataset: 'd',
        files: 'a',
        'api-url': 'https://www.data.gouv.fr/fr/datasets',
      }),
    ).toMatch(/input 'api-url'.*origin/)
  })

  it('reports every bad input at once, naming each and its accepted values', () => {
    const message = problemsOf({
      dataset: 'd',
      files: 'a',
      'if-no-files-found': 'wran',
      'dry-run': 'yes',
      'chunk-size': '20 lemons',
      concurrency: '0',
    })
    expect(message).toContain("input 'api-key' is required unless 'dry-run' is true")
    expect(message).toContain(
      "input 'if-no-files-found' must be one of 'error', 'warn', 'ignore', got 'wran'",
    )
    expect(message).toContain("input 'dry-run' must be 'true' or 'false', got 'yes'")
    expect(message).toContain("input 'chunk-size' must be a size such as 20MB, 8MiB or 5000000")
    expect(message).toContain("got '20 lemons'")
    expect(message).toContain("did you mean 'warn'?")
    expect(message).toContain(
      "input 'concurrency' must be a whole number of parallel uploads from 1 to 16, got '0'",
    )
  })

  it('needs no key in dry-run, and something to publish', () => {
    expect(settingsFrom({ dataset: 'd', files: 'a', 'dry-run': 'true' }).apiKey).toBeUndefined()
    expect(problemsOf({ 'api-key': 'k', dataset: 'd' })).toMatch(/nothing to publish/)
    expect(problemsOf({ 'api-key': 'k', files: 'a' })).toMatch(/input 'dataset' is required/)
  })

  it('fills one field of the settings per input, each its own (the table of inputs)', () => {
    const settings = settingsFrom({ 'api-key': 'k', dataset: 'd', files: 'a' })
    const fields = INPUT_NAMES.map((name) => INPUTS[name].field)
    expect(new Set(fields).size).toBe(INPUT_NAMES.length)
    expect(Object.keys(settings)).toEqual(fields)
  })

  it('lists the problems in the order of the inputs in action.yml', () => {
    const message = problemsOf({
      'api-key': 'k',
      dataset: 'd',
      timeout: '0',
      resources: '42',
      order: 'random',
      'api-url': 'ftp://x',
    })
    expect(message.split('\n').map((line) => /input '([a-z-]+)'/.exec(line)?.[1])).toEqual([
      'api-url',
      'resources',
      'order',
      'timeout',
    ])
  })

  it('never echoes the key in an error', () => {
    const message = problemsOf({
      'api-key': 'secret-key-value',
      dataset: '',
      files: '',
      concurrency: 'many',
    })
    expect(message).not.toContain('secret-key-value')
  })
})

describe('durations and sizes: one way to write them, for every input', () => {
  const base = { 'api-key': 'k', dataset: 'd', files: 'a' }

  it('takes a duration as 90, 90s, 5m, 1h30m or 1h 30m, and off or 0 where waiting is optional', () => {
    const cases: Array<[string, number]> = [
      ['90', 90],
      ['90s', 90],
      ['5m', 300],
      ['1h30m', 5400],
      ['1h 30m', 5400],
      ['2H', 7200],
    ]
    for (const [text, seconds] of cases) {
      expect(settingsFrom({ ...base, timeout: text }).timeoutSeconds, text).toBe(seconds)
      expect(settingsFrom({ ...base, 'wait-for-analysis': text }).waitForAnalysisSeconds).toBe(
        seconds,
      )
    }
    for (const off of ['0', 'off', 'false'])
      expect(settingsFrom({ ...base, 'wait-for-analysis': off }).waitForAnalysisSeconds).toBe(0)
    expect(problemsOf({ ...base, timeout: 'off' })).toContain(
      "input 'timeout' must be a duration such as 90s, 15m or 1h30m (a bare number is seconds), from 1s to 24h, got 'off'",
    )
    expect(problemsOf({ ...base, timeout: '25h' })).toContain("got '25h'")
    expect(problemsOf({ ...base, 'wait-for-analysis': '10 minutes' })).toContain(
      "input 'wait-for-analysis' must be a duration such as 90s, 15m or 1h30m (a bare number is seconds), at most 24h, or 0 for none, got '10 minutes'",
    )
  })

  it('takes a size as bytes, kB/MB/GB (by 1000) or KiB/MiB/GiB (by 1024)', () => {
    const cases: Array<[string, number]> = [
      ['5000000', 5_000_000],
      ['20MB', 20_000_000],
      ['20 MB', 20_000_000],
      ['20m', 20_000_000],
      ['1.5MB', 1_500_000],
      ['8MiB', 8 * 1024 * 1024],
      ['512kB', 512_000],
      ['1GiB', 2 ** 30],
    ]
    for (const [text, bytes] of cases)
      expect(settingsFrom({ ...base, 'chunk-size': text }).chunkSize, text).toBe(bytes)
    for (const bad of ['1000', '3GB', '20 lemons', '-1MB', 'MB'])
      expect(problemsOf({ ...base, 'chunk-size': bad }), bad).toContain(
        `input 'chunk-size' must be a size such as 20MB, 8MiB or 5000000 (a bare number is bytes; kB, MB, GB count by 1000, KiB, MiB, GiB by 1024), from 1024 to 2147483648 bytes, got '${bad}'`,
      )
  })
})

describe('messages that say what was given and what is accepted', () => {
  const base = { 'api-key': 'k', dataset: 'd', files: 'a' }

  it('api-url: names the instances and the forms accepted, and the nearest name', () => {
    const nonsense = problemsOf({ ...base, 'api-url': 'nonsense' })
    expect(nonsense).toContain(
      "input 'api-url': 'nonsense' is neither an instance name nor a URL. Accepted: an instance name, www (https://www.data.gouv.fr), demo (https://demo.data.gouv.fr), dev (https://dev.data.gouv.fr), or the https:// origin of a udata instance, optionally followed by /api/1",
    )
    expect(problemsOf({ ...base, 'api-url': 'demi' })).toContain(
      "'demi' is neither an instance name nor a URL (did you mean 'demo'?)",
    )
    expect(settingsFrom({ ...base, 'api-url': 'dev' }).apiUrl).toBe('https://dev.data.gouv.fr')
  })

  it('resources: a value of the wrong type is echoed', () => {
    const message = problemsOf({ ...base, resources: '- path: 3\n- {path: a.csv, title: [1, 2]}' })
    expect(message).toContain("input 'resources', entry resources[0].path: must be a string, got 3")
    expect(message).toContain(
      "input 'resources', entry resources[1].title: must be a string, got [1,2]",
    )
    expect(problemsOf({ ...base, resources: '42' })).toContain(
      'or a mapping path: resource-id, got 42',
    )
    const long = 'x'.repeat(400)
    expect(problemsOf({ ...base, resources: `- {path: a.csv, title: ${long}}` })).toContain(
      `must be at most 350 characters, got '${'x'.repeat(56)}… (402 characters)`,
    )
  })

  it('dataset-metadata: a mistyped key gets the nearest one', () => {
    expect(
      problemsOf({ ...base, 'dataset-metadata': 'licence: lov2\nfrequence: monthly' }),
    ).toMatch(
      /input 'dataset-metadata': unknown keys 'licence', 'frequence' \(accepted: title, [^)]*\); did you mean 'license' for 'licence', 'frequency' for 'frequence'\?/,
    )
  })

  it("names the inputs in the edge's words: the CLI's flags and variable", () => {
    const naming = {
      input: (name: string) => (name === 'api-key' ? 'THE_KEY' : `--${name}`),
      word: (name: string) => `--${name}`,
      given: (name: string, ...values: string[]) => `--${name} ${values.join('|')}`,
      set: (name: string, ...values: string[]) => `use --${name} ${values.join('|')}`,
    }
    let message = ''
    try {
      readSettings(
        (name) => ({ files: 'a', order: 'random', timeout: '5z' })[name as string] ?? '',
        {
          naming,
        },
      )
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('THE_KEY is required unless --dry-run is true')
    expect(message).toContain('--dataset is required')
    expect(message).toContain("--order must be one of 'keep', 'as-listed', got 'random'")
    expect(message).toContain('--timeout must be a duration')
    expect(message).not.toContain("input '")
    // The next run without a naming speaks the action's words again.
    expect(problemsOf({ files: 'a' })).toContain("input 'dataset' is required")
  })
})

describe('parseResources', () => {
  it('reads the list form in YAML and JSON', () => {
    const yaml = parseResources(`
- path: out/data.csv
  id: 54D47250-1DAF-483B-965A-3013F8C76617
  title: Données 2024
  type: main
  schema: etalab/schema-irve-statique
- out/other.json
`)
    expect(yaml).toEqual([
      {
        label: 'resources[0]',
        kind: 'file',
        path: 'out/data.csv',
        id: '54D47250-1DAF-483B-965A-3013F8C76617',
        title: 'Données 2024',
        type: 'main',
        schema: { name: 'etalab/schema-irve-statique' },
      },
      { label: 'resources[1]', kind: 'file', path: 'out/other.json' },
    ])
    expect(parseResources('[{"path": "a.csv", "description": "x"}]')).toEqual([
      { label: 'resources[0]', kind: 'file', path: 'a.csv', description: 'x' },
    ])
  })

  it('reads the shorthand mapping path: resource-id', () => {
    expect(parseResources('out/a.csv: 54d47250-1daf-483b-965a-3013f8c76617\nout/b.csv:')).toEqual([
      {
        label: "'out/a.csv'",
        kind: 'file',
        path: 'out/a.csv',
        id: '54d47250-1daf-483b-965a-3013f8c76617',
      },
      { label: "'out/b.csv'", kind: 'file', path: 'out/b.csv' },
    ])
  })

  it('names the entry and the field of every problem, with the accepted values', () => {
    let message = ''
    try {
      parseResources(`
- path: a.csv
  id: not-a-uuid
- path: b.csv
  type: primary
  titel: typo
- title: no path
`)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('entry resources[0].id: must be a resource id (a UUID')
    expect(message).toContain(
      'entry resources[1].type: must be one of main, documentation, update, api, code, other',
    )
    expect(message).toMatch(
      /entry resources\[1\]: unknown key 'titel' \(accepted: path, [^)]*\); did you mean 'title'\?/,
    )
    expect(message).toContain('entry resources[2].path: missing')
  })

  it('refuses what is neither YAML nor a list or mapping', () => {
    expect(() => parseResources('a: [b')).toThrow(/neither YAML nor JSON/)
    expect(() => parseResources('42')).toThrow(/must be a list of entries/)
    expect(() => parseResources('a.csv: {id: x}')).toThrow(
      /shorthand form maps a path to a resource id/,
    )
  })

  it('never throws anything but an InputError, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          const entries = parseResources(text)
          for (const entry of entries)
            expect((entry.kind === 'file' ? entry.path : entry.url).length).toBeGreaterThan(0)
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
        }
      }),
    )
  })
})
