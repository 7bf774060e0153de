/**
 * A sync client in its own Node process over a file-backed PGlite, for crash tests: the test SIGKILLs it (for
 * real, mid local transaction) and starts it again on the same directory. Run with
 * `node --import tsx child-client.ts`, configured by the `VIBESTACK_CHILD_CLIENT` environment variable (see
 * child-client-protocol.ts), driven over the IPC channel (child-client-process.ts). Test-only.
 */

import { PGlite } from '@electric-sql/pglite';
import { formatLsn } from '@vibestack/proto';
import WebSocket from 'ws';
import type { ApplyWork } from '../core/client-types.ts';
import type { SqlRunner } from '../pglite/sql.ts';
import { createSyncClient, type SyncClient, type WebSocketFactory } from '../sync-client.ts';
import { insertedKeys, PROBE_SETUP_SQL, probeBeforeCommit } from './apply-probe.ts';
import {
  BLOCKED_MARKER,
  CHILD_CONFIG_ENV,
  type ChildConfig,
  type ChildMessage,
  type ParentMessage,
} from './child-client-protocol.ts';
import { localTextRows } from './text-rows.ts';

const config = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? 'null') as ChildConfig | null;
if (config === null || process.send === undefined) {
  throw new Error(`run with an IPC channel and ${CHILD_CONFIG_ENV} set`);
}
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

/** The test seam: probe rows and the block, inside the apply transaction just before its commit. */
const probe =
  config.probe === undefined ? undefined : probeBeforeCommit(config.probe.table, config.probe.run);
async function beforeCommit(work: ApplyWork, tx: SqlRunner): Promise<void> {
  await probe?.(work, tx);
  const block = config?.blockOn;
  if (
    work.kind === 'transactions' &&
    block !== undefined &&
    insertedKeys(work, block.table).some((keys) => keys.includes(block.key))
  ) {
    const commitLsns = work.transactions.map((t) => formatLsn(t.commitLsn));
    process.stdout.write(`${BLOCKED_MARKER} ${commitLsns.join(' ')}\n`);
    send({ type: 'blocked', commitLsns, lsn: formatLsn(work.lsn) });
    await new Promise<never>(() => undefined);
  }
}

const db = await PGlite.create(config.dataDir);
if (config.probe !== undefined) await db.exec(PROBE_SETUP_SQL);

let client: SyncClient | undefined;
if (config.sync !== undefined) {
  const { url, token } = config.sync;
  client = await createSyncClient({
    url,
    db,
    token,
    WebSocket: WebSocket as unknown as WebSocketFactory,
    store: { beforeCommit },
  });
  const report = (): void => {
    const s = client!.status;
    send({
      type: 'status',
      state: s.state,
      appliedLsn: formatLsn(s.appliedLsn),
      ...(s.error === undefined ? {} : { error: `${s.error.code}: ${s.error.message}` }),
    });
  };
  client.subscribe(report);
  report();
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'query':
      localTextRows(db, message.sql).then(
        (rows) => send({ type: 'rows', id: message.id, rows }),
        (error: unknown) => send({ type: 'rows', id: message.id, error: String(error) }),
      );
      return;
    case 'stop':
      void (async () => {
        await client?.stop();
        await db.close();
        send({ type: 'stopped' });
        process.disconnect();
      })();
      return;
  }
});
send({ type: 'ready' });
