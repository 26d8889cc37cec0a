/**
 * `comment-on-pr`: the action (in process, helpers/runner.ts) run as on a pull request — the
 * event payload in GITHUB_EVENT_PATH, GITHUB_API_URL pointing at a stand-in of GitHub's REST API
 * (helpers/github.ts) — against the emulator: one comment per publication, holding the plan and
 * the data diff, updated in place on the next push; a read-only token is a warning, never a
 * failure. test/bundle/pr-comment.test.ts runs the same with the bundle.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, type Fixture } from './helpers/fixture.js'
import { startGitHub, type GitHubStandIn } from './helpers/github.js'

let f: Fixture
let github: GitHubStandIn
afterEach(async () => {
  await f?.close()
  await github?.close()
})

const SALES_V1 = 'year,region,sales\n2023,north,10\n2023,south,20\n2024,north,30\n'
const SALES_V2 = 'year,region,sales\n2023,north,10\n2023,south,25\n2025,north,40\n'

/** A dataset holding sales.csv, and a pull request that changes it. */
async function pullRequestFixture(): Promise<void> {
  f = await fixture()
  f.emulator.addFileResource(f.dataset.id, {
    filename: 'sales.csv',
    content: SALES_V1,
    title: 'Sales by year',
  })
  await f.write('out/sales.csv', SALES_V2)
  github = await startGitHub()
}

/** A dry run without a key, as a pull request's workflow runs it. */
const DRY_RUN = { files: 'out/sales.csv', 'dry-run': 'true', 'api-key': '' }

describe('on a pull request', () => {
  it('a dry run without a key leaves one comment with the plan and the data diff; the next push updates it in place', async () => {
    await pullRequestFixture()
    const first = await f.run(DRY_RUN, await github.pullRequest(7, { headSha: '1111111aaaa' }))

    expect(first.code, first.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    // No key anywhere: the plan of a public dataset needs none.
    expect(f.emulator.requests.filter((r) => 'x-api-key' in r.headers)).toEqual([])
    const [comment, ...more] = github.comments(7)
    expect(more).toEqual([])
    expect(comment?.body).toContain('<!-- datagouv-publish-action comment: ')
    expect(comment?.body).toContain('### Dry run: plan for [Test dataset]')
    expect(comment?.body).toContain('| `out/sales.csv` | [Sales by year]')
    expect(comment?.body).toContain('#### What the uploads would change in the data')
    expect(comment?.body).toContain(
      '3 -> 3 rows: +2 added, -2 removed, 1 unchanged (rows compared by content)',
    )
    expect(comment?.body).toContain('| + | 2023 | south | 25 |')
    expect(comment?.body).toContain('| − | 2024 | north | 30 |')
    expect(comment?.body).toContain('for 1111111')
    expect(first.summary).toContain('#### What the uploads would change in the data')
    expect(first.stdout).toMatch(/^Comment created on pull request #7: https:\/\/github.com\//m)

    // The next push: the file changes again; the same comment now says so.
    await f.write('out/sales.csv', `${SALES_V2}2025,south,50\n`)
    const second = await f.run(DRY_RUN, await github.pullRequest(7, { headSha: '2222222bbbb' }))

    expect(second.code, second.stdout).toBe(0)
    const after = github.comments(7)
    expect(after.map((c) => c.id)).toEqual([comment?.id])
    expect(after[0]?.body).toContain('3 -> 4 rows: +3 added, -2 removed, 1 unchanged')
    expect(after[0]?.body).toContain('for 2222222')
    expect(second.stdout).toMatch(/^Comment updated on pull request #7/m)
    expect(github.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 200',
      'POST 201',
      'GET 200',
      'PATCH 200',
    ])
    expect(second.everything.replace(`::add-mask::${github.token}`, '')).not.toContain(github.token)
  })

  it("with a fork's read-only token: a warning, the summary, and the step does not fail", async () => {
    await pullRequestFixture()
    github.readOnly = true
    const run = await f.run(DRY_RUN, await github.pullRequest(8, { fork: true }))

    expect(run.code, run.stdout).toBe(0)
    expect(github.comments(8)).toEqual([])
    expect(run.stdout).toMatch(
      /^::warning::comment-on-pr: could not comment on pull request #8: Resource not accessible by integration \(a pull request from a fork gets a read-only token\); the plan and the data diff are in the job summary$/m,
    )
    expect(run.summary).toContain('#### What the uploads would change in the data')
  })

  it('a private dataset without a key: not found, and the comment and the error say a key is needed', async () => {
    await pullRequestFixture()
    const secret = f.emulator.addDataset({
      slug: 'secret',
      title: 'Secret',
      owner: f.userId,
      private: true,
    })
    f.emulator.addFileResource(secret.id, { filename: 'sales.csv', content: SALES_V1 })
    const run = await f.run({ ...DRY_RUN, dataset: 'secret' }, await github.pullRequest(14))

    expect(run.code).toBe(1)
    const why =
      "input 'dataset': no dataset 'secret' on " +
      `${f.emulator.url} (or it is private: without 'api-key' only public datasets can be read)`
    expect(run.stdout).toContain(why)
    expect(github.comments(14)[0]?.body).toContain(why)
    expect(f.writes()).toEqual([])
  })

  it("a read-only token on the repository's own pull request: the warning says why, Dependabot's or the job's permissions", async () => {
    await pullRequestFixture()
    github.readOnly = true
    const dependabot = await f.run(
      DRY_RUN,
      await github.pullRequest(15, { author: 'dependabot[bot]' }),
    )
    expect(dependabot.code, dependabot.stdout).toBe(0)
    expect(dependabot.stdout).toContain(
      "::warning::comment-on-pr: could not comment on pull request #15: Resource not accessible by integration (Dependabot's pull requests get a read-only token); the plan and the data diff are in the job summary",
    )
    const mine = await f.run(DRY_RUN, await github.pullRequest(16))
    expect(mine.code, mine.stdout).toBe(0)
    expect(mine.stdout).toContain(
      "could not comment on pull request #16: Resource not accessible by integration (the token may not write: give the job 'permissions: pull-requests: write')",
    )
  })

  it('finds its comment among many (pages of 100), updates the oldest of two raced ones and deletes the other', async () => {
    await pullRequestFixture()
    for (let i = 0; i < 120; i++) github.addComment(9, `review comment ${i}`)
    const env = await github.pullRequest(9)
    await f.run(DRY_RUN, env)
    const ours = github.comments(9).filter((c) => c.body.includes('datagouv-publish-action'))
    expect(ours).toHaveLength(1)
    // Another run raced this one and created its own.
    const raced = github.addComment(9, ours[0]?.body ?? '', 'github-actions[bot]')

    const run = await f.run(DRY_RUN, env)

    expect(run.code, run.stdout).toBe(0)
    const now = github.comments(9)
    expect(now).toHaveLength(121)
    expect(now.filter((c) => c.body.includes('datagouv-publish-action')).map((c) => c.id)).toEqual([
      ours[0]?.id,
    ])
    expect(now.map((c) => c.id)).not.toContain(raced.id)
    expect(run.stdout).toMatch(/Comment updated on pull request #9: .* \(1 duplicate deleted\)/)
  })

  it('one comment per dataset: two publications in one pull request keep theirs apart', async () => {
    await pullRequestFixture()
    const other = f.emulator.addDataset({ slug: 'other', title: 'Other', owner: f.userId })
    const env = await github.pullRequest(10)
    await f.run(DRY_RUN, env)
    await f.run({ ...DRY_RUN, dataset: other.id, 'create-missing': 'true' }, env)
    await f.run(DRY_RUN, env)

    const bodies = github.comments(10).map((c) => c.body)
    expect(bodies).toHaveLength(2)
    expect(bodies[0]).toContain('plan for [Test dataset]')
    expect(bodies[1]).toContain('plan for [Other]')
  })

  it('a preflight that stops is reported in the comment too, and the step fails for it, not for the comment', async () => {
    await pullRequestFixture()
    const run = await f.run(
      { ...DRY_RUN, files: 'out/sales.csv\nmissing/*.csv' },
      await github.pullRequest(11),
    )

    expect(run.code).toBe(1)
    expect(github.comments(11)[0]?.body).toContain('### Nothing published to [Test dataset]')
  })
})

describe('when no comment is asked for', () => {
  it('comments on no other event (auto), and never with comment-on-pr: false', async () => {
    await pullRequestFixture()
    const push = { ...(await github.pullRequest(12)), GITHUB_EVENT_NAME: 'push' }
    expect((await f.run(DRY_RUN, push)).code).toBe(0)
    const off = await f.run({ ...DRY_RUN, 'comment-on-pr': 'false' }, await github.pullRequest(12))
    expect(off.code).toBe(0)
    expect(github.requests).toEqual([])
  })

  it('comment-on-pr: true on an event without a pull request: a warning, no failure', async () => {
    await pullRequestFixture()
    const run = await f.run(
      { ...DRY_RUN, 'comment-on-pr': 'true' },
      { GITHUB_EVENT_NAME: 'push', GITHUB_API_URL: github.url },
    )
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain(
      "::warning::comment-on-pr: the event 'push' names no pull request: no comment written",
    )
    expect(github.requests).toEqual([])
  })

  it('without a token (outside a workflow the default is not substituted): a warning', async () => {
    await pullRequestFixture()
    const env = await github.pullRequest(13)
    const run = await f.run(DRY_RUN, { ...env, 'INPUT_GITHUB-TOKEN': '${{ github.token }}' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain(
      '::warning::comment-on-pr: no github-token to comment on pull request #13',
    )
    expect(github.requests).toEqual([])
  })

  it('rejects a comment-on-pr that is not auto, true or false, naming the input and the values', async () => {
    await pullRequestFixture()
    const run = await f.run({ ...DRY_RUN, 'comment-on-pr': 'yes' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "input 'comment-on-pr' must be one of 'auto', 'true', 'false', got 'yes'",
    )
  })
})
