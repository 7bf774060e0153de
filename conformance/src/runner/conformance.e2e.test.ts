import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunArgs, runConformance } from './run-command.ts';
import { type CaseResult, runSuites } from './run-suites.ts';
import { BUILTIN_FIXTURES, loadSuites, PACKAGE_ROOT } from './suite-loader.ts';

// Everything running: the reference server in this process, adapters (with PGlite) as child processes.
const TS_ADAPTER = `node ${join(PACKAGE_ROOT, 'adapters/typescript/bin.js')}`;
const broken = (fault: string) => `node ${join(PACKAGE_ROOT, 'src/testing/broken-adapter.js')} ${fault}`;
const failuresOf = (results: readonly CaseResult[]) =>
  results.filter((r) => r.verdict === 'failed').map((r) => `${r.name}: ${r.messages.join(' | ')}`);

const temp = mkdtempSync(join(tmpdir(), 'vibestack-conformance-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('the TypeScript client', () => {
  it('passes every built-in case', { timeout: 180_000 }, async () => {
    const cases = loadSuites([]);
    const { results, ok } = await runSuites({ client: TS_ADAPTER, cases, parallel: 2 });
    expect(failuresOf(results)).toEqual([]);
    expect(results.filter((r) => r.verdict === 'skipped').map((r) => r.name)).toEqual([]);
    expect(results).toHaveLength(cases.length);
    expect(ok).toBe(true);
  });
});

describe('broken adapters are caught', () => {
  const cases = loadSuites([]);
  const pick = (...names: string[]) => names.map((n) => cases.find((c) => c.name === n)!);

  it.each([
    ['no-ack', ['live/insert'], /acknowledged only 0/],
    ['ack-beyond', ['live/update'], /beyond the last LSN delivered/],
    ['resume-behind', ['catch-up/restart-keeps-storage'], /below the LSN .* the client acknowledged/],
  ])('%s', { timeout: 60_000 }, async (fault, names, message) => {
    const { results, ok } = await runSuites({ client: broken(fault), cases: pick(...names) });
    expect(ok).toBe(false);
    for (const r of results) {
      expect(r.verdict, r.name).toBe('failed');
      expect(r.messages.join('\n')).toMatch(message);
    }
  });

  describe('the standing checks', () => {
    // Test-only cases (src/testing/suites/): our client passes them, a client that breaks the rule fails them.
    const checks = loadSuites([join(PACKAGE_ROOT, 'src/testing/suites')]).filter(
      (c) => c.suite.name === 'standing-checks',
    );
    const check = (name: string) => [checks.find((c) => c.name === `standing-checks/${name}`)!];

    it('our client passes them', { timeout: 60_000 }, async () => {
      const { results, ok } = await runSuites({ client: TS_ADAPTER, cases: checks });
      expect(failuresOf(results)).toEqual([]);
      expect(results.map((r) => r.verdict)).toEqual(['passed', 'passed']);
      expect(ok).toBe(true);
    });

    it.each([
      [
        'resend-refused-token',
        'fresh-token-after-unauthenticated',
        /connection 2: the Hello resent the token refused with UNAUTHENTICATED on connection 1 \(§4\.3\)/,
      ],
      [
        'ignore-retry-after',
        'retry-after-honoured',
        /connection 2: the client opened it \d+ ms after the server closed connection 1 with OVERLOADED retry_after_ms 1500/,
      ],
    ])('%s fails %s', { timeout: 60_000 }, async (fault, name, message) => {
      const { results, ok } = await runSuites({ client: broken(fault), cases: check(name) });
      expect(ok).toBe(false);
      expect(results[0]?.verdict).toBe('failed');
      expect(results[0]?.messages.join('\n')).toMatch(message);
    });
  });

  it('an adapter that crashes fails its case, and a new adapter runs the next', {
    timeout: 60_000,
  }, async () => {
    const { results } = await runSuites({
      client: broken('crash-on-dump'),
      cases: pick('live/insert', 'handshake/unsupported-version'),
    });
    const crashed = results.find((r) => r.name === 'live/insert');
    const next = results.find((r) => r.name === 'handshake/unsupported-version');
    expect(crashed?.verdict).toBe('failed');
    expect(crashed?.adapterBroken).toBe(true);
    // The second case has no dump: it passes on a fresh adapter.
    expect(next?.verdict).toBe('passed');
  });

  it('an adapter that stops answering fails the case at its timeout and is replaced', {
    timeout: 60_000,
  }, async () => {
    const hanging = pick('live/insert', 'handshake/unsupported-version').map((c, i) =>
      i === 0 ? { ...c, testCase: { ...c.testCase, timeoutMs: 3000 } } : c,
    );
    const { results } = await runSuites({ client: broken('hang-on-dump'), cases: hanging });
    const hung = results.find((r) => r.name === 'live/insert');
    expect(hung?.verdict).toBe('failed');
    expect(hung?.messages.join('\n')).toMatch(/took longer than 3000 ms/);
    expect(hung?.adapterBroken).toBe(true);
    expect(results.find((r) => r.name === 'handshake/unsupported-version')?.verdict).toBe('passed');
  });

  it('a dump missing rows fails; known-failing cases must fail, and one that passes fails the run', {
    timeout: 60_000,
  }, async () => {
    const { results, ok } = await runSuites({
      client: broken('wrong-dump'),
      cases: pick('live/update', 'type-matrix/snapshot', 'handshake/unsupported-version'),
      knownFailing: ['live/*', 'handshake/unsupported-version'],
    });
    expect(Object.fromEntries(results.map((r) => [r.name, r.verdict]))).toEqual({
      'live/update': 'known-failing',
      'type-matrix/snapshot': 'failed',
      'handshake/unsupported-version': 'unexpected-pass',
    });
    for (const r of results.filter((x) => x.name !== 'handshake/unsupported-version')) {
      expect(r.messages.join('\n')).toMatch(/missing row/);
    }
    expect(ok).toBe(false);
  });
});

describe('extra suites', () => {
  it('runs a --suite directory from outside the repository, with its own fixture', {
    timeout: 60_000,
  }, async () => {
    const dir = join(temp, 'my-suites');
    mkdirSync(join(dir, 'fixtures'), { recursive: true });
    cpSync(join(BUILTIN_FIXTURES, 'basic.json'), join(dir, 'fixtures', 'my-basic.json'));
    writeFileSync(
      join(dir, 'mine.yaml'),
      `name: mine
description: A suite kept outside the repository.
cases:
  - name: snapshot-then-live
    fixture: my-basic
    server: { snapshot_at: { commit: 3 }, head: { commit: 3 } }
    steps:
      - connect: {}
      - await: { at: { commit: 3 } }
      - advance_head: { end: true }
      - await: { at: { end: true } }
      - dump_state: { at: { end: true } }
  - name: wrong-expectation
    fixture: my-basic
    server: { snapshot_at: { commit: 3 } }
    steps:
      - connect: {}
      - await: { at: { commit: 3 } }
      - dump_state: { at: { commit: 2 } }
`,
    );
    const known = join(temp, 'known-failing.txt');
    writeFileSync(known, '# expected to fail\nmine/wrong-expectation\n');
    const lines: string[] = [];
    const json = join(temp, 'report.json');
    const junit = join(temp, 'report.xml');
    const code = await runConformance(
      parseRunArgs([
        '--client',
        TS_ADAPTER,
        '--suite',
        dir,
        '--run',
        'mine/*',
        '--known-failing',
        known,
        '--json',
        json,
        '--junit',
        junit,
      ]),
      (line) => lines.push(line),
    );
    expect(lines.filter((l) => /^(PASS|FAIL|XFAIL|XPASS|SKIP)/.test(l))).toEqual([
      expect.stringMatching(/^PASS {2}mine\/snapshot-then-live/),
      expect.stringMatching(/^XFAIL mine\/wrong-expectation/),
    ]);
    expect(lines[lines.length - 1]).toBe('1 passed, 0 failed, 1 known failing');
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { cases: { name: string; verdict: string }[] };
    expect(report.cases.map((c) => c.verdict)).toEqual(['passed', 'known-failing']);
    expect(readFileSync(junit, 'utf8')).toContain('<testcase classname="mine" name="snapshot-then-live"');
  });
});
