/**
 * The bundled action (dist/index.js) on a pull request, as the runner runs it: the event payload
 * in GITHUB_EVENT_PATH, GITHUB_API_URL at a stand-in of GitHub's REST API (test/helpers/github.ts),
 * the token as the `github-token` input. The octokit the comment needs is a chunk of its own
 * (dist/<id>.index.js) loaded only then: this is where its loading is exercised.
 */
import { afterEach, expect, it } from 'vitest'
import { fixture, type Fixture } from '../helpers/fixture.js'
import { startGitHub, type GitHubStandIn } from '../helpers/github.js'

let f: Fixture
let github: GitHubStandIn
afterEach(async () => {
  await f?.close()
  await github?.close()
})

it('a dry run on a pull request leaves one comment with the plan and the data diff, updated on the next push', async () => {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, {
    filename: 'sales.csv',
    content: 'id,sales\n1,10\n2,20\n',
    title: 'Sales',
  })
  await f.write('sales.csv', 'id,sales\n1,10\n2,25\n3,30\n')
  github = await startGitHub()
  const inputs = { files: 'sales.csv', 'dry-run': 'true', 'api-key': '' }

  const first = await f.runBundle(inputs, await github.pullRequest(3, { headSha: 'aaaaaaa111' }))
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
  const second = await f.runBundle(inputs, await github.pullRequest(3, { headSha: 'bbbbbbb222' }))
  expect(second.code, second.stdout + second.stderr).toBe(0)
  expect(github.comments(3).map((c) => c.id)).toEqual([comment?.id])
  expect(github.comments(3)[0]?.body).toContain('2 -> 1 rows: +0 added, -1 removed')
  expect(github.comments(3)[0]?.body).toContain('for bbbbbbb')
  expect(second.everything.replace(`::add-mask::${github.token}`, '')).not.toContain(github.token)
})
