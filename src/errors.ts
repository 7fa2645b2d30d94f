/**
 * A mistake the user can fix (bad config, missing file, wrong checkpoint).
 * The CLI prints its message as one line, without a stack trace, and exits
 * with `exitCode` (1 unless said otherwise).
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A command whose config and flags were valid but whose work is not built yet: exit 2. */
export class NotBuiltError extends UserError {
  constructor(what: string, issue?: number) {
    super(`${what} is not built yet${issue ? ` (issue #${issue})` : ''}`, 2);
    this.name = 'NotBuiltError';
  }
}
