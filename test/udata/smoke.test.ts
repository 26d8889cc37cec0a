import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kitVersions, startUdata, storedName, type RealUdata } from './kit.js'
import { context, outputResources, workspace } from './scenario.js'

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')

describe.each(kitVersions())('udata $name', (version) => {
  let udata: RealUdata
  beforeAll(async () => {
    udata = await startUdata(version)
  })
  afterAll(async () => udata?.close())

  it('replaces a file in place and keeps its title', async () => {
    const ds = await udata.api.createDataset(udata.seed.org_id)
    const r = await udata.api.addFile(ds.id, 'sales.csv', 'year,n\n2023,1\n', 'Sales by year')
    const ws = await workspace()
    await ws.write('out/sales.csv', 'year,n\n2023,1\n2024,2\n')
    const run = await ws.run(udata, { dataset: ds.id, files: 'out/*.csv' })
    expect(run.code, context(run, udata)).toBe(0)
    const after = await udata.api.dataset(ds.id)
    expect(after.resources).toHaveLength(1)
    const [res] = after.resources
    expect(res?.id).toBe(r.id)
    expect(res?.title).toBe('Sales by year')
    expect(res?.checksum?.value).toBe(sha1('year,n\n2023,1\n2024,2\n'))
    expect(storedName(res!)).toBe('sales.csv')
    expect(outputResources(run)[0]).toMatchObject({ id: r.id, action: 'uploaded' })
    await ws.close()
  })
})
