/**
 * A client process killed in the middle of a local apply transaction (docs/protocol.md §8.3, §8.7, §8.9): the
 * client runs in a child Node process over a file-backed PGlite; the `beforeCommit` seam blocks inside the
 * apply transaction of a chosen server transaction (after all its writes, before its commit), and the test
 * SIGKILLs the process there. Against real Postgres and the real Worker in workerd.
 *
 * After the kill the database holds exactly the state before that transaction (nothing of it, its applied LSN
 * not recorded). Restarted on the same directory, the client resumes from its applied LSN without a new
 * snapshot and applies the killed transaction — and the ones written while it was down — exactly once: each
 * applied transaction is recorded in a probe table in the same local transaction, keyed by its commit LSN, so
 * applying one twice would fail; counters incremented by every server transaction would drift if one were lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLsn } from '@vibestack/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROBE_QUERY } from './testing/apply-probe.ts';
import { type ChildClient, startChildClient } from './testing/child-client-process.ts';
import type { ChildConfig, ChildMessage } from './testing/child-client-protocol.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { serverTextRows, textRowsQuery } from './testing/text-rows.ts';

const COUNTERS = 5_000;
const BLOCK_ID = 1_000;
const EVENTS_QUERY = textRowsQuery('public.events', ['id', 'note'], 'id');
const COUNTERS_QUERY = textRowsQuery('public.counters', ['id', 'n'], 'id');
const STATE_QUERY = 'SELECT applied_lsn::text, snapshot_id FROM _vibestack.state';

let server: E2eServer;
let dataDir: string;
const children: ChildClient[] = [];

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE TABLE events (id int PRIMARY KEY, note text NOT NULL);
      CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL);
      INSERT INTO counters SELECT g, 0 FROM generate_series(1, ${COUNTERS}) g;
      INSERT INTO events VALUES (0, 'seed')`,
    scopes: [
      { table: 'public.events', rule: { kind: 'shared' } },
      { table: 'public.counters', rule: { kind: 'shared' } },
    ],
  });
  dataDir = mkdtempSync(join(tmpdir(), 'vibestack-crash-apply-'));
}, 120_000);

afterAll(async () => {
  for (const c of children) await c.kill();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function start(config: Omit<ChildConfig, 'dataDir'>): Promise<ChildClient> {
  const child = await startChildClient({ dataDir, ...config });
  children.push(child);
  return child;
}

/** One server transaction: inserts event `id` and increments 100 counters (all of them for `everyCounter`). */
async function writeEvent(id: number, everyCounter = false): Promise<void> {
  const where = everyCounter ? '' : `WHERE id % 50 = ${id % 50}`;
  await server.sql.query(
    `BEGIN; INSERT INTO events VALUES (${id}, 'event ${id}'); UPDATE counters SET n = n + 1 ${where}; COMMIT`,
  );
}

const isStatus = (state: string) => (m: ChildMessage) => m.type === 'status' && m.state === state;

async function expectChildConverges(child: ChildClient): Promise<void> {
  const serverRows = (q: string) => () => serverTextRows(server.sql, q);
  await expectConverges(() => child.query(EVENTS_QUERY), serverRows(EVENTS_QUERY), 60_000);
  await expectConverges(() => child.query(COUNTERS_QUERY), serverRows(COUNTERS_QUERY), 60_000);
}

it('a SIGKILL inside an apply transaction loses nothing, and the restarted client applies it exactly once', async () => {
  const token = await server.token('u1');
  const sync = { url: server.url, token };

  // First run: initial sync, then live transactions, then the blocked one.
  const first = await start({
    sync,
    probe: { table: 'events', run: 1 },
    blockOn: { table: 'events', key: String(BLOCK_ID) },
  });
  await first.waitFor(isStatus('LIVE'), 90_000);
  for (let id = 1; id <= 20; id++) await writeEvent(id);
  await expectChildConverges(first);
  const eventsBefore = await first.query(EVENTS_QUERY);
  const countersBefore = await first.query(COUNTERS_QUERY);

  await writeEvent(BLOCK_ID, true);
  const blocked = await first.waitFor(
    (m): m is Extract<ChildMessage, { type: 'blocked' }> => m.type === 'blocked',
    60_000,
  );
  expect(first.output.some((line) => line.startsWith('BLOCKED'))).toBe(true);
  // Written while the child hangs inside the apply transaction (received or not, never committed).
  for (let id = 21; id <= 25; id++) await writeEvent(id);
  await first.kill();
  expect((await first.exited).signal).toBe('SIGKILL');
  // Written while no client runs.
  for (let id = 26; id <= 35; id++) await writeEvent(id);

  // The applied LSN the first run last committed (a status is reported after every commit that moves it; a
  // Progress may have moved it after the events were applied).
  const lastStatus = [...first.messages].reverse().find((m) => m.type === 'status');
  const appliedBefore = lastStatus?.type === 'status' ? lastStatus.appliedLsn : '';
  expect(parseLsn(appliedBefore)).toBeGreaterThan(0n);

  // The directory as the kill left it: the state before the blocked transaction, exactly.
  const inspect = await start({});
  const [[appliedAfterKill, snapshotId]] = (await inspect.query(STATE_QUERY)) as [[string, string | null]];
  expect(appliedAfterKill).toBe(appliedBefore);
  expect(snapshotId).toBeNull();
  expect(parseLsn(appliedAfterKill)).toBeLessThan(parseLsn(blocked.commitLsns.at(-1)!));
  expect(await inspect.query(EVENTS_QUERY)).toEqual(eventsBefore);
  expect(await inspect.query(COUNTERS_QUERY)).toEqual(countersBefore);
  const probeAfterKill = await inspect.query(PROBE_QUERY);
  expect(probeAfterKill.map((r) => r[0])).not.toContain(blocked.commitLsns.at(-1));
  await inspect.stop();

  // Second run on the same directory: resumes (no snapshot), applies everything missing exactly once.
  const second = await start({ sync, probe: { table: 'events', run: 2 } });
  await second.waitFor(isStatus('LIVE'), 90_000);
  await expectChildConverges(second);
  const states = second.messages.flatMap((m) => (m.type === 'status' ? [m.state] : []));
  expect(states).not.toContain('SNAPSHOT');
  expect(states.filter((s) => s === 'FAILED')).toEqual([]);

  const probe = await second.query(PROBE_QUERY);
  // One probe row per server transaction after the snapshot, in commit order: events 1–20, the blocked one,
  // 21–35; the blocked one and everything after it applied by the second run.
  const expected = [
    ...Array.from({ length: 20 }, (_, i) => [`{${i + 1}}`, '1']),
    [`{${BLOCK_ID}}`, '2'],
    ...Array.from({ length: 15 }, (_, i) => [`{${i + 21}}`, '2']),
  ];
  expect(probe.map((r) => [r[1], r[2]])).toEqual(expected);
  expect(probe.find((r) => r[1] === `{${BLOCK_ID}}`)![0]).toBe(blocked.commitLsns.at(-1));
  const lsns = probe.map((r) => parseLsn(r[0]!));
  expect(lsns.every((l, i) => i === 0 || l > lsns[i - 1]!)).toBe(true);
  // The applied LSN covers the last transaction (it may be a later Progress LSN).
  const [[appliedFinal]] = (await second.query(STATE_QUERY)) as [[string]];
  expect(parseLsn(appliedFinal)).toBeGreaterThanOrEqual(lsns.at(-1)!);
  // Every counter was incremented once per transaction that touched it: none lost, none doubled.
  const counters = await second.query(COUNTERS_QUERY);
  const expectedN = (id: number) =>
    1 + Array.from({ length: 35 }, (_, i) => i + 1).filter((e) => e % 50 === id % 50).length;
  expect(counters.filter((r) => Number(r[1]) !== expectedN(Number(r[0])))).toEqual([]);
  await second.stop();
  expect((await second.exited).code).toBe(0);
}, 240_000);
