/**
 * The harness that runs the README's examples (test/helpers/readme/) fails where an example
 * would fail a reader: an unknown expression, a step or a line that exits non-zero, an unknown
 * action or key, an emulator that keeps its terminal before other lines. test/readme.test.ts
 * passing means something only if these do.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { condition, evaluate, interpolate } from './helpers/readme/expressions.js'
import { Scene } from './helpers/readme/scene.js'
import { parseShell } from './helpers/readme/shell.js'
import { Terminal } from './helpers/readme/terminal.js'
import { checkWithoutRunning, runSteps, runWorkflow } from './helpers/readme/workflow.js'

const contexts = {
  github: { event: { release: { tag_name: 'v1.4.0' } }, ref_name: 'main' },
  secrets: { DATAGOUV_API_KEY: 'k' },
  steps: { publish: { outputs: { changed: 'true', urls: '{}' } } },
  matrix: { region: 'corse' },
}

describe('expressions', () => {
  it('evaluates what the examples write', () => {
    expect(interpolate('Ventes (${{ github.event.release.tag_name }})', contexts)).toBe(
      'Ventes (v1.4.0)',
    )
    expect(interpolate('${{ secrets.DATAGOUV_API_KEY }}-${{ matrix.region }}', contexts)).toBe(
      'k-corse',
    )
    expect(evaluate("steps.publish.outputs.changed == 'TRUE'", contexts)).toBe(true)
    expect(evaluate("!(github.ref_name != 'main') && contains('abc', 'B')", contexts)).toBe(true)
    expect(condition("steps.publish.outputs.changed == 'true'", contexts, { failed: true })).toBe(
      false,
    )
    expect(condition('always()', contexts, { failed: true })).toBe(true)
  })

  it('refuses a name the contexts lack, a function or a syntax it does not know', () => {
    expect(() => evaluate('steps.publish.outputs.chnged', contexts)).toThrow(
      "'steps.publish.outputs' has no 'chnged' (it has: changed, urls)",
    )
    expect(() => evaluate('vars.X', contexts)).toThrow("unknown context 'vars'")
    expect(() => evaluate('hashFiles("x")', contexts)).toThrow()
    expect(() => evaluate('format(1)', contexts)).toThrow('unknown function format()')
    expect(() => evaluate('1 +', contexts)).toThrow()
  })
})

describe('shell', () => {
  it('reads statements, pipelines, quotes across lines, comments and continuations', () => {
    const [install, publish, chain, pipe] = parseShell(
      [
        'npm install -g git+https://github.com/o/r.git#v0   # not a comment before the #',
        "datagouv-publish --resources '- path: a.csv",
        "  title: A' \\",
        '  --dry-run',
        'mkdir -p out && printf "a\\n" > out/a.csv || true',
        'curl -s "$API/$(echo x)" | jq \'.a | .b\' 2>&1 &',
      ].join('\n'),
    )
    expect(install?.parts[0]?.pipeline.commands[0]?.words.at(-1)).toBe(
      'git+https://github.com/o/r.git#v0',
    )
    expect(publish?.parts[0]?.pipeline.commands[0]?.words).toEqual([
      'datagouv-publish',
      '--resources',
      "'- path: a.csv\n  title: A'",
      '--dry-run',
    ])
    expect(chain?.parts.map((p) => [p.op, p.pipeline.source])).toEqual([
      ['', 'mkdir -p out'],
      ['&&', 'printf "a\\n" > out/a.csv'],
      ['||', 'true'],
    ])
    expect(chain?.parts[1]?.pipeline.commands[0]?.redirects).toEqual([
      { op: '>', target: 'out/a.csv' },
    ])
    expect(pipe?.background).toBe(true)
    expect(pipe?.parts[0]?.pipeline.commands.map((c) => c.words[0])).toEqual(['curl', 'jq'])
  })

  it('refuses what it cannot read', () => {
    expect(() => parseShell("echo 'unclosed")).toThrow("unclosed '")
    expect(() => parseShell('echo a &&')).toThrow('an empty command')
  })
})

describe('runs', () => {
  let scene: Scene | undefined
  afterEach(async () => {
    await scene?.close()
    scene = undefined
  })

  it('fail when the action fails, when a run step fails, and on an unknown action or key', async () => {
    scene = await Scene.start()
    const publish = (dataset: string): Record<string, unknown> => ({
      uses: 'datagouv-publish/action@v0',
      with: { 'api-key': '${{ secrets.DATAGOUV_API_KEY }}', dataset, files: 'out/*.csv' },
    })
    await expect(runSteps([publish('mon-jeu-de-donnees')], scene)).resolves.toBeUndefined()
    await expect(runSteps([publish('no-such-dataset')], scene)).rejects.toThrow('job steps failed')
    await expect(runSteps([{ run: 'exit 3' }], scene)).rejects.toThrow('job steps failed')
    await expect(runSteps([{ uses: 'someone/else@v1' }], scene)).rejects.toThrow(
      'no stand-in for this action',
    )
    await expect(
      runWorkflow({ on: 'push', jobs: { a: { container: 'x', steps: [] } } }, scene),
    ).rejects.toThrow("job 'a': container not run here")
    await expect(
      runSteps(
        [{ ...publish('mon-jeu-de-donnees'), with: { dataset: '${{ secrets.NOPE }}' } }],
        scene,
      ),
    ).rejects.toThrow("'secrets' has no 'NOPE'")
  })

  it("refuse a proxy they would bypass; what cannot run is checked by the action's validation", async () => {
    scene = await Scene.start()
    const step = {
      uses: 'datagouv-publish/action@v0',
      with: { 'api-key': '${{ secrets.DATAGOUV_API_KEY }}', dataset: 'x', files: 'out/*.csv' },
    }
    await expect(
      runSteps([{ ...step, env: { HTTPS_PROXY: 'http://proxy.example:3128' } }], scene),
    ).rejects.toThrow('HTTPS_PROXY: every request here goes through the stand-in dispatcher')
    expect(await checkWithoutRunning([step])).toBe(1)
    await expect(
      checkWithoutRunning([{ ...step, with: { ...step.with, 'if-unchanged': 'never' } }]),
    ).rejects.toThrow('if-unchanged')
  })

  it('fail on a line that exits non-zero, a CLI error, or lines after an emulator in the foreground', async () => {
    scene = await Scene.start({ ownEmulator: true })
    const folder = await scene.folder('t', false)
    const terminal = (): Terminal => new Terminal(scene as Scene, folder, {}, [])
    await expect(terminal().run('true && false')).rejects.toThrow('exited 1')
    await expect(
      terminal().run('datagouv-publish --api-url http://127.0.0.1:9 --datset x'),
    ).rejects.toThrow('exited 2')
    await expect(terminal().run('udata-emulator --port 7000\necho after')).rejects.toThrow(
      'the emulator keeps this terminal',
    )
    await expect(terminal().run('false || echo fine')).resolves.toBeUndefined()
    // An emulator on port 7000 as written answers at its own address, put in its place.
    await terminal().run('udata-emulator --port 7000 &')
    await terminal().run(
      'export DATAGOUV_API_KEY=demo-api-key\n' +
        'datagouv-publish --api-url http://127.0.0.1:7000 --dataset demo-dataset --files x.csv --if-no-files-found ignore --json > out.json\n' +
        'grep -q \'"changed": false\' out.json',
    )
  })
})
