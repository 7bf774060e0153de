/** Helpers of the client benchmarks (Node only). */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs `f` (which handles `perCall` items) for about a second after a warm-up; returns items per second. */
export function measure(f: () => unknown, perCall: number): number {
  for (let i = 0; i < 3; i++) f();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) {
    f();
    calls++;
  }
  return Math.round((calls * perCall * 1000) / (performance.now() - start));
}

/** Writes a benchmark's numbers to the repository's `bench/results/client-<name>.json` (git-ignored). */
export function writeResults(name: string, results: Record<string, unknown>): void {
  const dir = join(import.meta.dirname, '../../../bench/results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(results, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  writeFileSync(join(dir, `client-${name}.json`), `${json}\n`);
}
