#!/usr/bin/env node
// `buf breaking` (FILE rules) of proto/ against the previous version of the protocol:
//   - with uncommitted changes under proto/: against HEAD;
//   - otherwise: against HEAD~1 (the previous commit of main, which is what CI sees).
// A deliberate break is accepted only when the same change adds a `// vN BREAKING: …` line to the version
// history in gen/src/protocol-version.ts, so that no break goes in unnoticed.
// VIBESTACK_BREAKING_AGAINST=<git ref> overrides the base.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
const HISTORY_FILE = 'gen/src/protocol-version.ts';
const BREAK_LINE = /^\+\s*(?:\*\s*)?\/\/ v\d+ BREAKING:/m;

function resolveBase() {
  if (process.env.VIBESTACK_BREAKING_AGAINST) return process.env.VIBESTACK_BREAKING_AGAINST;
  const dirty = git('status', '--porcelain', '--', 'proto').stdout.trim() !== '';
  return dirty ? 'HEAD' : 'HEAD~1';
}

const baseRef = resolveBase();
const base = git('rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`).stdout.trim();
if (!base) {
  console.log(`buf breaking: skipped — ${baseRef} does not exist (no previous protocol to compare with)`);
  process.exit(0);
}
if (
  git('cat-file', '-e', `${base}:buf.yaml`).status !== 0 ||
  git('cat-file', '-e', `${base}:proto`).status !== 0
) {
  console.log(`buf breaking: skipped — ${baseRef} (${base.slice(0, 12)}) has no protocol yet`);
  process.exit(0);
}

const result = spawnSync(
  join(root, 'node_modules/.bin/buf'),
  ['breaking', '--against', `.git#ref=${base},depth=0`],
  { cwd: root, encoding: 'utf8' },
);
if (result.status === 0) {
  console.log(`buf breaking: no breaking change against ${baseRef} (${base.slice(0, 12)})`);
  process.exit(0);
}
const report = `${result.stdout}${result.stderr}`;
const historyDiff = execFileSync('git', ['diff', base, '--', HISTORY_FILE], { cwd: root, encoding: 'utf8' });
if (BREAK_LINE.test(historyDiff)) {
  console.log(`buf breaking: deliberate break against ${baseRef}, recorded in ${HISTORY_FILE}:\n${report}`);
  process.exit(0);
}
console.error(
  `buf breaking: the protocol changed incompatibly against ${baseRef} (${base.slice(0, 12)}):\n${report}\n` +
    `Make the change additive, or (before 1.0) record the break with a "// vN BREAKING: …" line in the history of ${HISTORY_FILE}.`,
);
process.exit(1);
