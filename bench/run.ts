/**
 * `npm run bench`: runs every benchmark, prints its numbers and writes them to
 * `bench/results/<name>-<timestamp>.json` (and `<name>-latest.json`). Benchmarks measure; they never assert.
 *   npm run bench              all
 *   npm run bench -- codec     those whose name contains "codec"
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { cliBenchmark } from './cli.bench.ts';
import { clientBenchmark } from './client.bench.ts';
import { codecBenchmark } from './codec.bench.ts';
import { connectionsBenchmark } from './connections.bench.ts';
import { serverBenchmark } from './server.bench.ts';

/** A benchmark: returns named numbers (with units in the names). */
export interface Benchmark {
  name: string;
  run(): Promise<Record<string, number | string>>;
}

const benchmarks: Benchmark[] = [
  codecBenchmark,
  serverBenchmark,
  clientBenchmark,
  cliBenchmark,
  connectionsBenchmark,
];
const filter = process.argv[2];
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });

for (const b of benchmarks.filter((x) => !filter || x.name.includes(filter))) {
  console.log(`\n▶ ${b.name}`);
  const results = await b.run();
  for (const [k, v] of Object.entries(results))
    console.log(
      `  ${k.padEnd(44)} ${typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : v}`,
    );
  const record = {
    benchmark: b.name,
    at: new Date().toISOString(),
    machine: {
      node: process.version,
      arch: arch(),
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryBytes: totalmem(),
    },
    results,
  };
  const json = `${JSON.stringify(record, null, 2)}\n`;
  writeFileSync(join(resultsDir, `${b.name}-${record.at.replace(/[:.]/g, '-')}.json`), json);
  writeFileSync(join(resultsDir, `${b.name}-latest.json`), json);
}
