/**
 * The guards `npm test` runs on the protocol: they pass on a good tree and fail on a stale `gen/`, a proto that
 * breaks `buf lint`, and an unrecorded breaking change — checked on a scratch copy of the project in its own
 * git repository.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'node_modules/.bin');
let dir: string;

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, VIBESTACK_ROOT: dir, PATH: `${bin}:${process.env.PATH}` },
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}
const checkGen = () => run(process.execPath, [join(repo, 'scripts/check-gen.mjs')]);
const checkBreaking = () => run(process.execPath, [join(repo, 'scripts/check-breaking.mjs')]);
const bufLint = () => run(join(bin, 'buf'), ['lint']);
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
const flowProto = () => join(dir, 'proto/vibestack/sync/v1/flow.proto');

function edit(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${from} not found in ${path}`);
  writeFileSync(path, text.replace(from, to));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vibestack-checks-'));
  for (const p of ['proto', 'buf.yaml', 'buf.gen.yaml', 'gen/src/gen', 'gen/src/protocol-version.ts']) {
    cpSync(join(repo, p), join(dir, p), { recursive: true });
  }
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'empty');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'protocol');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const commit = (message: string) => {
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', message);
};

describe('protocol guards', () => {
  it('pass on the committed protocol', () => {
    expect(checkGen()).toMatchObject({ ok: true });
    expect(bufLint()).toMatchObject({ ok: true });
    // HEAD~1 has no protocol: nothing to compare with.
    expect(checkBreaking().out).toMatch(/skipped/);
  });

  it('fail when gen/ is stale', () => {
    edit(
      flowProto(),
      '// Chosen by the sender, echoed in the Pong.',
      '// Chosen by the sender; echoed in the Pong.',
    );
    const r = checkGen();
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/stale: vibestack\/sync\/v1\/flow_pb\.ts/);
    git('checkout', '--', '.');
    expect(checkGen().ok).toBe(true);
  });

  it('fail when a proto breaks buf lint', () => {
    edit(flowProto(), 'uint64 nonce = 1;\n}', 'uint64 nonce = 1;\n  uint32 badName = 2;\n}');
    const r = bufLint();
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/badName/);
    git('checkout', '--', '.');
  });

  it('accept an additive change and reject an unrecorded break, against the previous commit', () => {
    edit(flowProto(), 'uint64 nonce = 1;\n}', 'uint64 nonce = 1;\n  // Added.\n  uint64 sent_at_ms = 2;\n}');
    const additive = checkBreaking(); // uncommitted: against HEAD
    expect(additive.ok, additive.out).toBe(true);
    commit('additive');
    expect(checkBreaking().out).toMatch(/no breaking change against HEAD~1/);

    edit(flowProto(), '  // Added.\n  uint64 sent_at_ms = 2;\n', '');
    const dirty = checkBreaking();
    expect(dirty.ok).toBe(false);
    commit('break');
    const r = checkBreaking(); // clean tree: against HEAD~1, as CI sees it
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/sent_at_ms|field "2"/);
  });

  it('accept a break recorded in the protocol version history in the same commit', () => {
    edit(
      join(dir, 'gen/src/protocol-version.ts'),
      ' * History:\n',
      ' * History:\n * // v2 BREAKING: removed Ping.sent_at_ms (test).\n',
    );
    // Amend the breaking commit so that break and record land together.
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--amend', '-m', 'break, recorded');
    const r = checkBreaking();
    expect(r.ok, r.out).toBe(true);
    expect(r.out).toMatch(/deliberate break/);
  });
});
