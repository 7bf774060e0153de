/**
 * What the session tells the application while it connects and stages a snapshot: snapshot progress appears
 * with `SnapshotBegin` (no made-up estimate before), counts rows committed to staging and counts on after a
 * resumed initial sync (§6.5), so it never goes backwards; a refused fixed token fails at once (§4.3); a failed
 * upgrade names its URL.
 */

import { ErrorCode, SyncMode } from '@vibestack/proto';
import { expect, it } from 'vitest';
import type { ClientStatus } from './client-types.ts';
import {
  Driver,
  itemRow,
  msg,
  relationFrame,
  serverError,
  snapshotBegin,
  snapshotChunk,
  welcome,
} from './testing/server-frames.ts';

const statuses = (d: Driver): ClientStatus[] =>
  d.effects.flatMap((e) => (e.type === 'status' ? [e.status] : []));
const last = (d: Driver): ClientStatus => statuses(d).at(-1)!;
const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => itemRow(BigInt(from + i)));

const beginWithEstimate = (snapshotId: string, estimatedRows: bigint, resumed = false) =>
  msg({ case: 'snapshotBegin', value: { snapshotId, resumed, tables: [{ relationId: 1, estimatedRows }] } });

it('reports snapshot progress from SnapshotBegin on, with the estimate only when the server knows it', () => {
  const d = new Driver();
  d.connect();
  d.server(welcome(SyncMode.INITIAL));
  expect(last(d)).toMatchObject({ state: 'SNAPSHOT' });
  expect(last(d).snapshot).toBeUndefined();
  d.server(relationFrame());
  d.server(snapshotBegin('s1', [1])); // estimated_rows 0: unknown (§6.2)
  expect(last(d).snapshot).toEqual({ stagedRows: 0, receivedBytes: expect.any(Number), resumed: false });
  expect('estimatedRows' in last(d).snapshot!).toBe(false);

  const known = new Driver();
  known.connect();
  known.server(welcome(SyncMode.INITIAL));
  known.server(relationFrame());
  known.server(beginWithEstimate('s1', 2500n));
  expect(last(known).snapshot).toMatchObject({ stagedRows: 0, estimatedRows: 2500n, resumed: false });
});

it('counts rows committed to staging, and counts on after a resumed initial sync', () => {
  const d = new Driver();
  d.connect();
  d.server(welcome(SyncMode.INITIAL));
  d.server(relationFrame());
  d.server(beginWithEstimate('s1', 10n));
  d.server(snapshotChunk(1, rows(1, 3), false, 'c1'));
  d.applyAll(); // snapshot-begin, then the chunk
  expect(last(d).snapshot).toMatchObject({ stagedRows: 3, resumed: false });
  d.server(snapshotChunk(1, rows(4, 2), false, 'c2'));
  // The connection drops with the second chunk received but not committed.
  d.handle({ type: 'socket-closed', code: 1006, reason: '' });
  d.applyAll(); // the chunk's work still commits (its rows are staged for the resume)
  expect(d.session.resume.snapshot).toMatchObject({ snapshotId: 's1', stagedRows: 5 });

  d.now += 60_000;
  d.handle({ type: 'tick' });
  d.open('t');
  d.server(welcome(SyncMode.INITIAL));
  d.server(relationFrame());
  d.server(beginWithEstimate('s1', 10n, true));
  expect(last(d).snapshot).toMatchObject({ stagedRows: 5, estimatedRows: 10n, resumed: true });
  d.server(snapshotChunk(1, rows(6, 4), false, 'c3'));
  d.applyAll();
  expect(last(d).snapshot).toMatchObject({ stagedRows: 9, resumed: true });
  const counts = statuses(d).flatMap((s) => (s.snapshot === undefined ? [] : [s.snapshot.stagedRows]));
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
});

it('counts on from the rows a previous process staged', () => {
  const d = new Driver({
    resume: { appliedLsn: 0n, snapshot: { snapshotId: 's1', cursor: new Uint8Array([1]), stagedRows: 4000 } },
  });
  d.connect();
  d.server(welcome(SyncMode.INITIAL));
  d.server(relationFrame());
  d.server(beginWithEstimate('s1', 9000n, true));
  expect(last(d).snapshot).toMatchObject({ stagedRows: 4000, estimatedRows: 9000n, resumed: true });

  // The server may start over instead (the snapshot could not be resumed): a new count, not resumed.
  const restarted = new Driver({
    resume: { appliedLsn: 0n, snapshot: { snapshotId: 's1', cursor: new Uint8Array([1]), stagedRows: 4000 } },
  });
  restarted.connect();
  restarted.server(welcome(SyncMode.INITIAL));
  restarted.server(relationFrame());
  restarted.server(beginWithEstimate('s2', 9000n));
  expect(last(restarted).snapshot).toMatchObject({ stagedRows: 0, resumed: false });
});

it('fails at once, without a backoff or a reconnect, when a fixed token is refused', () => {
  const fixed = new Driver({ fixedToken: true });
  fixed.connect();
  fixed.server(serverError(ErrorCode.UNAUTHENTICATED, true));
  expect(statuses(fixed).map((s) => s.state)).toEqual(['CONNECTING', 'AWAIT_WELCOME', 'FAILED']);
  expect(last(fixed).error).toMatchObject({ code: ErrorCode.UNAUTHENTICATED, rawMessage: 'test' });
  // A close 4001 without an Error frame is the same refusal.
  const closed = new Driver({ fixedToken: true });
  closed.connect();
  closed.handle({ type: 'socket-closed', code: 4001, reason: 'unauthenticated' });
  expect(last(closed).state).toBe('FAILED');

  // A renewable token: back off, then reconnect asking for a fresh one.
  const renewable = new Driver();
  renewable.connect();
  renewable.server(serverError(ErrorCode.UNAUTHENTICATED, true));
  expect(last(renewable).state).toBe('BACKOFF');
  renewable.now += 60_000;
  expect(renewable.handle({ type: 'tick' })).toContainEqual({ type: 'get-token', fresh: true });
});

it('names the URL of a failed upgrade, and the HTTP status or the network error', () => {
  const url = 'ws://127.0.0.1:8787/v1/sync?client_id=client-1';
  const refused = new Driver();
  refused.handle({ type: 'start' });
  refused.handle({ type: 'connect-failed', url, httpStatus: 404 });
  expect(last(refused)).toMatchObject({ state: 'FAILED' });
  expect(last(refused).error?.rawMessage).toBe(`the WebSocket upgrade at ${url} failed (HTTP 404)`);
  expect(last(refused).error?.details).toEqual({ url, httpStatus: 404 });

  const offline = new Driver();
  offline.handle({ type: 'start' });
  offline.handle({ type: 'connect-failed', url, reason: 'connect ECONNREFUSED 127.0.0.1:8787' });
  expect(last(offline)).toMatchObject({ state: 'BACKOFF' });
  expect(last(offline).error?.rawMessage).toBe(
    `the WebSocket upgrade at ${url} failed (no connection: connect ECONNREFUSED 127.0.0.1:8787)`,
  );
});
