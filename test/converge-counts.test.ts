/**
 * The counts a workflow reads after a disturbed run: `skipped-count` counts the entries skipped
 * because nothing changed, and nothing else; a removal held back because another entry failed is
 * reported held back (outputs, log table, job summary), then done by the run that converges.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

describe('counts after a run where one entry failed', () => {
  it('skipped-count counts the unchanged entry only; the removal is held back, said so, and done by the next run', async () => {
    f = await fixture()
    const same = f.emulator.addFileResource(f.dataset.id, {
      filename: 'same.csv',
      content: 's\n1\n',
    })
    const sales = f.emulator.addFileResource(f.dataset.id, {
      filename: 'sales.csv',
      content: 'v\n1\n',
    })
    const old = f.emulator.addFileResource(f.dataset.id, { filename: 'old.csv', content: 'o\n1\n' })
    await f.write('same.csv', 's\n1\n')
    await f.write('sales.csv', 'v\n2\n3\n')
    const inputs = { files: 'same.csv\nsales.csv', remove: 'old.csv' }
    f.emulator.faults.push({
      method: 'POST',
      path: `/resources/${sales.id}/upload/$`,
      nth: 1,
      status: 400,
      body: { message: 'refused' },
    })

    const failed = await f.run(inputs)

    expect(failed.code).toBe(1)
    expect(resourcesOutput(failed).map((r) => [r.id, r.action])).toEqual([
      [same.id, 'skipped'],
      [sales.id, 'failed'],
      [old.id, 'held-back'],
    ])
    expect(resourcesOutput(failed)[2]?.reason).toBe(
      'held back: another entry failed, and nothing is removed then',
    )
    expect(failed.outputs).toMatchObject({
      'skipped-count': '1',
      'removed-count': '0',
      'uploaded-count': '0',
      changed: 'false',
    })
    expect(failed.stdout).toMatch(/old\.csv +\S+ +held-back +held back: another entry failed/)
    expect(failed.summary).toContain('\n1 skipped, 1 failed, 1 held-back\n')
    expect(f.emulator.getResource(f.dataset.id, old.id)).toBeDefined()

    const rerun = await f.run(inputs)

    expect(rerun.code, rerun.stdout).toBe(0)
    expect(resourcesOutput(rerun).map((r) => [r.id, r.action])).toEqual([
      [same.id, 'skipped'],
      [sales.id, 'uploaded'],
      [old.id, 'removed'],
    ])
    expect(rerun.outputs).toMatchObject({
      'skipped-count': '1',
      'removed-count': '1',
      'uploaded-count': '1',
      changed: 'true',
    })
    expect(rerun.summary).not.toContain('held-back')
    expect(f.emulator.getResource(f.dataset.id, old.id)).toBeUndefined()
  })
})
