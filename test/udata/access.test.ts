/**
 * Who may write what: create-dataset for an organization, a bad key, a dataset the key cannot
 * edit. A refused run writes nothing (udata's access log says so) and says why, naming the input.
 */
import { describe, expect, it } from 'vitest'
import type { ActionRun } from '../../scripts/run-action.js'
import { kitVersions, writesOf, type UdataDataset } from './kit.js'
import {
  byStoredName,
  context,
  outputResources,
  scenarioWorkspace,
  sha1,
  useUdata,
} from './scenario.js'

/** The step's failure: the `::error::` lines the action printed. */
function errorsOf(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter((line) => line.startsWith('::error'))
    .map((line) => line.replace(/^::error[^:]*::/, ''))
}

describe.each(kitVersions())('udata $name: access', (version) => {
  const udata = useUdata(version)

  it("create-dataset creates the organization's dataset from dataset-metadata, publishes into it, and finds it by its slug the next time", async () => {
    const u = udata()
    const suffix = Math.random().toString(36).slice(2, 8)
    const slug = `prix-des-carburants-${suffix}`
    const ws = await scenarioWorkspace()
    await ws.write('out/prix.csv', 'date,prix\n2026-01-01,1.8\n')
    const inputs = {
      dataset: slug,
      'create-dataset': 'true',
      'dataset-metadata': [
        `title: Prix des carburants ${suffix}`,
        'description: Relevés quotidiens des prix à la pompe.',
        `organization: ${u.seed.org_id}`,
        'license: lov2',
        'frequency: daily',
        'private: true',
        'tags: [carburants, prix]',
      ].join('\n'),
      files: 'out/*.csv',
    }

    const run = await ws.run(u, inputs)

    expect.soft(run.code, context(run, u)).toBe(0)
    const created = await u.api.dataset(slug)
    expect(created).toMatchObject({
      slug,
      title: `Prix des carburants ${suffix}`,
      description: 'Relevés quotidiens des prix à la pompe.',
      license: 'lov2',
      frequency: 'daily',
      private: true,
      organization: expect.objectContaining({ id: u.seed.org_id }),
      owner: null,
    })
    expect([...created.tags].sort()).toEqual(['carburants', 'prix'])
    expect(created.resources).toHaveLength(1)
    expect(byStoredName(created, 'prix.csv')).toMatchObject({
      title: 'prix.csv',
      checksum: { type: 'sha1', value: sha1('date,prix\n2026-01-01,1.8\n') },
    })
    expect(run.outputs).toMatchObject({
      'dataset-created': 'true',
      'dataset-id': created.id,
      changed: 'true',
      'uploaded-count': '1',
    })
    expect(outputResources(run)).toEqual([
      expect.objectContaining({ id: created.resources[0]?.id, action: 'created' }),
    ])
    expect(run.summary).toContain('(created by this run)')
    const ofOrg = await u.api.get<{ data: UdataDataset[] } | UdataDataset[]>(
      `/api/1/organizations/${u.seed.org_id}/datasets/?page_size=100`,
    )
    const list = Array.isArray(ofOrg) ? ofOrg : ofOrg.data
    expect(list.filter((d) => d.title === `Prix des carburants ${suffix}`)).toHaveLength(1)

    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(again.outputs).toMatchObject({
      'dataset-created': 'false',
      'dataset-id': created.id,
      changed: 'false',
    })
    expect(await u.api.dataset(created.id)).toEqual(created)
  })

  it("create-dataset without an organization creates the key owner's own dataset and publishes into it", async () => {
    const u = udata()
    const suffix = Math.random().toString(36).slice(2, 8)
    const slug = `releves-personnels-${suffix}`
    const ws = await scenarioWorkspace()
    await ws.write('out/releves.csv', 'jour,valeur\n1,2\n')
    const inputs = {
      dataset: slug,
      'create-dataset': 'true',
      'dataset-metadata': `title: Relevés personnels ${suffix}\ndescription: Les miens.`,
      files: 'out/*.csv',
    }

    const run = await ws.run(u, inputs)

    expect.soft(run.code, context(run, u)).toBe(0)
    const created = await u.api.dataset(slug)
    expect(created).toMatchObject({
      slug,
      title: `Relevés personnels ${suffix}`,
      description: 'Les miens.',
      organization: null,
      owner: expect.objectContaining({ id: u.seed.user_id }),
    })
    expect(created.resources).toEqual([
      expect.objectContaining({
        title: 'releves.csv',
        checksum: { type: 'sha1', value: sha1('jour,valeur\n1,2\n') },
      }),
    ])
    expect(run.outputs).toMatchObject({ 'dataset-created': 'true', 'dataset-id': created.id })

    const mark = u.mark()
    const again = await ws.run(u, inputs)
    expect.soft(again.code, context(again, u)).toBe(0)
    expect(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(again.outputs).toMatchObject({ 'dataset-created': 'false', changed: 'false' })
  })

  it('a bad key fails before any write, with a message naming the key input, the same at every run', async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    await u.api.addFile(ds.id, 'a.csv', 'a\n', 'A')
    const before = await u.api.dataset(ds.id)
    const ws = await scenarioWorkspace()
    await ws.write('out/a.csv', 'a\nchanged\n')
    await ws.write('out/b.csv', 'b\n')
    const inputs = {
      dataset: ds.id,
      'api-key': 'not-a-valid-key-0123456789abcdef',
      files: 'out/*.csv',
      'create-missing': 'true',
      'dataset-metadata': 'description: Refusé.',
    }
    const messages: string[][] = []
    for (let i = 0; i < 3; i++) {
      const mark = u.mark()
      const run = await ws.run(u, inputs)
      expect(run.code, context(run, u)).not.toBe(0)
      expect(writesOf(await u.requestsSince(mark))).toEqual([])
      const errors = errorsOf(run)
      expect.soft(errors.join('\n'), context(run, u)).toMatch(/api-key/)
      expect(run.outputs.changed).toBe('false')
      // Told to the runner to mask (it never prints that line), and nowhere else.
      const shown = run.everything.replace(/^::add-mask::.*$/gm, '')
      expect(shown).not.toContain('not-a-valid-key-0123456789abcdef')
      messages.push(errors)
    }
    expect(messages[1]).toEqual(messages[0])
    expect(messages[2]).toEqual(messages[0])
    expect(await u.api.dataset(ds.id)).toEqual(before)
  })

  it('a dataset the key cannot edit is refused before any write, saying so', async () => {
    const u = udata()
    const foreign = u.seed.foreign_dataset_id
    const before = await u.api.dataset(foreign)
    const ws = await scenarioWorkspace()
    await ws.write('out/a.csv', 'a\n')
    const mark = u.mark()

    const run = await ws.run(u, { dataset: foreign, files: 'out/*.csv', 'create-missing': 'true' })

    expect(run.code, context(run, u)).not.toBe(0)
    expect.soft(writesOf(await u.requestsSince(mark))).toEqual([])
    expect(errorsOf(run).join('\n'), context(run, u)).toMatch(
      /edit|permission|rights|not allowed|forbidden/i,
    )
    expect(run.outputs.changed).toBe('false')
    expect(await u.api.dataset(foreign)).toEqual(before)
    expect(await u.api.communityResources(foreign)).toEqual([])
  })
})
