/**
 * Dated releases (`release: dated` in a `resources` entry) through the action against the
 * emulator: a new resource per publication named from the template, a rerun that adds nothing,
 * `keep` removing only what this publication released, `order: as-listed` newest first.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, resourcesOutput, sha1, type Fixture } from './helpers/fixture.js'

let f: Fixture
afterEach(async () => {
  await f?.close()
})

/** A workflow run, as the runner describes it; `run` is its id. */
function runner(run: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_REPOSITORY: 'example/publisher',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKFLOW: 'Monthly export',
    GITHUB_RUN_ID: String(run),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    ...extra,
  }
}

const DAY = /\d{4}-\d{2}-\d{2}/.source
const today = (): string => new Date().toISOString().slice(0, 10)

const release = (more = ''): string =>
  `- path: out/ventes.csv\n  release: dated\n  name: "Ventes {date}-{seq}"\n${more}`

/** The dataset's file resources, newest first as udata lists them. */
function files(): Array<{
  id: string
  title: string
  name: string
  extras: Record<string, unknown>
}> {
  const dataset = f.emulator.getDataset(f.dataset.id)
  return (dataset?.resources ?? []).map((r) => ({
    id: r.id,
    title: r.title,
    name: r.url.split('/').pop() ?? '',
    extras: r.extras,
  }))
}

describe('release: dated', () => {
  it('adds a new resource named from the template; a rerun of the same run adds nothing', async () => {
    f = await fixture()
    await f.write('out/ventes.csv', 'mois,total\n2026-10,12\n')
    const inputs = { resources: release(), provenance: 'true' }

    const first = await f.run(inputs, runner(100))

    expect(first.code, first.stdout).toBe(0)
    const [created] = files()
    expect(created).toMatchObject({
      title: `Ventes ${today()}-1.csv`,
      name: `ventes-${today()}-1.csv`,
      extras: {
        'publish:release': 'out/ventes.csv',
        'publish:release-run': 'run:https://github.com/example/publisher/actions/runs/100',
        'publish:workflow': 'Monthly export',
      },
    })
    expect(resourcesOutput(first)).toEqual([
      expect.objectContaining({
        action: 'created',
        release: `ventes-${today()}-1.csv`,
        reason: `new release 'ventes-${today()}-1.csv' (the first)`,
      }),
    ])
    expect(first.stdout).toMatch(
      new RegExp(`create\\s+out/ventes.csv\\s+\\(new\\)\\s+new release 'ventes-${DAY}-1.csv'`),
    )

    // GitHub's "Re-run jobs": same run id, a second attempt. Same file: nothing is written.
    f.emulator.requests.length = 0
    const again = await f.run(inputs, runner(100, { GITHUB_RUN_ATTEMPT: '2' }))
    expect(again.code, again.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(files()).toHaveLength(1)
    expect(resourcesOutput(again)[0]).toMatchObject({
      id: created?.id,
      action: 'skipped',
      reason: expect.stringContaining(
        'of this run (https://github.com/example/publisher/actions/runs/100), published before: unchanged',
      ),
    })

    // The same run rebuilt the file differently: its release is replaced in place, not doubled.
    await f.write('out/ventes.csv', 'mois,total\n2026-10,13\n')
    const rebuilt = await f.run(inputs, runner(100, { GITHUB_RUN_ATTEMPT: '3' }))
    expect(rebuilt.code, rebuilt.stdout).toBe(0)
    expect(files().map((r) => r.id)).toEqual([created?.id])
    expect(files()[0]).toMatchObject({ title: `Ventes ${today()}-1.csv` })
    expect(resourcesOutput(rebuilt)[0]).toMatchObject({ id: created?.id, action: 'uploaded' })
    expect(f.emulator.getResource(f.dataset.id, created?.id ?? '')?.checksum?.value).toBe(
      sha1('mois,total\n2026-10,13\n'),
    )
  })

  it('a new run adds the next release ({seq} counts on), and a file equal to the newest is not released again', async () => {
    f = await fixture()
    await f.write('out/ventes.csv', 'v1\n')
    const inputs = { resources: release(), provenance: 'true' }
    expect((await f.run(inputs, runner(1))).code).toBe(0)
    await f.write('out/ventes.csv', 'v2\n')
    const second = await f.run(inputs, runner(2))
    expect(second.code, second.stdout).toBe(0)
    expect(files().map((r) => r.name)).toEqual([
      `ventes-${today()}-2.csv`,
      `ventes-${today()}-1.csv`,
    ])
    expect(resourcesOutput(second)[0]?.reason).toBe(
      `new release 'ventes-${today()}-2.csv' (1 earlier)`,
    )

    f.emulator.requests.length = 0
    const same = await f.run(inputs, runner(3))
    expect(same.code, same.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(resourcesOutput(same)[0]).toMatchObject({
      id: files()[0]?.id,
      action: 'skipped',
      reason: `unchanged since the release 'ventes-${today()}-2.csv' (created ${today()}): not released again`,
    })
  })

  it('a run stopped before recording its release: the rerun takes it up, nothing added', async () => {
    f = await fixture()
    await f.write('out/ventes.csv', 'mois,total\n2026-10,12\n')
    const inputs = { resources: release(), provenance: 'true' }
    // The file is stored, then recording where it comes from fails: the run stops there.
    f.emulator.faults.push({ method: 'PUT', path: '/extras/$', status: 403, times: 1 })
    const stopped = await f.run(inputs, runner(100))
    expect(stopped.code).toBe(1)
    const [orphan] = files()
    expect(orphan).toMatchObject({ name: `ventes-${today()}-1.csv`, extras: {} })

    const rerun = await f.run(inputs, runner(100, { GITHUB_RUN_ATTEMPT: '2' }))
    expect(rerun.code, rerun.stdout).toBe(0)
    expect(files().map((r) => r.id)).toEqual([orphan?.id])
    expect(files()[0]?.extras).toMatchObject({
      'publish:release': 'out/ventes.csv',
      'publish:release-run': 'run:https://github.com/example/publisher/actions/runs/100',
    })
    expect(resourcesOutput(rerun)[0]).toMatchObject({
      id: orphan?.id,
      reason: `the release 'ventes-${today()}-1.csv' a stopped run stored (the same file), without recording it: recorded now`,
    })
    expect(f.emulator.getResource(f.dataset.id, orphan?.id ?? '')?.checksum?.value).toBe(
      sha1('mois,total\n2026-10,12\n'),
    )
  })

  it('a file under the release name that this publication did not record and that differs is left alone', async () => {
    f = await fixture()
    // Same size, another content, no provenance: someone else's file.
    const other = f.emulator.addFileResource(f.dataset.id, {
      filename: `ventes-${today()}-1.csv`,
      content: 'mois,total\n2026-10,99\n',
    })
    await f.write('out/ventes.csv', 'mois,total\n2026-10,12\n')
    const run = await f.run({ resources: release(), provenance: 'true' }, runner(1))
    expect(run.code, run.stdout).toBe(0)
    expect(files().map((r) => r.name)).toEqual([
      `ventes-${today()}-2.csv`,
      `ventes-${today()}-1.csv`,
    ])
    expect(f.emulator.getResource(f.dataset.id, other.id)?.checksum?.value).toBe(
      sha1('mois,total\n2026-10,99\n'),
    )
    expect(resourcesOutput(run)[0]?.reason).toBe(
      `new release 'ventes-${today()}-2.csv' (the first)`,
    )

    // Without {seq}, the name is taken: nothing is written.
    f.emulator.requests.length = 0
    const fixed = '- path: out/ventes.csv\n  release: dated\n  name: ventes-{date}-1\n'
    const refused = await f.run({ resources: fixed, provenance: 'true' }, runner(2))
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(
      `the release would be stored as 'ventes-${today()}-1.csv', which the dataset already holds`,
    )
    expect(f.writes()).toEqual([])
  })

  it('the same file under the release name, titled by someone, is not taken for a stopped run', async () => {
    f = await fixture()
    const content = 'mois,total\n2026-10,12\n'
    const hand = f.emulator.addFileResource(f.dataset.id, {
      filename: `ventes-${today()}-1.csv`,
      content,
      title: 'Ventes d’octobre (déposé à la main)',
    })
    await f.write('out/ventes.csv', content)
    const run = await f.run({ resources: release(), provenance: 'true' }, runner(1))
    expect(run.code, run.stdout).toBe(0)
    expect(files().map((r) => r.name)).toEqual([
      `ventes-${today()}-2.csv`,
      `ventes-${today()}-1.csv`,
    ])
    expect(files()[1]).toMatchObject({ id: hand.id, extras: {} })
  })

  it('keep: N removes the oldest releases this publication wrote, and nothing else, last', async () => {
    f = await fixture()
    // Not this publication's: a file put there by hand, and a release of another workflow.
    const manual = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ventes-old.csv',
      content: 'm\n',
    })
    const other = f.emulator.addFileResource(f.dataset.id, {
      filename: 'ventes-2020-01-01-1.csv',
      content: 'o\n',
      extras: {
        'publish:repository': 'example/publisher',
        'publish:workflow': 'Another workflow',
        'publish:release': 'out/ventes.csv',
      },
    })
    // This publication's, but another entry's release: not this entry's to keep or remove.
    const sibling = f.emulator.addFileResource(f.dataset.id, {
      filename: 'achats-2020-01-01-1.csv',
      content: 'a\n',
      extras: {
        'publish:repository': 'example/publisher',
        'publish:workflow': 'Monthly export',
        'publish:release': 'out/achats.csv',
      },
    })
    const inputs = { resources: release('  keep: 2\n'), provenance: 'true' }
    for (const run of [1, 2]) {
      await f.write('out/ventes.csv', `v${run}\n`)
      expect((await f.run(inputs, runner(run))).code).toBe(0)
    }
    const [second, first] = files()
    expect([first?.name, second?.name]).toEqual([
      `ventes-${today()}-1.csv`,
      `ventes-${today()}-2.csv`,
    ])

    await f.write('out/ventes.csv', 'v3\n')
    const dry = await f.run({ ...inputs, 'dry-run': 'true' }, runner(3))
    expect(dry.code, dry.stdout).toBe(0)
    expect(dry.stdout).toMatch(
      /remove\s+ventes-\S+-1\.csv\s+\S+\s+keep: 2: an older release of out\/ventes.csv/,
    )
    expect(resourcesOutput(dry).map((r) => [r.action, r.planned, r.id])).toEqual([
      ['planned', 'create', null],
      ['planned', 'remove', first?.id],
    ])
    expect(files()).toHaveLength(5)

    const third = await f.run(inputs, runner(3))
    expect(third.code, third.stdout).toBe(0)
    const ids = files().map((r) => r.id)
    expect(ids).not.toContain(first?.id)
    expect(ids).toEqual(expect.arrayContaining([second?.id, manual.id, other.id, sibling.id]))
    expect(ids).toHaveLength(5)
    const outputs = resourcesOutput(third)
    expect(outputs.map((r) => [r.kind, r.action])).toEqual([
      ['file', 'created'],
      ['remove', 'removed'],
    ])
    expect(third.outputs['removed-count']).toBe('1')
    expect(third.summary).toContain('keep: 2: an older release of out/ventes.csv')
  })

  it('keep removes nothing when the release failed', async () => {
    f = await fixture()
    const inputs = { resources: release('  keep: 1\n'), provenance: 'true' }
    await f.write('out/ventes.csv', 'v1\n')
    expect((await f.run(inputs, runner(1))).code).toBe(0)
    const [first] = files()
    await f.write('out/ventes.csv', 'v2\n')
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', status: 403 })
    const failed = await f.run(inputs, runner(2))
    expect(failed.code).toBe(1)
    expect(files().map((r) => r.id)).toEqual([first?.id])
    expect(resourcesOutput(failed)[1]).toMatchObject({ kind: 'remove', id: first?.id })
    expect(resourcesOutput(failed)[1]?.action).not.toBe('removed')
  })

  it('keep removes nothing when another entry failed, though the release went', async () => {
    f = await fixture()
    const notice = f.emulator.addFileResource(f.dataset.id, {
      filename: 'notice.txt',
      content: 'n1\n',
    })
    const inputs = {
      resources: `${release('  keep: 1\n')}- path: notice.txt\n  id: ${notice.id}\n`,
      provenance: 'true',
    }
    await f.write('notice.txt', 'n1\n')
    await f.write('out/ventes.csv', 'v1\n')
    expect((await f.run(inputs, runner(1))).code).toBe(0)
    const first = files().find((r) => r.name.startsWith('ventes-'))
    await f.write('out/ventes.csv', 'v2\n')
    await f.write('notice.txt', 'n2\n')
    // The notice's new file is refused; the release's upload (to the dataset) goes.
    f.emulator.faults.push({ method: 'POST', path: '/resources/[^/]+/upload/$', status: 403 })
    const failed = await f.run(inputs, runner(2))
    expect(failed.code).toBe(1)
    const outputs = resourcesOutput(failed)
    expect(outputs.map((r) => [r.kind, r.source, r.action])).toEqual([
      ['file', 'out/ventes.csv', 'created'],
      ['file', 'notice.txt', 'failed'],
      ['remove', first?.name, expect.not.stringMatching(/^removed$/)],
    ])
    expect(files().map((r) => r.id)).toContain(first?.id)
  })

  it('{tag}: a release event names the release after its tag; another run for the same tag adds nothing', async () => {
    f = await fixture()
    await f.write('dist/decp.xml', '<decp/>\n')
    const inputs = {
      resources: '- path: dist/decp.xml\n  release: dated\n  name: DECP-{tag}\n',
      provenance: 'true',
    }
    const tagged = { GITHUB_REF: 'refs/tags/v2026.11' }
    const run = await f.run(inputs, runner(7, tagged))
    expect(run.code, run.stdout).toBe(0)
    expect(files()[0]).toMatchObject({
      title: 'DECP-v2026.11.xml',
      name: 'decp-v2026.11.xml',
      extras: { 'publish:release-run': 'tag:v2026.11' },
    })
    f.emulator.requests.length = 0
    const retrigger = await f.run(inputs, runner(8, tagged))
    expect(retrigger.code, retrigger.stdout).toBe(0)
    expect(f.writes()).toEqual([])
    expect(files()).toHaveLength(1)

    // A release event whose GITHUB_REF does not name the tag: the payload's release.tag_name does.
    const event = await f.write(
      '.event.json',
      JSON.stringify({ release: { tag_name: 'v2026.12' } }),
    )
    await f.write('dist/decp.xml', '<decp n="12"/>\n')
    const released = await f.run(inputs, {
      ...runner(10, { GITHUB_REF: '' }),
      GITHUB_EVENT_NAME: 'release',
      GITHUB_EVENT_PATH: event,
    })
    expect(released.code, released.stdout).toBe(0)
    expect(files()[0]).toMatchObject({
      title: 'DECP-v2026.12.xml',
      extras: { 'publish:release-run': 'tag:v2026.12', 'publish:ref': 'refs/tags/v2026.12' },
    })
    expect(files()).toHaveLength(2)

    const untagged = await f.run(inputs, runner(9))
    expect(untagged.code).toBe(1)
    expect(untagged.stdout).toContain(
      '{tag} needs a run for a tag (a release, or a push of a tag: GITHUB_REF refs/tags/…), and this one is for refs/heads/main',
    )
  })

  it('order: as-listed puts the newest release first, the earlier ones after it', async () => {
    f = await fixture()
    const inputs = { resources: release(), provenance: 'true', order: 'as-listed' }
    for (const run of [1, 2]) {
      await f.write('out/ventes.csv', `v${run}\n`)
      expect((await f.run(inputs, runner(run))).code).toBe(0)
    }
    f.emulator.addFileResource(f.dataset.id, { filename: 'notice.pdf', content: 'n' })
    // udata lists new resources first: the notice is now before the releases.
    await f.write('out/ventes.csv', 'v3\n')
    const run = await f.run(inputs, runner(3))
    expect(run.code, run.stdout).toBe(0)
    expect(files().map((r) => r.name)).toEqual([
      `ventes-${today()}-3.csv`,
      `ventes-${today()}-2.csv`,
      `ventes-${today()}-1.csv`,
      'notice.pdf',
    ])
  })

  it('prune leaves the earlier releases to keep', async () => {
    f = await fixture()
    const inputs = { resources: release(), provenance: 'true', prune: 'true' }
    for (const run of [1, 2]) {
      await f.write('out/ventes.csv', `v${run}\n`)
      expect((await f.run(inputs, runner(run))).code).toBe(0)
    }
    expect(files()).toHaveLength(2)
  })

  it('refuses what a release cannot be, naming the entry, with nothing written', async () => {
    f = await fixture()
    await f.write('out/ventes.csv', 'v\n')
    const bad = [
      '- path: out/ventes.csv\n  release: dated\n  id: 54d47250-1daf-483b-965a-3013f8c76617\n',
      '- path: out/ventes.csv\n  release: dated\n  name: ventes\n',
      '- path: out/ventes.csv\n  release: dated\n  name: ventes-{month}\n',
      '- path: out/ventes.csv\n  keep: 3\n',
      '- path: out/ventes.csv\n  release: weekly\n',
      '- path: out/ventes.csv\n  release: dated\n  keep: 0\n',
    ]
    const messages = [
      "input 'resources', entry resources[0]: 'release: dated' publishes a new resource each time, so it takes no 'id'",
      "input 'resources', entry resources[0].name: 'ventes' would be the same at every publication; include {date}, {tag} or {seq}",
      "input 'resources', entry resources[0].name: unknown placeholder {month} (accepted: {name}, {date}, {tag}, {seq})",
      "input 'resources', entry resources[0].keep: only with 'release: dated'",
      "input 'resources', entry resources[0].release: must be 'dated'",
      "input 'resources', entry resources[0].keep: must be a whole number from 1 to 1000",
    ]
    for (const [i, resources] of bad.entries()) {
      const run = await f.run({ resources, provenance: 'true' }, runner(1))
      expect(run.code).toBe(1)
      expect(run.stdout).toContain(messages[i])
    }
    const off = await f.run({ resources: release(), provenance: 'false' }, runner(1))
    expect(off.code).toBe(1)
    expect(off.stdout).toContain(
      "'release: dated' recognises earlier releases by their provenance, but provenance is off",
    )
    expect(f.writes()).toEqual([])
  })
})
