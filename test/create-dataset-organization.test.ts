/**
 * `create-dataset` into an organization, as the README's example runs it: `organization` in
 * `dataset-metadata`, through the action and the CLI, in a dry run and for real. The plan, the log
 * and the summary say plainly that the dataset will be, or was, created, and by whom it is owned;
 * a key whose owner is not a member of the organization is refused before any write.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, type Fixture } from './helpers/fixture.js'
import { runCli as cli } from './helpers/run-cli.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const SLUG = 'prix-des-carburants-2026'

async function withOrganization(): Promise<{ orgId: string; metadata: string }> {
  f = await fixture()
  await f.write('out/prix.csv', 'a,b\n1,2\n')
  const org = f.emulator.addOrganization({
    name: 'Ministère de la Transition',
    members: [{ user: f.userId, role: 'editor' }],
  })
  const metadata = [
    'title: Prix des carburants 2026',
    'description: Relevés quotidiens.',
    `organization: ${org.id}`,
    'frequency: daily',
  ].join('\n')
  return { orgId: org.id, metadata }
}

describe('create-dataset into an organization', () => {
  it('through the action: the dry run says the dataset will be created, the run that it was', async () => {
    const { orgId, metadata } = await withOrganization()
    const inputs = {
      dataset: SLUG,
      'create-dataset': 'true',
      'dataset-metadata': metadata,
      files: 'out/*.csv',
    }

    const dry = await f.run({ ...inputs, 'dry-run': 'true' })
    expect(dry.code, dry.stdout).toBe(0)
    const owner = `owned by organization ${orgId}`
    expect(dry.stdout).toContain(
      `Dataset '${SLUG}': no dataset '${SLUG}' exists: it will be created from dataset-metadata, ${owner}`,
    )
    expect(dry.stdout).toMatch(/^ {2}create +dataset +\(new\) +no dataset .* it will be created/m)
    // The creation carries the metadata: no separate step for it, in the plan or the results.
    expect(dry.stdout).not.toMatch(/skip +dataset-metadata/)
    expect(dry.stdout).not.toMatch(/planned: update/)
    expect(dry.stdout).toMatch(/^dataset +\(new\) +planned: create +no dataset/m)
    expect(dry.summary).toContain('(to be created by this run)')
    expect(dry.summary).toContain(`Dataset: **planned: create**: no dataset '${SLUG}' exists`)
    expect(dry.summary).not.toContain('Dataset metadata:')
    expect(dry.outputs['dataset-created']).toBe('false')
    expect(f.writes()).toEqual([])

    const run = await f.run(inputs)
    expect(run.code, run.stdout).toBe(0)
    const id = run.outputs['dataset-id'] as string
    expect(f.emulator.getDataset(id)).toMatchObject({ slug: SLUG, organization: orgId })
    expect(run.stdout).toMatch(
      new RegExp(`^dataset +${id} +created +no dataset '${SLUG}' existed`, 'm'),
    )
    expect(run.summary).toContain('(created by this run)')
    expect(run.summary).toContain(
      `Dataset: **created**: no dataset '${SLUG}' existed: created from dataset-metadata, ${owner}`,
    )
    expect(run.summary).not.toContain('Dataset metadata:')
    expect(run.outputs).toMatchObject({ 'dataset-created': 'true', 'uploaded-count': '1' })

    // The next run finds it by its slug and creates nothing.
    const again = await f.run(inputs)
    expect(again.outputs).toMatchObject({ 'dataset-created': 'false', 'dataset-id': id })
    expect(again.stdout).not.toContain('will be created')
  })

  it('through the CLI: the same words, the flags named', async () => {
    const { orgId, metadata } = await withOrganization()
    const args = [
      '--api-url',
      f.emulator.url,
      '--dataset',
      SLUG,
      '--create-dataset',
      '--dataset-metadata',
      metadata,
      '--files',
      'out/*.csv',
    ]
    const env = { DATAGOUV_API_KEY: f.apiKey }
    const dry = await cli([...args, '--dry-run'], { cwd: f.workspace, env })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stderr + dry.stdout).toContain(
      `no dataset '${SLUG}' exists: it will be created from dataset-metadata, owned by organization ${orgId}`,
    )
    expect(dry.stderr + dry.stdout).not.toMatch(/skip +dataset-metadata|planned: update/)
    expect(f.writes()).toEqual([])

    const run = await cli(args, { cwd: f.workspace, env })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/Created dataset 'Prix des carburants 2026' \(\w+\)/)
    // The result table wraps its reason column at 80 columns: read it with the wrapping undone.
    expect(run.stdout.replace(/\s+/g, ' ')).toMatch(
      /created no dataset 'prix-des-carburants-2026' existed: created from dataset-metadata/,
    )
  })

  it("refuses an organization the key's owner does not belong to, before any write", async () => {
    await withOrganization()
    const stranger = f.emulator.addOrganization({ name: 'Autre' })
    const run = await f.run({
      dataset: SLUG,
      'create-dataset': 'true',
      'dataset-metadata': `title: Prix des carburants 2026\ndescription: x\norganization: ${stranger.id}`,
      files: 'out/*.csv',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `input 'dataset-metadata'.organization: the key's owner is not a member of organization ${stranger.id}, so udata would refuse to create the dataset in it (it belongs to `,
    )
    expect(f.writes()).toEqual([])
  })
})
