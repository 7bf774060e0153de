/**
 * `vibestack-client`, the headless Node CLI of the client (docs/cli.md): `sync` keeps a file-backed PGlite in
 * sync with a VibeStack server, `query` prints rows of it as JSON. Started by `bin/vibestack-client.js`.
 */

import { errorCodeName, isSyncError } from '@vibestack/proto';
import { type Command, parseCommandLine } from './args.ts';
import { isCliError } from './cli-error.ts';
import { type CliIo, errLine, processIo } from './cli-io.ts';
import { CLI_NAME, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './constants.ts';
import { phaseTimer } from './timing.ts';

async function run(command: Command, io: CliIo): Promise<number> {
  switch (command.kind) {
    case 'help':
      await io.out(`${command.text}\n`);
      return EXIT_OK;
    // Each command's modules load only when it runs: `query` needs neither the sync client nor `ws`.
    case 'query':
      return (await import('./query-command.ts')).runQuery(command, io);
    case 'sync':
      return (await import('./sync-command.ts')).runSync(command, io);
  }
}

function helpCommand(argv: readonly string[]): string {
  const command = argv[0];
  return command === 'sync' || command === 'query' ? `${CLI_NAME} ${command} --help` : `${CLI_NAME} --help`;
}

/**
 * Runs the CLI with the arguments after the program name; resolves to the process exit code (it never
 * rejects, and does not exit the process itself).
 *
 * @example
 * process.exit(await main(process.argv.slice(2)));
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  phaseTimer(io.env, io.err)('main');
  try {
    return await run(parseCommandLine(argv, io.env), io);
  } catch (error) {
    if (isCliError(error)) {
      for (const line of error.message.split('\n')) io.err(errLine(line));
      if (error.exitCode === EXIT_USAGE) io.err(errLine(`run "${helpCommand(argv)}" for usage`));
      return error.exitCode;
    }
    if (isSyncError(error)) {
      // E.g. from opening the client's metadata: the protocol code name, as for a sync failure.
      io.err(errLine(`error: ${errorCodeName(error.code)}: ${error.rawMessage}`));
      return EXIT_FAILURE;
    }
    io.err(
      errLine(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    );
    return EXIT_FAILURE;
  }
}
