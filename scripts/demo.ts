/**
 * The demo: starts the local udata emulator with a dataset, runs the bundled action on the sample
 * files of demo/ exactly as the GitHub runner would, prints its log, outputs and job summary; then
 * runs it again to show that nothing unchanged is sent twice.
 *
 *   npm run demo
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmulator } from '../emulator/server.js'
import { runAction, type ActionRun } from './run-action.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const emulator = await startEmulator()
try {
  const user = emulator.addUser()
  const stations = await readFile(path.join(root, 'demo/data/stations.geojson'))
  const dataset = emulator.addDataset({
    owner: user.id,
    slug: 'ventes-et-stations',
    title: 'Ventes et stations (démo)',
    resources: [
      {
        filename: 'ventes-2024.csv',
        content: 'mois,region,ventes\n2024-01,Bretagne,1203\n',
        title: 'Ventes mensuelles 2024',
        description: 'Une ligne par mois et par région.',
      },
      { filename: 'stations.geojson', content: stations, title: 'Stations' },
      { url: 'https://www.example.org/api/ventes', title: 'API des ventes', type: 'api' },
    ],
  })
  // A remote resource the demo signals: the producer's file, here served by the emulator itself.
  const stationsId = dataset.resources.find((r) => r.title === 'Stations')?.id ?? ''
  const remoteUrl = `${emulator.url}/api/1/datasets/r/${stationsId}`
  console.log(
    `Emulator at ${emulator.url}; dataset '${dataset.slug}' (${dataset.id}) with ${dataset.resources.length} resources.\n`,
  )

  const inputs = {
    'api-url': emulator.url,
    'api-key': user.apiKey,
    dataset: dataset.slug,
    files: 'demo/data/*',
    resources: [
      "- path: demo/docs/Notice d'utilisation.txt",
      "  title: Notice d'utilisation",
      '  type: documentation',
      `- url: ${remoteUrl}`,
      '  title: Stations (lien permanent)',
      '  format: geojson',
    ].join('\n'),
    'dataset-metadata':
      'tags: [ventes, stations, demo]\nfrequency: monthly\nextras: {pipeline: demo}',
    'create-missing': 'true',
  }

  show(
    'First run: publish demo/data/*, the notice, a remote link and the dataset metadata',
    await runAction(inputs, { cwd: root }),
  )
  emulator.resetRequests()
  const second = await runAction(inputs, { cwd: root })
  show('Second run: same files, nothing to send', second)
  const writes = emulator.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
  console.log(
    `Requests received during the second run: ${emulator.requests.length}, of which ${writes.length} could change anything.`,
  )
  if (second.code !== 0) process.exitCode = 1
} finally {
  await emulator.close()
}

function show(title: string, run: ActionRun): void {
  console.log(`━━━ ${title} (exit code ${run.code}) ━━━\n`)
  console.log('Log:')
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('::debug::') || line.startsWith('::add-mask::')) continue
    if (line === '::endgroup::') continue
    const group = /^::group::(.*)$/.exec(line)
    console.log(
      group
        ? `▸ ${group[1]}`
        : `  ${line.replace(/^::(warning|error)::/, (_, level: string) => `${level.toUpperCase()}: `)}`,
    )
  }
  console.log('Outputs:')
  for (const [name, value] of Object.entries(run.outputs))
    console.log(`  ${name} = ${value.length > 200 ? `${value.slice(0, 200)}…` : value}`)
  console.log('\nJob summary:\n')
  console.log(run.summary)
}
