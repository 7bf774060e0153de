/**
 * A whole run: the selected cases spread over `parallel` adapter processes (each running its cases one after
 * another), one reference server for all of them, known-failing cases checked to fail, a result per case.
 */

import type { ReferenceServer } from '../server/reference-server.ts';
import { startReferenceServer } from '../server/reference-server.ts';
import { type AdapterProcess, startAdapter } from './adapter-process.ts';
import { type CaseOutcome, runCase } from './run-case.ts';
import { globMatcher, type LoadedCase } from './suite-loader.ts';

/** What a case's result means for the run. */
export type CaseVerdict =
  /** Passed, as expected. */
  | 'passed'
  /** Failed and is not known to fail. */
  | 'failed'
  /** Skipped (missing feature, unsupported command). */
  | 'skipped'
  /** Failed, and is listed as known failing: as expected. */
  | 'known-failing'
  /** Passed although listed as known failing: fails the run. */
  | 'unexpected-pass';

/** The result of one case. */
export interface CaseResult extends CaseOutcome {
  readonly name: string;
  readonly suite: string;
  readonly verdict: CaseVerdict;
}

/** Options of {@link runSuites}. */
export interface RunOptions {
  /** The adapter's command line. */
  readonly client: string;
  readonly cases: readonly LoadedCase[];
  /** Globs over `<suite>/<case>`: only matching cases run (all when empty). */
  readonly run?: readonly string[];
  /** Globs of cases not to run. */
  readonly skip?: readonly string[];
  /** Globs of cases that must fail. */
  readonly knownFailing?: readonly string[];
  /** Adapter processes at once; default 1. */
  readonly parallel?: number;
  /** Streams adapter logs and server traces as they come. */
  readonly trace?: (line: string) => void;
  /** Called as each case ends. */
  readonly onResult?: (result: CaseResult) => void;
}

/** The results of a run, in case order. */
export interface RunResult {
  readonly results: readonly CaseResult[];
  /** True when every case ended as expected (passed, skipped, or known failing and failed). */
  readonly ok: boolean;
}

const matchesAny = (globs: readonly string[] | undefined) => {
  const matchers = (globs ?? []).map(globMatcher);
  return (name: string) => matchers.some((m) => m(name));
};

function verdictOf(outcome: CaseOutcome, knownFailing: boolean): CaseVerdict {
  if (outcome.status === 'skipped') return 'skipped';
  if (knownFailing) return outcome.status === 'failed' ? 'known-failing' : 'unexpected-pass';
  return outcome.status;
}

/** Runs the selected cases and resolves with every result. */
export async function runSuites(options: RunOptions): Promise<RunResult> {
  const selected = matchesAny(options.run);
  const skipped = matchesAny(options.skip);
  const known = matchesAny(options.knownFailing);
  const queue = options.cases.filter(
    (c) => (options.run === undefined || options.run.length === 0 || selected(c.name)) && !skipped(c.name),
  );
  const order = new Map(queue.map((c, i) => [c.name, i]));
  const results: CaseResult[] = [];
  const server: ReferenceServer = await startReferenceServer();
  const adapters = new Set<AdapterProcess>();
  const launch = () => {
    const a = startAdapter(options.client, options.trace && ((line) => options.trace!(`[adapter] ${line}`)));
    adapters.add(a);
    return a;
  };
  const worker = async () => {
    let adapter: AdapterProcess | undefined;
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (adapter === undefined || !adapter.alive) {
        if (adapter) {
          adapters.delete(adapter);
          await adapter.stop();
        }
        adapter = launch();
      }
      const outcome = await runCase(adapter, server, next, options.trace ? { trace: options.trace } : {});
      const result: CaseResult = {
        ...outcome,
        name: next.name,
        suite: next.suite.name,
        verdict: verdictOf(outcome, known(next.name)),
      };
      results.push(result);
      options.onResult?.(result);
      if (outcome.adapterBroken) {
        adapters.delete(adapter);
        await adapter.stop();
        adapter = undefined;
      }
    }
  };
  try {
    const n = Math.max(1, Math.min(options.parallel ?? 1, queue.length || 1));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await Promise.all([...adapters].map((a) => a.stop()));
    await server.close();
  }
  results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return {
    results,
    ok: results.every((r) => r.verdict !== 'failed' && r.verdict !== 'unexpected-pass'),
  };
}
