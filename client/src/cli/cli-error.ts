/** The one error type of the CLI: a message for stderr and the process exit code it ends with. */

import { EXIT_FAILURE, EXIT_USAGE } from './constants.ts';

/**
 * An error the CLI reports as one line on stderr (no stack trace) before exiting with `exitCode`.
 *
 * @example
 * throw CliError.usage('--dir is required');
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** The process exit code: {@link EXIT_USAGE} for a bad command line, {@link EXIT_FAILURE} otherwise. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.exitCode = exitCode;
  }

  /** A bad command line (exit code 2). */
  static usage(message: string): CliError {
    return new CliError(message, EXIT_USAGE);
  }
}

/** Type guard for {@link CliError}. */
export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError;
}
