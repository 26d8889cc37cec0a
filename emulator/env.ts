import type { Analyser } from './analyser.js'
import type { Storage } from './storage.js'
import type { Store } from './store.js'

/** What request handlers share: state, disk, and the emulated server version. */
export interface Env {
  store: Store
  storage: Storage
  /** `http://host:port`, no trailing slash. */
  origin: () => string
  extensions: ReadonlySet<string>
  sameSecondConflict: boolean
  /** Pre-v17.6 behaviours (docs/udata-protocol.md §12): see `EmulatorOptions.version`. */
  legacy: boolean
  /** The simulated resource analyser (hydra): told of every resource creation, file change and PUT. */
  analyser: Analyser
}
