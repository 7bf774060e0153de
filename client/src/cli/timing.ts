/**
 * Start-up timing: with `VIBESTACK_CLI_TIMING=1` in the environment, the CLI writes a line to stderr when it
 * reaches each phase (`vibestack-client: timing: database open 812 ms`), in ms since the process started.
 * `npm run bench -- cli-startup` reads these lines.
 */

import { errLine } from './cli-io.ts';
import { TIMING_ENV } from './constants.ts';

/** Marks that the CLI reached `phase`. */
export type PhaseMark = (phase: string) => void;

/**
 * A phase marker writing to `err` when `env` asks for timing, else a no-op.
 *
 * @example
 * const mark = phaseTimer(io.env, io.err);
 * mark('database open');
 */
export function phaseTimer(
  env: Readonly<Record<string, string | undefined>>,
  err: (line: string) => void,
): PhaseMark {
  if (env[TIMING_ENV] !== '1') return () => undefined;
  // performance.now() counts from the start of the process, so node's own start-up is included.
  return (phase) => err(errLine(`timing: ${phase} ${performance.now().toFixed(0)} ms`));
}
