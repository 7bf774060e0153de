#!/usr/bin/env node
// `npm test`: every check and every test, with no external service (tests that need Postgres start an
// embedded one). Runs all steps even after a failure, prints a summary, exits non-zero on any failure.
//   npm test                 everything
//   npm test -- --only=vitest   one step (names below); extra arguments after the step go to vitest
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules/.bin', name);
const tmp = mkdtempSync(join(tmpdir(), 'vibestack-test-'));
const vitestJson = join(tmp, 'vitest.json');

const TS_PROJECTS = [
  'gen/tsconfig.json',
  'gen/tsconfig.test.json',
  'server/tsconfig.json',
  'server/src/node/tsconfig.json',
  'bench/tsconfig.json',
  'client/tsconfig.json',
  'client/tsconfig.test.json',
  'conformance/tsconfig.json',
];

const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };

const steps = [
  { name: 'lint', cmd: bin('biome'), args: ['check', '--error-on-warnings', '.'] },
  { name: 'buf-lint', cmd: bin('buf'), args: ['lint'] },
  { name: 'gen-fresh', cmd: process.execPath, args: ['scripts/check-gen.mjs'] },
  { name: 'buf-breaking', cmd: process.execPath, args: ['scripts/check-breaking.mjs'] },
  ...TS_PROJECTS.map((p) => ({ name: `typecheck:${p}`, cmd: bin('tsc'), args: ['-p', p] })),
  {
    name: 'wrangler-dry-run',
    cmd: bin('wrangler'),
    args: ['deploy', '--dry-run', '--outdir', join(tmp, 'dist'), '--config', 'server/wrangler.jsonc'],
  },
  {
    name: 'vitest',
    cmd: bin('vitest'),
    args: ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`],
  },
];

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const extra = process.argv.slice(2).filter((a) => !a.startsWith('--only='));
const selected = only ? steps.filter((s) => s.name === only || s.name.startsWith(`${only}:`)) : steps;
if (selected.length === 0) {
  console.error(`no step named ${only}; steps: ${steps.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const results = [];
for (const step of selected) {
  const started = Date.now();
  console.log(`\n▶ ${step.name}`);
  const args = step.name === 'vitest' ? [...step.args, ...extra] : step.args;
  const r = spawnSync(step.cmd, args, { cwd: root, stdio: 'inherit', env });
  const ok = r.status === 0;
  results.push({ name: step.name, ok, seconds: (Date.now() - started) / 1000 });
  console.log(`${ok ? '✔' : '✘'} ${step.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

let testsPassed = 0;
let testsFailed = 0;
try {
  const report = JSON.parse(readFileSync(vitestJson, 'utf8'));
  testsPassed = report.numPassedTests;
  testsFailed = report.numFailedTests;
} catch {
  // vitest did not run or wrote no report: its step result says why.
}
rmSync(tmp, { recursive: true, force: true });

const checksPassed = results.filter((r) => r.ok).length;
const checksFailed = results.length - checksPassed;
console.log('\nSummary');
for (const r of results) console.log(`  ${r.ok ? 'pass' : 'FAIL'}  ${r.name} (${r.seconds.toFixed(1)} s)`);
console.log(`steps: ${checksPassed} passed, ${checksFailed} failed`);
console.log(`tests: ${testsPassed} passed, ${testsFailed} failed`);
const vitestStep = results.find((r) => r.name === 'vitest');
if (vitestStep?.ok && testsPassed === 0) {
  console.error('vitest ran no test');
  process.exit(1);
}
process.exit(checksFailed === 0 && testsFailed === 0 ? 0 : 1);
