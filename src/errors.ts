/**
 * A failure the user can act on: printed as one line ("rsttrace: what: why;
 * what to do"), exit status `exitCode`. Anything else thrown is a bug.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit status for a command line that does not parse or validate. */
export const EXIT_USAGE = 2;

/** An error from the native addon carries an errno-style `code`. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
