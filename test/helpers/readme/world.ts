/**
 * The table that turns the README's examples into runs (test/readme.test.ts): what stands in for
 * data.gouv.fr, the secrets, the repository the workflows check out and the build it runs, the
 * events that trigger them, the remote sites they link, and what each placeholder becomes. An
 * example that needs something this table lacks fails, naming what: add it here, with why.
 *
 * Instead of rewriting the README's names, the emulators are seeded WITH them: the datasets
 * `mon-jeu-de-donnees`, `5bc04b2cff66bd680e499f4a`, the resource `54d47250-…`, the organization
 * `5a7b3c2d1e0f9a8b7c6d5e4f` exist under those ids and slugs. What is replaced is listed in
 * `API_URLS`, `SECRETS`, `GITLAB_VARIABLES` and `SUBSTITUTIONS`, plus one rule: an emulator a
 * README line starts (`npx udata-emulator`, port 8080 as written) listens on a free port, and
 * its written address is replaced by the real one in the lines after it (scene.ts). GitHub's REST
 * API (the pull request's comments) is a stand-in in memory (scene.ts `githubApi`).
 */
import type { SeedFile } from '../../../emulator/seed.js'
import { currentReferences } from '../../../scripts/release-refs.js'

/** The keys of the seeded users; the examples see them only through `SECRETS` and `SUBSTITUTIONS`. */
const KEYS = {
  www: 'readme-www-key',
  /** The owner of the dataset a community resource is published on: not the key's user. */
  wwwOther: 'readme-other-owner-key',
  demo: 'readme-demo-key',
}

/** The seeded users' ids (24 hex digits, as udata's). */
const USERS = {
  www: '64b0c0ffee0000000000a001',
  wwwOther: '64b0c0ffee0000000000a002',
  demo: '64b0c0ffee0000000000d001',
}

const OLD_CSV = 'mois,region,ventes\n2019-01,Bretagne,999\n'

/**
 * The data.gouv.fr instances, by the names `api-url` takes (`www`, the default, and `demo`), each
 * an emulator started from this seed (emulator/README.md, "Seed format"), the analyser on.
 */
export const INSTANCES: Readonly<Record<string, SeedFile>> = {
  www: {
    users: [
      { id: USERS.www, apiKey: KEYS.www, firstName: 'Pub', lastName: 'Lisher' },
      { id: USERS.wwwOther, apiKey: KEYS.wwwOther, firstName: 'Base', lastName: 'Adresse' },
    ],
    organizations: [
      {
        // create-dataset's `organization`: one the key's user belongs to.
        id: '5a7b3c2d1e0f9a8b7c6d5e4f',
        name: 'Ministère des Exemples',
        members: [{ user: KEYS.www, role: 'admin' }],
      },
    ],
    datasets: [
      {
        owner: USERS.www,
        slug: 'mon-jeu-de-donnees',
        title: 'Mon jeu de données',
        resources: [
          { filename: 'ventes.csv', content: OLD_CSV, title: 'Ventes mensuelles' },
          { filename: 'regions.csv', content: 'code\n53\n', title: 'Régions' },
          { filename: 'ventes-2019.csv', content: OLD_CSV, title: 'Ventes 2019' },
          {
            id: '0f9f5c1e-4b8a-4c39-8a6e-2f3a9b0c1d2e',
            filename: 'ancien-export.csv',
            content: OLD_CSV,
          },
          {
            id: '7b1c0e52-2d4b-4a55-9d9b-4c3f4a3c2a10',
            url: 'https://files.example.org/stations.geojson',
            title: 'Stations',
          },
        ],
      },
      {
        owner: USERS.www,
        id: '5bc04b2cff66bd680e499f4a',
        slug: 'ventes-mensuelles',
        title: 'Ventes mensuelles',
        resources: [
          {
            id: '54d47250-1daf-483b-965a-3013f8c76617',
            filename: 'ventes.csv',
            content: OLD_CSV,
            title: 'Ventes',
          },
        ],
      },
      { owner: USERS.www, slug: 'ventes-regionales', title: 'Ventes régionales' },
      // Someone else's dataset: the community resources example publishes on it.
      { owner: USERS.wwwOther, slug: 'base-adresse-nationale', title: 'Base Adresse Nationale' },
    ],
    analyser: { delayMs: 200 },
  },
  demo: {
    users: [{ id: USERS.demo, apiKey: KEYS.demo }],
    datasets: [{ owner: USERS.demo, slug: 'mon-jeu-de-donnees-demo', title: 'Mon jeu (démo)' }],
    analyser: { delayMs: 200 },
  },
}

/**
 * `api-url` as an example writes it (absent: www, the default) -> the instance that answers. Every
 * action step and CLI command gets the emulator's URL instead: absent, it is added.
 */
export const API_URLS: Readonly<Record<string, string>> = {
  '': 'www',
  www: 'www',
  'https://www.data.gouv.fr': 'www',
  demo: 'demo',
  'https://demo.data.gouv.fr': 'demo',
}

/** `${{ secrets.X }}`. */
export const SECRETS: Readonly<Record<string, string>> = {
  DATAGOUV_API_KEY: KEYS.www,
  DATAGOUV_DEMO_API_KEY: KEYS.demo,
}

/** The CI/CD variables of the GitLab example's project. */
export const GITLAB_VARIABLES: Readonly<Record<string, string>> = {
  DATASET: 'mon-jeu-de-donnees',
  DATAGOUV_API_KEY: KEYS.www,
}

/** Text of a shell block replaced before it runs: a value the reader fills in. */
export const SUBSTITUTIONS: ReadonlyArray<{ text: string; by: string; why: string }> = [
  {
    text: 'DATAGOUV_API_KEY=...',
    by: `DATAGOUV_API_KEY=${KEYS.www}`,
    why: "the reader's key, from their profile page",
  },
]

/**
 * The repository the workflows check out (`actions/checkout`): a build that stands for the
 * examples' own (`make data`, `make dist/ventes.csv`, `./export.sh [region]`), a notice, and the
 * `@publish.yml` the CLI example reads. Paths -> content; `export.sh` is executable.
 */
export const CHECKOUT: Readonly<Record<string, string>> = {
  Makefile: [
    "# Stands for the examples' build: `make data` (out/*.csv), `make dist/ventes.csv`, and",
    '# `make all`, everything the examples publish.',
    '.PHONY: all data',
    'all: data dist/ventes.csv out/adresses-geocodees.parquet',
    '\t./export.sh',
    'data:',
    '\tmkdir -p out',
    "\tprintf 'mois,region,ventes\\n2026-01,Bretagne,1203\\n2026-02,Bretagne,1187\\n' > out/ventes.csv",
    "\tprintf 'code,region\\n53,Bretagne\\n76,Occitanie\\n' > out/regions.csv",
    'dist/ventes.csv:',
    '\tmkdir -p dist',
    "\tprintf 'mois,ventes\\n2026-01,1203\\n' > dist/ventes.csv",
    'out/adresses-geocodees.parquet:',
    '\tmkdir -p out',
    "\tprintf 'PAR1 (the columns of a parquet file) PAR1' > out/adresses-geocodees.parquet",
    '',
  ].join('\n'),
  'export.sh': [
    '#!/bin/sh',
    '# With a region: its sales as CSV on stdout. Without: the nightly export into export/.',
    'set -e',
    'if [ $# -gt 0 ]; then printf \'mois,region,ventes\\n2026-01,%s,%d\\n\' "$1" "${#1}"; exit 0; fi',
    'mkdir -p export',
    "printf 'mois,region,ventes\\n2026-01,Bretagne,1203\\n' > export/ventes.csv",
    'printf \'{"type": "FeatureCollection", "features": []}\\n\' > export/stations-2026.geojson',
    '',
  ].join('\n'),
  'docs/notice.pdf': '%PDF-1.4\n% the notice of the dataset\n%%EOF\n',
  'publish.yml': [
    '- path: out/ventes.csv',
    '  title: Ventes mensuelles',
    '- path: out/regions.csv',
    '  title: Régions',
    '  type: documentation',
    '',
  ].join('\n'),
}

/** Files of `CHECKOUT` made executable. */
export const EXECUTABLE = new Set(['export.sh'])

/** A block of steps alone stands in a job after these: the checkout and the whole build. */
export const PREAMBLE: ReadonlyArray<Record<string, unknown>> = [
  { uses: 'actions/checkout@v7' },
  { run: 'make all' },
]

/** The repository and the run the `github` context describes. */
export const RUN = {
  repository: 'example/ventes',
  sha: '2b5e1f0c9a7d4e3b8c6a1f0e9d8c7b6a5f4e3d2c',
  runId: '4242',
  workflow: 'publish',
  /** `github.token`, the workflow's token: what GitHub's API stand-in (scene.ts) accepts. */
  token: 'ghs_readme-workflow-token',
}

/** What each trigger (the first of a workflow's `on`; `push` for a block of steps) delivers. */
export const EVENTS: Readonly<Record<string, { ref: string; payload: Record<string, unknown> }>> = {
  push: { ref: 'refs/heads/main', payload: { ref: 'refs/heads/main' } },
  release: {
    ref: 'refs/tags/v1.4.0',
    payload: {
      action: 'published',
      release: {
        tag_name: 'v1.4.0',
        name: 'v1.4.0',
        draft: false,
        prerelease: false,
        html_url: `https://github.com/${RUN.repository}/releases/tag/v1.4.0`,
      },
    },
  },
  pull_request: {
    ref: 'refs/pull/12/merge',
    payload: {
      action: 'synchronize',
      number: 12,
      pull_request: {
        number: 12,
        head: {
          ref: 'nouvel-export',
          sha: '9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
          repo: { full_name: RUN.repository },
        },
        base: { ref: 'main', sha: RUN.sha, repo: { full_name: RUN.repository } },
        html_url: `https://github.com/${RUN.repository}/pull/12`,
      },
    },
  },
  schedule: { ref: 'refs/heads/main', payload: { schedule: '17 3 * * *' } },
  workflow_dispatch: { ref: 'refs/heads/main', payload: { inputs: {} } },
}

/**
 * The remote files the examples link, as their servers answer (HEAD, or GET of a range): undici's
 * MockAgent stands for those hosts, the emulators are reached for real.
 */
export const REMOTES: Readonly<Record<string, { type: string; etag: string; body: string }>> = {
  'https://api.example.org/v1/ventes': {
    type: 'application/json',
    etag: '"ventes-v1"',
    body: '[{"mois": "2026-01", "ventes": 1203}]',
  },
  'https://files.example.org/stations.geojson': {
    type: 'application/geo+json',
    etag: '"stations-v7"',
    body: '{"type": "FeatureCollection", "features": []}',
  },
}

/** A command line not run in process, and what is checked instead. */
export interface CommandRule {
  /** The command's words as written, joined by one space. */
  match: RegExp
  /** Why it does not run here, and where it does. */
  why: string
  /** What can be checked of it here; throws when it does not hold. */
  check(words: string[]): void
  /** Run for real by test/bundle/readme.test.ts (it spawns the bundles). */
  bundle?: true
}

/** The commands that neither publish nor run an emulator nor are plain shell. */
export function commandRules(scripts: Readonly<Record<string, string>>): CommandRule[] {
  const { repository, version } = currentReferences()
  const release = `git+https://github.com/${repository}.git#v${version.split('.')[0]}`
  const script = (name: string, expected: string): void => {
    if (!(scripts[name] ?? '').includes(expected))
      throw new Error(`package.json has no script '${name}' running ${expected}`)
  }
  return [
    {
      match: /^npm ci$/,
      why: 'installs the dev dependencies of a clone: the tests run after it (.ci/run starts with it)',
      check: () => script('test', 'vitest run'),
    },
    {
      match: /^npm test$/,
      why: 'runs this test, among the others',
      check: () => script('test', 'vitest run'),
    },
    {
      match: /^npm run demo$/,
      why: 'runs the bundled action as the runner does: test/bundle/readme.test.ts runs it',
      check: () => script('demo', 'scripts/demo.ts'),
      bundle: true,
    },
    {
      match: /^npm install( -g)? (\S+)$/,
      why:
        'fetches a release from GitHub: test/bundle/package.test.ts installs the packed tarball ' +
        'the same way, runs every bin, and the five-minute section with them',
      check: (words) => {
        if (words.at(-1) !== release)
          throw new Error(`installs ${words.at(-1) ?? ''}, not this release (${release})`)
      },
    },
  ]
}

/** The settings of a section whose examples differ from the rest. */
export interface SectionSpec {
  /**
   * Why its examples cannot run here (a real proxy, say): its action steps' inputs are then only
   * checked by the action's validation (workflow.ts `checkWithoutRunning`), its shell lines only
   * parsed.
   */
  notRun?: string
  /**
   * The warnings its action steps may give (`::warning::`), each with why the example still does
   * what it says; any other fails the example.
   */
  warnings?: ReadonlyArray<{ match: RegExp; why: string }>
  /** No instance of `INSTANCES`: the section starts its own emulator. */
  ownEmulator?: true
  /** Its shell blocks start in an empty folder, not in a built checkout. */
  emptyFolder?: true
}

/** By heading. */
export const SECTIONS: Readonly<Record<string, SectionSpec>> = {
  'CLI + local emulator in five minutes': { ownEmulator: true, emptyFolder: true },
  'Remote resources, metadata and removals': {
    warnings: [
      {
        match: /dataset-metadata changes the title of dataset 'mon-jeu-de-donnees'/,
        why: 'the example retitles the dataset, which gives it a new slug: the run says so',
      },
    ],
  },
}
