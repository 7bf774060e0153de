#!/usr/bin/env node
// `buf breaking` (FILE rules) of proto/ against the previous version of the protocol:
//   - with uncommitted changes under proto/: against HEAD;
//   - otherwise: against HEAD~1 (the previous commit of main, which is what CI sees).
// A deliberate break is accepted only when the same change adds a `// vN BREAKING: …` line to the version
// history in gen/src/protocol-version.ts, so that no break goes in unnoticed.
// VIBESTACK_BREAKING_AGAINST=<git ref> overrides the base.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// VIBESTACK_ROOT points the check at another copy of the project (used by its own tests); tools come from here.
const tools = new URL('..', import.meta.url).pathname;
const root = process.env.VIBESTACK_ROOT ?? tools;
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

// Compare against a copy of the base's proto tree (works in shallow clones and for any commit).
const against = mkdtempSync(join(tmpdir(), 'vibestack-breaking-'));
let result;
try {
  execSync(`git archive ${base} buf.yaml proto | tar -x -C "${against}"`, { cwd: root });
  result = spawnSync(join(tools, 'node_modules/.bin/buf'), ['breaking', '--against', against], {
    cwd: root,
    encoding: 'utf8',
  });
} finally {
  rmSync(against, { recursive: true, force: true });
}
if (result.status === 0) {
  console.log(`buf breaking: no breaking change against ${baseRef} (${base.slice(0, 12)})`);
  process.exit(0);
}
const report = `${result.stdout}${result.stderr}`;
if (result.status !== 100) {
  // buf exits 100 for breaking changes; anything else is a failure to run the check at all.
  console.error(`buf breaking could not run against ${baseRef} (exit ${result.status}):\n${report}`);
  process.exit(1);
}
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
