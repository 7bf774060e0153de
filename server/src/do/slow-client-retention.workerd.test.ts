/**
 * A connected slow client whose next transaction leaves the change log must get MUST_REFETCH (docs/protocol.md
 * §8.9, §10.4), never a gap: a LIVE client that stops granting credit while its transactions commit and are
 * dropped by retention, then grants credit again. Real workerd, real Postgres, a tiny `LOG_RETENTION_BYTES`.
 */
import { ErrorCode, parseLsn, type ServerMessage } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ItemsWorker, startItemsWorker } from '../testing/items-worker.ts';
import type { ProtocolClient } from '../testing/protocol-client.ts';

let w: ItemsWorker;

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

/** The ids inserted by the transactions a client received, in order. */
function insertedIds(c: ProtocolClient, from: number): number[] {
  return c.frames.slice(from).flatMap((f) => {
    const m = f.message.message;
    if (m.case !== 'transaction') return [];
    return m.value.changes.flatMap((ch) =>
      ch.kind.case === 'insert' ? [Number(ch.kind.value.newRow?.values[0]?.kind.value)] : [],
    );
  });
}

beforeAll(async () => {
  w = await startItemsWorker({ rows: 3, vars: { LOG_RETENTION_BYTES: '20000' } });
}, 90_000);

afterAll(() => w?.stop(), 60_000);

/** Commits 150 transactions of ~1 KB (retention keeps only the newest ~20) and waits until they are logged. */
async function commitPastRetention(firstId: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    await w.sql.query("INSERT INTO items VALUES ($1, 0, repeat('x', 1000))", [firstId + i]);
  }
  const { rows } = await w.sql.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const committed = parseLsn(rows[0]!.lsn) - 1n;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${w.worker.url}/health`)).json()) as {
      replication?: { lastDurableLsn?: string | null };
    };
    const durable = health.replication?.lastDurableLsn;
    if (durable && parseLsn(durable) >= committed) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A LIVE connection of a client that synced once: its acknowledged LSN, with `credit` and no more. */
async function liveClient(
  clientId: string,
  credit: number,
  answerPings = false,
): Promise<{ c: ProtocolClient; resumeLsn: bigint }> {
  const first = await w.connect(clientId, 'u1', { answerPings: false });
  await first.waitFor(is('snapshotEnd'), 20_000);
  await first.waitFor(() => first.ackedLsn() > 0n, 5_000);
  const resumeLsn = first.ackedLsn();
  first.close();
  await first.closed;
  const c = await w.connect(clientId, 'u1', {
    resumeLsn,
    initialCredit: credit,
    manualCredit: true,
    autoAck: false,
    answerPings,
  });
  await c.waitFor(is('welcome'), 10_000);
  return { c, resumeLsn };
}

/**
 * The client received a gapless prefix of the 150 inserts from `firstId`; fewer than all of them only with
 * MUST_REFETCH and its close.
 */
async function expectNoGap(c: ProtocolClient, from: number, firstId: number): Promise<void> {
  const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
  const ids = insertedIds(c, from);
  expect(ids).toEqual(ids.map((_, i) => firstId + i));
  if (ids.length === 150) return;
  const errors = c.frames.flatMap((f) =>
    f.message.message.case === 'error' ? [f.message.message.value] : [],
  );
  expect(errors.map((e) => e.code)).toEqual([ErrorCode.MUST_REFETCH]);
  expect(closed).toMatchObject({ code: 4000 + ErrorCode.MUST_REFETCH });
}

describe('a client whose next transaction left the change log gets MUST_REFETCH, never a gap', () => {
  it('connected: a LIVE client that granted one credit while 150 transactions committed', async () => {
    const { c } = await liveClient('slow-connected', 1);
    const from = c.frames.length;
    await commitPastRetention(1_000);
    c.send({ case: 'credit', value: { frames: 1000 } });
    await expectNoGap(c, from, 1_000);
  }, 90_000);

  it('hibernated: the SyncDO was evicted while the client waited without credit', async () => {
    const { c } = await liveClient('slow-hibernated', 1, true);
    // Idle past workerd's eviction of the SyncDO (~10 s) before the writes.
    await new Promise((r) => setTimeout(r, 12_000));
    const from = c.frames.length;
    await commitPastRetention(2_000);
    c.send({ case: 'credit', value: { frames: 1000 } });
    await expectNoGap(c, from, 2_000);
  }, 90_000);

  it('reconnecting: resuming from an LSN the log no longer continues', async () => {
    const { c, resumeLsn } = await liveClient('slow-reconnecting', 64);
    c.close();
    await c.closed;
    await commitPastRetention(3_000);
    const again = await w.connect('slow-reconnecting', 'u1', { resumeLsn });
    await expectNoGap(again, 0, 3_000);
  }, 90_000);
});
