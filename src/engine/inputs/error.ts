/** Thrown for bad input: its message lists every problem, one a line, each naming its input. */
export class InputError extends Error {
  override readonly name = 'InputError'
}
