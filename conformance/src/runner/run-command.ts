/**
 * `vibestack-conformance --client "<adapter command>" …`: parses the options, loads the suites, runs them and
 * prints one line per case and the summary; writes the JUnit and JSON reports when asked.
 */

import { writeFileSync } from 'node:fs';
import { caseLines, jsonReport, junitReport, summaryLine } from './reports.ts';
import { runSuites } from './run-suites.ts';
import { loadSuites, readKnownFailing } from './suite-loader.ts';

/** The options of a run. */
export interface RunArgs {
  readonly client: string;
  readonly suites: string[];
  readonly run: string[];
  readonly skip: string[];
  readonly knownFailing: string | undefined;
  readonly junit: string | undefined;
  readonly json: string | undefined;
  readonly trace: boolean;
  readonly parallel: number;
}

export const RUN_USAGE = `Usage: vibestack-conformance --client "<adapter command>" [options]

Runs the built-in suites (and any extra ones) against a client through its adapter.

Options:
  --client CMD          the adapter's command line (run through the shell); required
  --suite DIR           also run the suites in DIR (*.yaml; fixtures in DIR/fixtures); repeatable
  --run GLOB            run only cases whose <suite>/<case> name matches; repeatable
  --skip GLOB           do not run matching cases; repeatable
  --known-failing FILE  cases (globs, one per line, # comments) that must fail; one that passes fails the run
  --junit FILE          write a JUnit XML report
  --json FILE           write a JSON report
  --trace               print adapter logs and the server's trace as they come
  --parallel N          run N adapters at once (default 1)

Exit code: 0 when every case passed, was skipped or failed as known; 1 otherwise (also when no case ran); 2 for
bad arguments.`;

/** Parses the run options. @throws Error with a message for the user. */
export function parseRunArgs(args: readonly string[]): RunArgs {
  const out = {
    client: '',
    suites: [] as string[],
    run: [] as string[],
    skip: [] as string[],
    knownFailing: undefined as string | undefined,
    junit: undefined as string | undefined,
    json: undefined as string | undefined,
    trace: false,
    parallel: 1,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] =
      arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--client':
        out.client = value();
        break;
      case '--suite':
        out.suites.push(value());
        break;
      case '--run':
        out.run.push(value());
        break;
      case '--skip':
        out.skip.push(value());
        break;
      case '--known-failing':
        out.knownFailing = value();
        break;
      case '--junit':
        out.junit = value();
        break;
      case '--json':
        out.json = value();
        break;
      case '--trace':
        out.trace = true;
        break;
      case '--parallel': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error('--parallel needs a number within 1–64');
        out.parallel = n;
        break;
      }
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (out.client === '') throw new Error('--client is required');
  return out;
}

/** Runs the suites as `args` say; resolves the exit code. */
export async function runConformance(args: RunArgs, print: (line: string) => void): Promise<number> {
  const cases = loadSuites(args.suites);
  const knownFailing = args.knownFailing === undefined ? [] : readKnownFailing(args.knownFailing);
  const { results, ok } = await runSuites({
    client: args.client,
    cases,
    run: args.run,
    skip: args.skip,
    knownFailing,
    parallel: args.parallel,
    ...(args.trace ? { trace: (line: string) => print(`  ${line}`) } : {}),
    onResult: (result) => {
      for (const line of caseLines(result, !args.trace)) print(line);
    },
  });
  if (args.junit !== undefined) writeFileSync(args.junit, junitReport(results));
  if (args.json !== undefined) writeFileSync(args.json, jsonReport(results));
  print(summaryLine(results));
  if (results.length === 0) {
    print('no case matched --run/--skip: nothing was checked');
    return 1;
  }
  return ok ? 0 : 1;
}
