/**
 * Several rounds at the default concurrency, each replacing some files and creating others
 * (create-missing): after each round, every resource listed exactly once, every file's checksum
 * the one published, every title as intended, and the action's outputs saying the same.
 *
 * udata before 10.4.3 (PR #3338) writes a replaced resource back at the list index it read before
 * a concurrent creation moved the list: the action must not let those writes overlap there.
 */
import { describe, expect, it } from 'vitest'
import { kitVersions, storedName } from './kit.js'
import {
  context,
  duplicateIds,
  outputResources,
  outputUrls,
  scenarioWorkspace,
  sha1,
  useUdata,
} from './scenario.js'

const ROUNDS = 4
const INITIAL = 8

describe.each(kitVersions())('udata $name: rounds', (version) => {
  const udata = useUdata(version)

  it(`${ROUNDS} rounds at the default concurrency, replacing and creating: each resource listed once, every checksum as published`, async () => {
    const u = udata()
    const ds = await u.api.createDataset(u.seed.org_id)
    const ws = await scenarioWorkspace()
    /** What udata must hold: stored name -> content and title. */
    const expected = new Map<string, { content: string; title: string }>()
    for (let i = 0; i < INITIAL; i++) {
      const content = `fichier,${i}\nround,0\n`
      await u.api.addFile(ds.id, `f${i}.csv`, content, `Fichier ${i}`)
      await ws.write(`out/f${i}.csv`, content)
      expected.set(`f${i}.csv`, { content, title: `Fichier ${i}` })
    }

    for (let round = 1; round <= ROUNDS; round++) {
      // About half the files change, and four new ones come.
      const replaced = [...expected.keys()].filter((_, i) => (i + round) % 2 === 0)
      for (const name of replaced) {
        const content = `${name}\nround,${round}\n`
        await ws.write(`out/${name}`, content)
        expected.set(name, { content, title: expected.get(name)?.title ?? name })
      }
      // Named to sort among the existing files, so that the files in flight together mix
      // creations and replacements.
      const created = [0, 2, 4, 6].map((k) => `f${k}-r${round}.csv`)
      for (const name of created) {
        const content = `${name}\nround,${round}\n`
        await ws.write(`out/${name}`, content)
        expected.set(name, { content, title: name })
      }

      const run = await ws.run(u, { dataset: ds.id, files: 'out/*.csv', 'create-missing': 'true' })

      const label = `round ${round}: ${context(run, u)}`
      expect.soft(run.code, label).toBe(0)
      const after = await u.api.dataset(ds.id)
      const listing = after.resources
        .map((r) => `${r.id} ${storedName(r)} '${r.title}' ${r.checksum?.value ?? ''}`)
        .join('\n')
      expect(duplicateIds(after.resources), `round ${round}, udata lists:\n${listing}`).toEqual([])
      const held = after.resources.map((r) => ({
        name: storedName(r),
        title: r.title,
        sha1: r.checksum?.value,
      }))
      const wanted = [...expected].map(([name, { content, title }]) => ({
        name,
        title,
        sha1: sha1(content),
      }))
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)
      expect(held.sort(byName), label).toEqual(wanted.sort(byName))

      // The action's report matches what udata holds.
      const outputs = outputResources(run)
      for (const r of after.resources) {
        const out = outputs.find((o) => o.source === `out/${storedName(r)}`)
        expect(out, `${label}\nno output for ${storedName(r)}`).toBeDefined()
        expect(out?.id).toBe(r.id)
        const action = created.includes(storedName(r))
          ? 'created'
          : replaced.includes(storedName(r))
            ? 'uploaded'
            : 'skipped'
        expect(out?.action, `${storedName(r)} in round ${round}`).toBe(action)
        expect(out).toMatchObject({ title: r.title, checksum: r.checksum, url: r.url })
      }
      expect(outputs).toHaveLength(after.resources.length)
      expect(outputUrls(run)).toEqual(
        Object.fromEntries(after.resources.map((r) => [`out/${storedName(r)}`, r.url])),
      )
      const skipped = expected.size - replaced.length - created.length
      expect(run.outputs).toMatchObject({
        changed: 'true',
        'uploaded-count': String(replaced.length + created.length),
        'skipped-count': String(skipped),
      })
      const tally = run.summary.split('\n').find((line) => /^\d+ \w+(, \d+ \w+)*$/.test(line))
      expect(tally?.split(', ').sort()).toEqual(
        [`${replaced.length} uploaded`, `${skipped} skipped`, `${created.length} created`].sort(),
      )
    }
  })
})
