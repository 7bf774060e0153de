/**
 * `Progress{caught_up}` makes the session LIVE when it arrives, but the transactions before it may still wait
 * to be applied: `status.caughtUpLsn` says how far the local database must get (what `whenLive` waits for).
 */

import { encodeServerFrame, SYNC_SUBPROTOCOL, SyncMode } from '@vibestack/proto';
import { expect, it } from 'vitest';
import { createClientSession } from './client-session.ts';
import type { ClientEffect, ClientStatus } from './client-types.ts';
import { CLIENT_ID, insertTx, progress, relationFrame, T0, welcome } from './testing/server-frames.ts';

it('reports the caught-up LSN, which the applied LSN reaches once the works before it commit', () => {
  const session = createClientSession({ clientId: CLIENT_ID, resume: { appliedLsn: 10n } });
  let status: ClientStatus | undefined;
  const applies: number[] = [];
  const run = (effects: ClientEffect[]) => {
    for (const e of effects) {
      if (e.type === 'status') status = e.status;
      if (e.type === 'apply') applies.push(e.id);
    }
  };
  const frame = (m: Parameters<typeof encodeServerFrame>[0]) =>
    run(session.handle({ type: 'frame', data: encodeServerFrame(m) }, T0));
  run(session.handle({ type: 'start' }, T0));
  run(session.handle({ type: 'token', token: 't' }, T0));
  run(session.handle({ type: 'socket-open', subprotocol: SYNC_SUBPROTOCOL }, T0));
  frame(welcome(SyncMode.CATCH_UP, { serverLsn: 30n }));
  expect(status).toMatchObject({ state: 'CATCHING_UP', appliedLsn: 10n, caughtUpLsn: 0n });
  frame(relationFrame());
  frame(insertTx(20n, 1n));
  frame(insertTx(30n, 2n));
  frame(progress(30n, true));
  // LIVE on receipt; the transactions are not committed yet.
  expect(status).toMatchObject({ state: 'LIVE', appliedLsn: 10n, caughtUpLsn: 30n });
  while (applies.length > 0) run(session.handle({ type: 'apply-done', id: applies.shift()! }, T0));
  expect(status).toMatchObject({ state: 'LIVE', appliedLsn: 30n, caughtUpLsn: 30n });
});
