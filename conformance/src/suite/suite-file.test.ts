import { readFileSync } from 'node:fs';
import { ErrorCode, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { parseFixture } from '../fixture/fixture-file.ts';
import { AdapterFeature, CommandErrorCode } from '../proto.ts';
import { fixturePointsOf, parseSuite, resolvePoint, SuiteError } from './suite-file.ts';

// The example suite of conformance/README.md ("Writing a suite"), as a YAML parser returns it.
const example = {
  name: 'resume',
  description: 'Reconnecting after a dropped connection resumes exactly where the client committed.',
  cases: [
    {
      name: 'drop-after-first-transaction',
      fixture: 'basic',
      server: { snapshot_at: { commit: 0 }, head: { commit: 3 }, max_changes_per_frame: 1 },
      connections: [
        { connection: 1, expect_hello: { fresh: true }, actions: [{ after_frame: 8, drop: {} }] },
        { connection: 2, expect_hello: { resume_at: { commit: 1 } } },
      ],
      steps: [
        { connect: {} },
        { await: { at: { commit: 3 }, timeout_ms: 5000 } },
        { advance_head: { end: true } },
        { await: { at: { end: true } } },
        { dump_state: { at: { end: true } } },
      ],
      expect: { connections: 2, final_state: { end: true } },
    },
    {
      name: 'restart-keeps-storage',
      fixture: 'basic',
      required_features: ['ADAPTER_FEATURE_PERSISTENT_STORAGE'],
      server: { head: { commit: 5 } },
      connections: [{ connection: 2, expect_hello: { resume_at: { commit: 5 } } }],
      steps: [
        { connect: {} },
        { await: { at: { commit: 5 } } },
        { restart: { drop_storage: false } },
        { connect: {} },
        { await: { at: { commit: 6 }, timeout_ms: 500, expect_error: 'COMMAND_ERROR_CODE_TIMEOUT' } },
      ],
    },
  ],
};

describe('parseSuite', () => {
  it('reads the README example (YAML field names in lower_snake_case, enums by name)', () => {
    const suite = parseSuite(example, 'resume.yaml');
    expect(suite.cases.map((c) => c.name)).toEqual(['drop-after-first-transaction', 'restart-keeps-storage']);
    const [drop, restart] = suite.cases;
    expect(drop!.server?.snapshotAt?.point).toEqual({ case: 'commit', value: 0 });
    expect(drop!.connections[0]!.actions[0]).toMatchObject({ afterFrame: 8, action: { case: 'drop' } });
    expect(restart!.requiredFeatures).toEqual([AdapterFeature.PERSISTENT_STORAGE]);
    expect(restart!.steps[4]!.step).toMatchObject({
      case: 'await',
      value: { expectError: CommandErrorCode.TIMEOUT },
    });

    const basic = parseFixture(readFileSync(new URL('../../fixtures/basic.json', import.meta.url), 'utf8'));
    expect(fixturePointsOf(drop!).map((p) => resolvePoint(basic, p))).toEqual([
      0,
      3,
      basic.commits.length,
      1,
      3,
      basic.commits.length,
      basic.commits.length,
      basic.commits.length,
    ]);
    expect(() =>
      resolvePoint(basic, { ...drop!.server!.head!, point: { case: 'commit', value: 99 } }),
    ).toThrow(RangeError);
  });

  it('lists every problem of a bad suite', () => {
    const bad = {
      name: 'Bad Name',
      cases: [
        { name: 'x', fixture: 'basic', steps: [{ connect: {} }] },
        {
          name: 'x',
          steps: [],
          connections: [
            {
              connection: 1,
              actions: [
                { after_frame: 5, drop: {} },
                { after_frame: 2, drop: {} },
              ],
            },
            { connection: 1 },
          ],
        },
      ],
    };
    const error = (() => {
      try {
        parseSuite(bad, 'bad.yaml');
      } catch (e) {
        return e as SuiteError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(SuiteError);
    expect(error.problems).toEqual([
      'suite name "Bad Name" is not [a-z0-9-]+',
      'case "x": name used twice',
      'case "x": no fixture',
      'case "x": no steps',
      'case "x": connection 1: actions are not in after_frame order',
      'case "x": two scripts for connection 1',
    ]);
    expect(() => parseSuite({ name: 's', cases: [{ name: 'c', bogus: 1 }] })).toThrow(/bogus/);
  });

  it('reads client settings, fresh tokens, no_subprotocol, schema_version expectations and raw server messages', () => {
    const suite = parseSuite({
      name: 's',
      cases: [
        {
          name: 'c',
          fixture: 'basic',
          client: { max_backoff_ms: 100, initial_credit: 3, schema_version: 'app-v7' },
          connections: [
            {
              connection: 1,
              expect_hello: { fresh: true, schema_version: '' },
              actions: [
                {
                  after_frame: 1,
                  send_raw: { message: { error: { code: 'ERROR_CODE_INTERNAL', message: 'x' } } },
                },
                { after_frame: 1, send_raw: { message: { transaction: { commit_lsn: '1' } } } },
                {
                  after_frame: 2,
                  send_raw: {
                    message: {
                      welcome: { protocol_version: 1, mode: 'SYNC_MODE_LIVE', max_frame_bytes: 65536 },
                    },
                  },
                },
              ],
            },
            { connection: 2, no_subprotocol: true, expect_close: { by_client: true } },
            { connection: 3, expect_hello: { schema_version: 'app-v7' } },
          ],
          steps: [{ connect: {} }, { fresh_token: {} }],
        },
      ],
    });
    const c = suite.cases[0]!;
    expect(c.client).toMatchObject({ maxBackoffMs: 100, initialCredit: 3, schemaVersion: 'app-v7' });
    expect(c.steps[1]!.step.case).toBe('freshToken');
    const [first, second, third] = c.connections;
    expect(first!.expectHello).toMatchObject({ resume: { case: 'fresh' }, schemaVersion: '' });
    expect(third!.expectHello?.schemaVersion).toBe('app-v7');
    expect(third!.expectHello?.resume.case).toBeUndefined();
    // Unset differs from empty: no check at all.
    expect(parseSuite(example).cases[0]!.connections[0]!.expectHello?.schemaVersion).toBeUndefined();
    expect(second!.noSubprotocol).toBe(true);
    expect(first!.noSubprotocol).toBe(false);
    const raw = first!.actions.map((a) => (a.action.case === 'sendRaw' ? a.action.value.frame : undefined));
    expect(raw[0]).toMatchObject({
      case: 'message',
      value: { message: { case: 'error', value: { code: ErrorCode.INTERNAL, message: 'x' } } },
    });
    expect(raw[1]).toMatchObject({ value: { message: { case: 'transaction', value: { commitLsn: 1n } } } });
    expect(raw[2]).toMatchObject({
      value: { message: { case: 'welcome', value: { mode: SyncMode.LIVE, maxFrameBytes: 65536 } } },
    });
  });

  it('refuses a no_subprotocol connection with actions or a Hello expectation', () => {
    const suite = (script: Record<string, unknown>) => ({
      name: 's',
      cases: [{ name: 'c', fixture: 'basic', connections: [script], steps: [{ connect: {} }] }],
    });
    expect(() =>
      parseSuite(suite({ connection: 1, no_subprotocol: true, actions: [{ after_frame: 0, drop: {} }] })),
    ).toThrow(/connection 1: no_subprotocol with actions or expect_hello/);
    expect(() =>
      parseSuite(suite({ connection: 2, no_subprotocol: true, expect_hello: { fresh: true } })),
    ).toThrow(/connection 2: no_subprotocol/);
    expect(parseSuite(suite({ connection: 2, no_subprotocol: true })).cases).toHaveLength(1);
  });
});
