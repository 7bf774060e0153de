#!/usr/bin/env node
// Fails when the committed generated code in gen/src/gen differs from what `buf generate` produces now.
// Generates into a temporary directory, so the working tree is never touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

// VIBESTACK_ROOT points the check at another copy of the project (used by its own tests); tools come from here.
const tools = new URL('..', import.meta.url).pathname;
const root = process.env.VIBESTACK_ROOT ?? tools;
const committed = join(root, 'gen/src/gen');
const out = mkdtempSync(join(tmpdir(), 'vibestack-gen-'));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

try {
  const bin = join(tools, 'node_modules/.bin');
  execFileSync(join(bin, 'buf'), ['generate', '--output', out], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const fresh = join(out, 'gen/src/gen');
  const a = new Set(files(committed).map((f) => relative(committed, f)));
  const b = new Set(files(fresh).map((f) => relative(fresh, f)));
  const problems = [];
  for (const f of b) {
    if (!a.has(f)) problems.push(`missing from gen/: ${f}`);
    else if (readFileSync(join(committed, f), 'utf8') !== readFileSync(join(fresh, f), 'utf8'))
      problems.push(`stale: ${f}`);
  }
  for (const f of a) if (!b.has(f)) problems.push(`not generated from any proto: ${f}`);
  if (problems.length > 0) {
    console.error(
      `gen/ is out of date with proto/ — run \`npm run gen\` and commit:\n  ${problems.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(`gen/ is up to date (${b.size} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
