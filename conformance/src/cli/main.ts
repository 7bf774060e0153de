/**
 * The `vibestack-conformance` command line: without a command it runs the suites against an adapter
 * (`--client "<command>"`, see RUN_USAGE); `record` records fixtures from workloads.
 */

import { parseRecordArgs, RECORD_USAGE, runRecord } from '../record/record-command.ts';
import { parseRunArgs, RUN_USAGE, runConformance } from '../runner/run-command.ts';

const USAGE = `Usage: vibestack-conformance --client "<adapter command>" [options]
       vibestack-conformance <command> [options]

Commands:
  (none)   run the suites against a client (vibestack-conformance --help-run)
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
    case '--help-run':
      console.log(RUN_USAGE);
      return 0;
    case undefined:
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default: {
      if (command.startsWith('--')) {
        let parsed: ReturnType<typeof parseRunArgs>;
        try {
          parsed = parseRunArgs(args);
        } catch (error) {
          console.error(`${(error as Error).message}\n\n${RUN_USAGE}`);
          return 2;
        }
        return runConformance(parsed, (line) => console.log(line));
      }
      console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
    }
  }
}
