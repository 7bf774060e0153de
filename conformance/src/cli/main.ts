/**
 * The `vibestack-conformance` command line. Commands: `record` (fixtures from workloads). Running suites against
 * an adapter (`--client "<command>"`) comes with the runner.
 */

import { parseRecordArgs, RECORD_USAGE, runRecord } from '../record/record-command.ts';

const USAGE = `Usage: vibestack-conformance <command> [options]

Commands:
  record   record fixtures from SQL workloads (vibestack-conformance record --help)`;

/** Runs the command line `args` (without the program name) and resolves the exit code. */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [command, ...rest] = args;
  const help = rest.includes('--help') || rest.includes('-h');
  switch (command) {
    case 'record': {
      if (help) {
        console.log(RECORD_USAGE);
        return 0;
      }
      let jobs: ReturnType<typeof parseRecordArgs>;
      try {
        jobs = parseRecordArgs(rest);
      } catch (error) {
        console.error(`${(error as Error).message}\n\n${RECORD_USAGE}`);
        return 2;
      }
      await runRecord(jobs, env, (line) => console.error(line));
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}
