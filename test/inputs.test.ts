import * as core from '@actions/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  INPUT_NAMES,
  INPUTS,
  InputError,
  parseResources,
  readSettings,
  type InputName,
} from '../src/engine/inputs.js'

/** Inputs go through the real core.getInput, as the runner provides them (INPUT_<NAME>, hyphens kept). */
function settingsFrom(inputs: Partial<Record<InputName, string>>) {
  for (const name of INPUT_NAMES) vi.stubEnv(`INPUT_${name.toUpperCase()}`, inputs[name] ?? '')
  return readSettings((name) => core.getInput(name))
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
      'if-no-files-found': 'fail',
      'dry-run': 'yes',
      'chunk-size': '20MB',
      concurrency: '0',
    })
    expect(message).toContain("input 'api-key' is required unless 'dry-run' is true")
    expect(message).toContain(
      "input 'if-no-files-found' must be one of 'error', 'warn', 'ignore', got 'fail'",
    )
    expect(message).toContain("input 'dry-run' must be 'true' or 'false', got 'yes'")
    expect(message).toContain("input 'chunk-size' must be a whole number of bytes from 1024")
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
    expect(message).toContain(
      "entry resources[1]: unknown key 'titel' (accepted: path, id, title, description, type, schema, extras)",
    )
    expect(message).toContain('entry resources[2].path')
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
