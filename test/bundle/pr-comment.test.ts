/**
 * The bundled action (dist/index.js) on a pull request, as the runner runs it: the event payload
 * in GITHUB_EVENT_PATH, GITHUB_API_URL at a stand-in of GitHub's REST API (test/helpers/github.ts),
 * the token as the `github-token` input. The octokit the comment needs is a chunk of its own
 * (dist/<id>.index.js) loaded only then: this is where its loading is exercised, and where a
 * publication that writes no comment is shown not to load it.
 */
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { DIST, runAction } from '../../scripts/run-action.js'
import { fixture, type Fixture } from '../helpers/fixture.js'
import { startGitHub, type GitHubStandIn } from '../helpers/github.js'

let f: Fixture
let github: GitHubStandIn
let copy: string | undefined
afterEach(async () => {
  await f?.close()
  await github?.close()
  if (copy !== undefined) await rm(copy, { recursive: true, force: true })
  copy = undefined
})

/** A dataset holding sales.csv, a local sales.csv that changes it, and the GitHub stand-in. */
async function salesFixture(local: string): Promise<void> {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, {
    filename: 'sales.csv',
    content: 'id,sales\n1,10\n2,20\n',
    title: 'Sales',
  })
  await f.write('sales.csv', local)
  github = await startGitHub()
}

/** A pull request's dry run: no key. */
const DRY_RUN = { files: 'sales.csv', 'dry-run': 'true', 'api-key': '' }

it('a dry run on a pull request leaves one comment with the plan and the data diff, updated on the next push', async () => {
  await salesFixture('id,sales\n1,10\n2,25\n3,30\n')

  const first = await f.runBundle(DRY_RUN, await github.pullRequest(3, { headSha: 'aaaaaaa111' }))
  expect(first.code, first.stdout + first.stderr).toBe(0)
  expect(first.stderr).toBe('')
  const [comment, ...more] = github.comments(3)
  expect(more).toEqual([])
  expect(comment?.body).toContain('### Dry run: plan for [Test dataset]')
  expect(comment?.body).toContain(
    '**`sales.csv`** → Sales: 2 -> 3 rows: +1 added, -0 removed, ~1 changed, 1 unchanged (key id, the first column)',
  )
  expect(comment?.body).toContain('| ~ | 2 | 20 → 25 |')
  expect(JSON.parse(first.outputs.diff ?? '[]')).toHaveLength(1)

  await f.write('sales.csv', 'id,sales\n1,10\n')
  const second = await f.runBundle(DRY_RUN, await github.pullRequest(3, { headSha: 'bbbbbbb222' }))
  expect(second.code, second.stdout + second.stderr).toBe(0)
  expect(github.comments(3).map((c) => c.id)).toEqual([comment?.id])
  expect(github.comments(3)[0]?.body).toContain('2 -> 1 rows: +0 added, -1 removed')
  expect(github.comments(3)[0]?.body).toContain('for bbbbbbb')
  expect(second.everything.replace(`::add-mask::${github.token}`, '')).not.toContain(github.token)
})

it("a fork's read-only token: a warning naming why, the diff in the job summary, and the step succeeds", async () => {
  await salesFixture('id,sales\n1,10\n2,25\n')
  github.readOnly = true

  const run = await f.runBundle(DRY_RUN, await github.pullRequest(4, { fork: true }))

  expect(run.code, run.stdout + run.stderr).toBe(0)
  expect(github.comments(4)).toEqual([])
  expect(github.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 403'])
  expect(run.stdout).toMatch(
    /^::warning::comment-on-pr: could not comment on pull request #4: Resource not accessible by integration \(a pull request from a fork gets a read-only token\); the plan and the data diff are in the job summary$/m,
  )
  expect(run.summary).toContain('#### What the uploads would change in the data')
  expect(run.summary).toContain('| ~ | 2 | 20 → 25 |')
})

it("a publication that writes no comment never loads octokit: it runs with the comment's chunks gone", async () => {
  await salesFixture('id,sales\n1,10\n2,25\n')
  // The chunks that hold octokit, and only them, taken out of a copy of dist/.
  const dist = path.dirname(DIST)
  const chunks: string[] = []
  for (const name of await readdir(dist))
    if (
      /^\d+\.index\.js$/.test(name) &&
      (await readFile(path.join(dist, name), 'utf8')).includes('@octokit')
    )
      chunks.push(name)
  expect(chunks.length).toBeGreaterThan(0)
  expect(await readFile(DIST, 'utf8')).not.toContain('@octokit')
  copy = await mkdtemp(path.join(tmpdir(), 'dist-without-octokit-'))
  await cp(dist, copy, {
    recursive: true,
    filter: (source) => !chunks.includes(path.basename(source)),
  })
  const inputs = {
    'api-url': f.emulator.url,
    dataset: f.dataset.id,
    provenance: 'false',
    ...DRY_RUN,
  }
  const options = { cwd: f.workspace, script: path.join(copy, 'index.js') }

  const plain = await runAction(inputs, options)
  expect(plain.code, plain.stdout + plain.stderr).toBe(0)
  expect(plain.stdout).not.toContain('::warning::')
  expect(plain.summary).toContain('~1 changed')

  // The same build on a pull request needs them: the comment fails, as a warning only.
  const pr = await runAction(inputs, { ...options, env: await github.pullRequest(5) })
  expect(pr.code, pr.stdout + pr.stderr).toBe(0)
  expect(pr.stdout).toMatch(/^::warning::comment-on-pr: could not comment on pull request #5: /m)
  expect(github.requests).toEqual([])
})
