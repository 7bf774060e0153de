import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SuiteError } from '../suite/suite-file.ts';
import { globMatcher, loadSuites, readKnownFailing } from './suite-loader.ts';

const temp = mkdtempSync(join(tmpdir(), 'vibestack-suite-loader-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('suite loader', () => {
  it('reads the built-in suites: valid, unique names, fixtures resolved, at least 60 cases', () => {
    const cases = loadSuites([]);
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect(c.fixture.commits.length, c.name).toBeGreaterThan(0);
  });

  it('adds extra directories, resolving their fixtures beside them, then the built-in ones', () => {
    const dir = join(temp, 'extra');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'x.yaml'),
      'name: extra\ncases:\n  - name: one\n    fixture: basic\n    steps: [{ connect: {} }]\n',
    );
    const cases = loadSuites([dir]);
    expect(cases.filter((c) => c.suite.name === 'extra').map((c) => c.name)).toEqual(['extra/one']);
  });

  it('reads hidden and absent tables, and refuses a table the fixture does not have', () => {
    const dir = join(temp, 'tables');
    mkdirSync(dir);
    const suite = (table: string) => `name: tables
cases:
  - name: one
    fixture: basic
    connections: [{ connection: 2, hidden_tables: [public.tags] }]
    steps: [{ dump_state: { at: { end: true }, absent_tables: [${table}] } }]
`;
    writeFileSync(join(dir, 'tables.yaml'), suite('public.tags'));
    const [loaded] = loadSuites([dir]).filter((c) => c.suite.name === 'tables');
    expect(loaded!.testCase.connections[0]!.hiddenTables).toEqual(['public.tags']);
    const dump = loaded!.testCase.steps[0]!.step;
    expect(dump.case === 'dumpState' ? dump.value.absentTables : []).toEqual(['public.tags']);
    writeFileSync(join(dir, 'tables.yaml'), suite('public.nope'));
    expect(() => loadSuites([dir])).toThrow(/public\.nope is not in fixture basic/);
  });

  it('reads YAML with raw server messages in proto3 JSON, client settings and fresh tokens', () => {
    const dir = join(temp, 'raw');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'raw.yaml'),
      `name: raw
cases:
  - name: one
    fixture: basic
    client: { max_backoff_ms: 50 }
    connections:
      - connection: 1
        actions:
          - { after_frame: 1, send_raw: { message: { error: { code: ERROR_CODE_INTERNAL, message: "x" } } } }
          - { after_frame: 2, send_raw: { message: { transaction: { commit_lsn: "1" } } } }
      - { connection: 2, no_subprotocol: true }
    steps: [{ connect: {} }, { fresh_token: {} }]
`,
    );
    const [loaded] = loadSuites([dir]).filter((c) => c.suite.name === 'raw');
    const frames = loaded!.testCase.connections[0]!.actions.map((a) =>
      a.action.case === 'sendRaw' && a.action.value.frame.case === 'message'
        ? a.action.value.frame.value.message.case
        : undefined,
    );
    expect(frames).toEqual(['error', 'transaction']);
    expect(loaded!.testCase.client?.maxBackoffMs).toBe(50);
    expect(loaded!.testCase.connections[1]!.noSubprotocol).toBe(true);
    expect(loaded!.testCase.steps.map((s) => s.step.case)).toEqual(['connect', 'freshToken']);
  });

  it('refuses a missing fixture, a point beyond the fixture, and a suite name used twice', () => {
    const write = (name: string, text: string) => {
      const dir = join(temp, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 's.yaml'), text);
      return dir;
    };
    const noFixture = write(
      'a',
      'name: a\ncases:\n  - name: c\n    fixture: nope\n    steps: [{ connect: {} }]\n',
    );
    expect(() => loadSuites([noFixture])).toThrow(/no fixture "nope"/);
    const beyond = write(
      'b',
      'name: b\ncases:\n  - name: c\n    fixture: basic\n    steps: [{ await: { at: { commit: 99 } } }]\n',
    );
    expect(() => loadSuites([beyond])).toThrow(SuiteError);
    const twice = write(
      'c',
      'name: live\ncases:\n  - name: c\n    fixture: basic\n    steps: [{ connect: {} }]\n',
    );
    expect(() => loadSuites([twice])).toThrow(/also used by/);
  });

  it('matches globs over whole case names', () => {
    expect(globMatcher('live/*')('live/insert')).toBe(true);
    expect(globMatcher('live/*')('lively/insert')).toBe(false);
    expect(globMatcher('*/drop-after-frame-1?')('drop-after-frame/drop-after-frame-12')).toBe(true);
    expect(globMatcher('*/drop-after-frame-1?')('drop-after-frame/drop-after-frame-1')).toBe(false);
    expect(globMatcher('a.b')('axb')).toBe(false);
  });

  it('reads known-failing files: globs, comments, blank lines', () => {
    const path = join(temp, 'known.txt');
    writeFileSync(path, '# header\n\nlive/insert  # flaky in X\n  frames/*\n');
    expect(readKnownFailing(path)).toEqual(['live/insert', 'frames/*']);
  });
});
