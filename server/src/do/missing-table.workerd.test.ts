/**
 * A table named in SYNC_SCOPES that does not exist yet (a deploy that runs before its migration) in real workerd
 * against real Postgres: the server says which one, keeps serving the other tables (`/health` stays ok), and
 * picks the table up once it is created — every client then re-syncs once (MUST_REFETCH), since the change log
 * cannot express the rows the table had before it joined the publication.
 */
import { ErrorCode, type ServerMessage } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ItemsWorker, startItemsWorker } from '../testing/items-worker.ts';
import type { ProtocolClient } from '../testing/protocol-client.ts';

const SCOPES = JSON.stringify([
  { table: 'public.items', rule: { kind: 'shared' } },
  { table: 'public.later', rule: { kind: 'shared' } },
]);

let w: ItemsWorker;

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;
const connect = (clientId: string) => w.connect(clientId, 'u1');
const health = async () => {
  const r = await fetch(`${w.worker.url}/health`);
  return { status: r.status, body: (await r.json()) as { replication?: { missingTables?: string[] } } };
};

/** Table names of the Relations a connection received. */
const relations = (c: ProtocolClient, from = 0) =>
  c.frames
    .slice(from)
    .flatMap((f) => (f.message.message.case === 'relation' ? [f.message.message.value.name] : []));

beforeAll(async () => {
  w = await startItemsWorker({ vars: { SYNC_SCOPES: SCOPES } });
}, 90_000);

afterAll(() => w?.stop(), 60_000);

describe('a SYNC_SCOPES table that does not exist yet', () => {
  let c: ProtocolClient;

  it('is named, and the other tables sync; /health stays ok and lists it', async () => {
    c = await connect('missing-1');
    await c.waitFor(is('snapshotEnd'), 20_000);
    expect(relations(c)).toEqual(['items']);
    const rows = c.frames.flatMap((f) =>
      f.message.message.case === 'snapshotChunk' ? f.message.message.value.rows : [],
    );
    expect(rows).toHaveLength(5);
    const report = await health();
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ status: 'ok', replication: { missingTables: ['public.later'] } });
    expect(await w.logged((l) => l.includes('public.later'))).toBe(true);
    expect(w.lines.filter((l) => l.includes('do not exist: public.later'))).toHaveLength(1);
  }, 40_000);

  it('is picked up once created: connected clients re-sync once and then get its rows and changes', async () => {
    await w.sql.query('CREATE TABLE later (id int PRIMARY KEY, note text)');
    await w.sql.query("INSERT INTO later VALUES (1, 'before it was synced')");
    expect((await c.closed).code).toBe(4000 + ErrorCode.MUST_REFETCH);
    const again = await connect('missing-1');
    await again.waitFor(is('snapshotEnd'), 20_000);
    expect(relations(again).sort()).toEqual(['items', 'later']);
    const from = again.frames.length;
    await w.sql.query("INSERT INTO later VALUES (2, 'after')");
    await again.waitFor(is('transaction'), 10_000, from);
    expect((await health()).body.replication?.missingTables).toEqual([]);
  }, 60_000);
});
