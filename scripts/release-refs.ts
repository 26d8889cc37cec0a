/**
 * The references users copy, filled in from one place. package.json holds the repository
 * (`repository.url`: owner/name) and the version (whose major is the tag `uses:` lines name); the
 * GitHub actions the examples use (actions/checkout...) follow the majors the project's own
 * workflows pin. This rewrites README.md, CHANGELOG.md and CONTRIBUTING.md to match, and
 * src/version.ts to the version.
 *
 *   tsx scripts/release-refs.ts           # fill in
 *   tsx scripts/release-refs.ts --check   # exit 1 and name the files that differ (test/repository.test.ts)
 *
 * `npm version X.Y.Z` runs it (the `version` script of package.json), so a release bumps them all.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export const DOCUMENTS = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md'] as const

export interface References {
  /** `owner/name` on GitHub. */
  repository: string
  version: string
  /** Major tags of GitHub's actions, by name (`checkout` -> `v7`). */
  pinned: Map<string, string>
}

/** `git+https://github.com/owner/name.git` (or the `owner/name` shorthand) -> `owner/name`. */
export function repositoryOf(pkg: { repository?: string | { url?: string } }): string {
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url
  const match =
    /^(?:(?:git\+)?https:\/\/github\.com\/|github:)?([\w.-]+\/[\w.-]+?)(?:\.git)?$/.exec(url ?? '')
  if (!match?.[1])
    throw new Error(
      `package.json: repository must name a GitHub repository, got ${JSON.stringify(pkg.repository)}`,
    )
  return match[1]
}

/** `uses: actions/checkout@<sha> # v7.0.1` in the workflows -> checkout: v7. */
export function pinnedMajors(workflows: readonly string[]): Map<string, string> {
  const pinned = new Map<string, string>()
  for (const text of workflows) {
    for (const m of text.matchAll(
      /uses:\s*actions\/([\w.-]+)@[0-9a-f]{40}\s*#\s*(v\d+)(?:\.\d+)*/g,
    ))
      pinned.set(m[1] as string, m[2] as string)
  }
  return pinned
}

const ACTION_USES = /(uses:\s*)(?!actions\/)([\w.-]+\/[\w.-]+)@v\d+\b/g

/** The repositories the texts' `uses:` lines name for this action (GitHub's own `actions/` left out). */
export function namedRepositories(texts: readonly string[]): Set<string> {
  return new Set(
    texts.flatMap((text) => [...text.matchAll(ACTION_USES)].map((m) => m[2] as string)),
  )
}

/**
 * The text with every reference to this action (`uses: owner/name@vN`, `….git#vN` install URLs,
 * and any GitHub URL of a repository in `previous`, the names those lines held) pointing at
 * `repository` and the version's major tag, and every `actions/x@vN` at the major the workflows pin.
 */
export function fillReferences(
  text: string,
  refs: References,
  previous: ReadonlySet<string> = namedRepositories([text]),
): string {
  const major = `v${refs.version.split('.')[0] ?? '0'}`
  let out = text.replace(ACTION_USES, (_, lead: string) => `${lead}${refs.repository}@${major}`)
  for (const repo of previous) {
    if (repo !== refs.repository)
      out = out.split(`github.com/${repo}`).join(`github.com/${refs.repository}`)
  }
  // `npm install -g git+https://github.com/owner/name.git#v1`: the CLI of the same release.
  out = out.replace(/(github\.com\/[\w.-]+\/[\w.-]+\.git)#v\d+\b/g, `$1#${major}`)
  return out.replace(/\bactions\/([\w.-]+)@v\d+\b/g, (whole, name: string) => {
    const pin = refs.pinned.get(name)
    return pin === undefined ? whole : `actions/${name}@${pin}`
  })
}

export function currentReferences(): References {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string
    repository?: string | { url?: string }
  }
  const dir = path.join(root, '.github/workflows')
  const workflows = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
  return { repository: repositoryOf(pkg), version: pkg.version, pinned: pinnedMajors(workflows) }
}

/** Every file this fills in, with its text now and as it should be. */
export function expectedFiles(
  refs = currentReferences(),
): Array<{ file: string; now: string; expected: string }> {
  const texts = DOCUMENTS.map((file): { file: string; now: string } => ({
    file,
    now: readFileSync(path.join(root, file), 'utf8'),
  }))
  const previous = namedRepositories(texts.map((t) => t.now))
  const files = texts.map(({ file, now }) => ({
    file,
    now,
    expected: fillReferences(now, refs, previous),
  }))
  const versionFile = 'src/version.ts'
  const now = readFileSync(path.join(root, versionFile), 'utf8')
  files.push({
    file: versionFile,
    now,
    expected: now.replace(/(export const VERSION = )'[^']*'/, `$1'${refs.version}'`),
  })
  return files
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const differing = expectedFiles().filter((f) => f.now !== f.expected)
  if (process.argv.includes('--check')) {
    for (const f of differing)
      console.error(
        `${f.file} does not match package.json and the workflows: run tsx scripts/release-refs.ts`,
      )
    process.exitCode = differing.length > 0 ? 1 : 0
  } else {
    for (const f of differing) {
      writeFileSync(path.join(root, f.file), f.expected)
      console.log(`${f.file}: references filled in`)
    }
  }
}
