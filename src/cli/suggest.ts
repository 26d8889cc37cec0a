/**
 * What to say for a flag that does not exist: why, for the ones people expect (the key, the
 * positive form of a switch that is on by default), else the nearest flag that does.
 */
import { closest } from '../util/suggest.js'
import { KEY_VARIABLE, OPTIONS } from './flags.js'

/**
 * The message for a flag that does not exist: why, for the ones people expect, else the closest
 * one.
 */
export function unknownOption(flag: string, name: string): string {
  if (
    name === 'api-key' ||
    name === 'key' ||
    name === 'apikey' ||
    name === 'api_key' ||
    name === 'token'
  ) {
    return (
      `there is no ${flag} option: a key given on the command line stays in the shell history and ` +
      `is visible to every user of the machine in the process list (ps). ` +
      `Put it in the environment instead: export ${KEY_VARIABLE}=<your key> (or ${KEY_VARIABLE}="$(cat ` +
      `~/.datagouv-key)" datagouv-publish ...); in CI, a masked or secret variable of that name`
    )
  }
  if (name === 'check-urls')
    return (
      `unknown option '${flag}': remote URLs are checked by default; --no-check-urls turns the check ` +
      `off`
    )
  const suggestion = closest(name.replace(/_/g, '-').toLowerCase(), Object.keys(OPTIONS))
  return `unknown option '${flag}'${suggestion ? `; did you mean '--${suggestion}'?` : ''} (datagouv-publish --help lists them)`
}
