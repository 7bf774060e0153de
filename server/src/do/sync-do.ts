/**
 * SyncDO — one per client id: the server end of one client's sync WebSocket. The session state machine
 * (`core/session`) decides everything; this shell accepts the WebSocket, feeds frames, timers and effect
 * results in, and carries effects out: token checks, the client record in its SQLite storage, snapshot reads
 * from Postgres, change-log reads from the ReplicationDO.
 *
 * Hibernation: the socket is accepted with `ctx.acceptWebSocket`, so workerd may evict an idle object while the
 * socket stays open, and re-creates it for the next message, alarm or `notify`. Once a session has had no event
 * for CHECKPOINT_DELAY_MS the shell stores its checkpoint (`SYNC_DO_TABLES.checkpoint`) when it is quiescent and
 * deletes it otherwise; an object is never evicted sooner, so a restored checkpoint is always the session's
 * latest state. An object that wakes with a
 * hibernated socket restores the session from it (loading the catalog, re-subscribing to the fan-out) before
 * it handles the event; events arriving meanwhile wait in order. A woken object without a checkpoint (the
 * session was not quiescent when workerd evicted the object) closes the socket with UNAVAILABLE, and the client
 * resumes from its acknowledged LSN (or, during an initial sync, from its snapshot cursor: the
 * snapshot record is durable).
 */

import { DurableObject } from 'cloudflare:workers';
import { closeCodeForError, ErrorCode, SYNC_SUBPROTOCOL, SyncError } from '@vibestack/proto';
import { createTokenVerifier } from '../auth/create-token-verifier.ts';
import { loadServerConfig, type ServerConfig } from '../config/server-config.ts';
import {
  CHECKPOINT_DELAY_MS,
  REPLICATION_DO_NAME,
  SYNC_CLIENT_ID_PARAM,
  SYNC_DO_TABLES,
} from '../constants.ts';
import type { TokenVerifier } from '../core/auth/index.ts';
import type { Tuple } from '../core/change.ts';
import { splitQualifiedName } from '../core/scope/scope-config.ts';
import type {
  ClientRecord,
  RelationDescriptor,
  SessionConfig,
  SessionEffect,
  SessionEvent,
  SyncSession,
} from '../core/session/index.ts';
import { createSyncSession, parseSessionCheckpoint, restoreSyncSession } from '../core/session/index.ts';
import type { XidSnapshot } from '../core/session/snapshot-visibility.ts';
import { readRelations } from '../db/catalog.ts';
import { quoteIdent, quoteTable } from '../db/quote.ts';
import { estimateTable, openSnapshot, type SnapshotReader, toXidSnapshot } from '../db/snapshot-reader.ts';
import { openSqlClient, type SqlClient } from '../db/sql-client.ts';
import type { Env } from '../env.ts';
import { decodeLogBatch, type RawLogBatch } from './log-batch.ts';

interface OpenSnapshot {
  readonly id: string;
  readonly client: SqlClient;
  readonly reader: SnapshotReader;
}

/** What a hibernatable socket carries across an eviction (`serializeAttachment`). */
interface SocketAttachment {
  readonly clientId: string;
  /** Names the connection a stored checkpoint belongs to. */
  readonly connectionId: string;
}

function attachmentOf(ws: WebSocket): SocketAttachment | undefined {
  const a = ws.deserializeAttachment() as Partial<SocketAttachment> | null;
  return typeof a?.clientId === 'string' && typeof a.connectionId === 'string'
    ? { clientId: a.clientId, connectionId: a.connectionId }
    : undefined;
}

export class SyncDO extends DurableObject<Env> {
  readonly #config: ServerConfig;
  readonly #verifier: TokenVerifier | undefined;
  #session: SyncSession | undefined;
  #socket: WebSocket | undefined;
  #clientId = '';
  #connectionId = '';
  /** The checkpoint stored for the session (its JSON), `undefined` when none is. */
  #stored: string | undefined;
  /** A restore in progress: events wait for it, in the order they arrived. */
  #waking: Promise<void> | undefined;
  /** The pending {@link SyncDO.#scheduleCheckpoint} save. */
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #snapshot: OpenSnapshot | undefined;
  #catalog: readonly RelationDescriptor[] | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadServerConfig(env);
    this.#verifier = createTokenVerifier(this.#config);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.client} (client_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
         acked_lsn TEXT NOT NULL, last_mutation_id TEXT NOT NULL)`,
    );
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.snapshot} (client_id TEXT PRIMARY KEY, snapshot_id TEXT NOT NULL,
         fingerprint TEXT NOT NULL, xids TEXT NOT NULL, handoff_after_lsn TEXT NOT NULL)`,
    );
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.checkpoint} (client_id TEXT PRIMARY KEY,
         connection_id TEXT NOT NULL, checkpoint TEXT NOT NULL)`,
    );
    const woken = ctx.getWebSockets().flatMap((ws) => attachmentOf(ws) ?? []);
    if (woken.length > 0) {
      console.log(`[sync ${woken[0]!.clientId}] SyncDO re-created with ${woken.length} hibernated socket(s)`);
    }
  }

  #replication() {
    return this.env.REPLICATION.get(this.env.REPLICATION.idFromName(REPLICATION_DO_NAME));
  }

  override async fetch(request: Request): Promise<Response> {
    const clientId = new URL(request.url).searchParams.get(SYNC_CLIENT_ID_PARAM) ?? '';
    // A hibernated session of an earlier connection is restored first, so that it is replaced like any other.
    await this.#wake();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const connectionId = crypto.randomUUID();
    server.serializeAttachment({ clientId, connectionId } satisfies SocketAttachment);
    // One connection per client id: a newer one replaces the older (docs/protocol.md §2.1).
    if (this.#session && this.#socket) {
      this.#run(this.#session.handle({ type: 'replaced' }, Date.now()));
    }
    this.#clearCheckpoint();
    this.#socket = server;
    this.#clientId = clientId;
    this.#connectionId = connectionId;
    this.#session = createSyncSession(this.#sessionConfig(clientId));
    this.#feed({ type: 'open' });
    // The Worker only forwards upgrades that offer the subprotocol; select it.
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { 'Sec-WebSocket-Protocol': SYNC_SUBPROTOCOL },
    });
  }

  #sessionConfig(clientId: string): SessionConfig {
    return {
      clientId,
      scope: this.#config.scope,
      serverAgent: 'vibestack-server/0.1.0',
      heartbeatIntervalMs: this.#config.heartbeatIntervalMs,
    };
  }

  override async webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): Promise<void> {
    await this.#wake();
    if (ws !== this.#socket || !this.#session) {
      // A replaced connection, or one whose session ended: the client resumes from its acknowledged LSN.
      closeQuietly(ws, closeCodeForError(ErrorCode.UNAVAILABLE), 'session lost; reconnect');
      return;
    }
    this.#feed({ type: 'frame', data: message });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the close handshake (a client closing normally expects its close frame echoed).
    closeQuietly(ws, echoableCloseCode(code), reason);
    await this.#onClose(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#onClose(ws);
  }

  async #onClose(ws: WebSocket): Promise<void> {
    await this.#wake();
    if (ws !== this.#socket) return;
    this.#feed({ type: 'closed' });
    await this.#teardown();
  }

  /**
   * Restores the session of a hibernated socket, if there is one and no session is in memory. Concurrent
   * callers share one restore and continue in the order they called.
   */
  async #wake(): Promise<void> {
    if (this.#session) return;
    this.#waking ??= this.#restore().finally(() => {
      this.#waking = undefined;
    });
    await this.#waking;
  }

  async #restore(): Promise<void> {
    const row = this.ctx.storage.sql
      .exec<{ connection_id: string; checkpoint: string }>(
        `SELECT connection_id, checkpoint FROM ${SYNC_DO_TABLES.checkpoint}`,
      )
      .toArray()[0];
    const sockets = this.ctx.getWebSockets();
    const ws = row && sockets.find((s) => attachmentOf(s)?.connectionId === row.connection_id);
    const checkpoint = ws && parseSessionCheckpoint(parseJson(row.checkpoint));
    const lost = () => {
      this.#clearCheckpoint();
      for (const s of sockets)
        closeQuietly(s, closeCodeForError(ErrorCode.UNAVAILABLE), 'session lost; reconnect');
    };
    if (!ws || !checkpoint) return lost();
    try {
      // A session waiting for the Hello needs neither yet (its handshake loads the catalog and subscribes).
      const live = checkpoint.state === 'LIVE';
      const catalog = live ? await this.#loadCatalog() : [];
      if (live) await this.#replication().subscribe(checkpoint.clientId);
      const session = restoreSyncSession(this.#sessionConfig(checkpoint.clientId), checkpoint, catalog);
      // Nothing awaits from here on: the events that waited run next, in order, before any new one.
      this.#socket = ws;
      this.#clientId = checkpoint.clientId;
      this.#connectionId = row.connection_id;
      this.#stored = row.checkpoint;
      this.#session = session;
      console.log(`[sync ${checkpoint.clientId}] session restored from its checkpoint`);
    } catch (error) {
      console.error('restoring the session failed', error);
      lost();
    }
  }

  override async alarm(): Promise<void> {
    await this.#wake();
    this.#feed({ type: 'tick' });
  }

  /**
   * Called by the ReplicationDO when the log grew, with the new transactions (the fan-out). Returns false when no
   * client is connected (the ReplicationDO then drops the subscription).
   */
  async notify(batch: RawLogBatch): Promise<boolean> {
    await this.#wake();
    if (!this.#session || !this.#socket) return false;
    this.#feed({ type: 'log-batch', batch: decodeLogBatch(batch) });
    return true;
  }

  async #teardown(): Promise<void> {
    this.#session = undefined;
    this.#socket = undefined;
    this.#clearCheckpoint();
    await this.#closeSnapshot();
    // A newer connection may have taken over meanwhile (REPLACED): the alarm and the subscription are its own now.
    if (this.#session !== undefined) return;
    await this.ctx.storage.deleteAlarm();
    if (this.#session !== undefined) return;
    await this.#replication()
      .unsubscribe(this.#clientId)
      .catch(() => undefined);
  }

  #feed(event: SessionEvent): void {
    if (!this.#session) return;
    this.#run(this.#session.handle(event, Date.now()));
    this.#scheduleCheckpoint();
  }

  /**
   * Saves the checkpoint once the session has been left alone for CHECKPOINT_DELAY_MS, not after every event: a
   * storage write holds back the frames sent in the same event until it is durable (output gate), and writing on
   * every notify, Credit and Ack multiplied the latency of busy objects. This is safe because workerd evicts a
   * hibernatable object only after ~10 s without events and never while a timer is pending: a session can only
   * hibernate after its last save, so the stored checkpoint is its state then (or absent).
   */
  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer !== undefined) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      this.#saveCheckpoint();
    }, CHECKPOINT_DELAY_MS);
  }

  /**
   * Stores the session's checkpoint, or deletes the stored one when the session has none: a checkpoint older
   * than the session's state would send frames again. Writes only what changed.
   */
  #saveCheckpoint(): void {
    const checkpoint = this.#session?.checkpoint();
    const json = checkpoint === undefined ? undefined : JSON.stringify(checkpoint);
    if (json === this.#stored) return;
    if (json === undefined) {
      this.#clearCheckpoint();
      return;
    }
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO ${SYNC_DO_TABLES.checkpoint} (client_id, connection_id, checkpoint) VALUES (?, ?, ?)`,
      this.#clientId,
      this.#connectionId,
      json,
    );
    this.#stored = json;
  }

  #clearCheckpoint(): void {
    this.ctx.storage.sql.exec(`DELETE FROM ${SYNC_DO_TABLES.checkpoint}`);
    this.#stored = undefined;
  }

  #run(effects: readonly SessionEffect[]): void {
    for (const effect of effects) {
      try {
        this.#apply(effect);
      } catch (error) {
        console.error('effect failed', effect.type, error);
        this.#feed({ type: 'failure', error: SyncError.from(error) });
      }
    }
  }

  /** Runs an async effect and feeds its result (or failure) back in. */
  #async(work: () => Promise<SessionEvent | undefined>): void {
    const session = this.#session;
    this.ctx.waitUntil(
      work().then(
        (event) => {
          if (event && session === this.#session) this.#feed(event);
        },
        (error: unknown) => {
          console.error(error);
          if (session === this.#session) this.#feed({ type: 'failure', error: SyncError.from(error) });
        },
      ),
    );
  }

  #apply(effect: SessionEffect): void {
    switch (effect.type) {
      case 'send':
        this.#socket?.send(effect.bytes);
        return;
      case 'close':
        this.#socket?.close(effect.code, effect.reason);
        void this.#teardown();
        return;
      case 'verify-token':
        this.#async(async () => {
          if (!this.#verifier) {
            return {
              type: 'token-rejected',
              error: new SyncError(ErrorCode.UNAUTHENTICATED, 'the server has no JWT_SECRET'),
            };
          }
          try {
            return {
              type: 'token-verified',
              claims: await this.#verifier.verify(effect.token, Date.now() / 1000),
            };
          } catch (error) {
            return { type: 'token-rejected', error: SyncError.from(error, ErrorCode.UNAUTHENTICATED) };
          }
        });
        return;
      case 'load-client':
        this.#async(async () => {
          const replication = this.#replication();
          const [positions, catalog] = await Promise.all([replication.positions(), this.#loadCatalog()]);
          await replication.subscribe(this.#clientId);
          return { type: 'client-loaded', record: this.#readRecord(effect.clientId), ...positions, catalog };
        });
        return;
      case 'bind-client':
        this.ctx.storage.sql.exec(
          `INSERT OR IGNORE INTO ${SYNC_DO_TABLES.client} (client_id, user_id, acked_lsn, last_mutation_id) VALUES (?, ?, '0', '0')`,
          effect.clientId,
          effect.userId,
        );
        return;
      case 'persist-ack':
        this.ctx.storage.sql.exec(
          `UPDATE ${SYNC_DO_TABLES.client} SET acked_lsn = ? WHERE client_id = ?`,
          effect.lsn.toString(),
          effect.clientId,
        );
        this.#async(async () => {
          await this.ctx.storage.sync();
          return { type: 'ack-persisted', lsn: effect.lsn };
        });
        return;
      case 'persist-mutation-id':
        this.ctx.storage.sql.exec(
          `UPDATE ${SYNC_DO_TABLES.client} SET last_mutation_id = ? WHERE client_id = ?`,
          effect.lastMutationId.toString(),
          effect.clientId,
        );
        return;
      case 'start-snapshot':
        this.#async(() => this.#startSnapshot(effect));
        return;
      case 'read-snapshot-rows':
        this.#async(async () => {
          const snap = this.#snapshot;
          if (!snap || snap.id !== effect.snapshotId)
            throw new Error(`snapshot ${effect.snapshotId} is not open`);
          const chunk = await snap.reader.readChunk(
            { schema: effect.table.schema, name: effect.table.name, primaryKey: effect.keyColumns },
            effect.columns,
            effect.afterKey ? (effect.afterKey as string[]) : null,
            effect.limit,
          );
          return {
            type: 'snapshot-rows',
            relationOid: effect.table.relationOid,
            rows: chunk.rows,
            done: chunk.rows.length < effect.limit,
          };
        });
        return;
      case 'end-snapshot':
        this.#async(async () => {
          await this.#closeSnapshot();
          return undefined;
        });
        return;
      case 'read-log':
        this.#async(async () => {
          const raw = await this.#replication().readLog(effect.afterLsn, effect.limit, effect.continueAt);
          return { type: 'log-batch', batch: decodeLogBatch(raw, effect.requestId) };
        });
        return;
      case 'fetch-rows':
        this.#async(async () => ({
          type: 'rows-fetched',
          requestId: effect.requestId,
          rows: await this.#fetchRows(effect.table, effect.columns, effect.keyColumns, effect.keys),
        }));
        return;
      case 'set-timer':
        if (effect.at === undefined) void this.ctx.storage.deleteAlarm();
        else void this.ctx.storage.setAlarm(effect.at);
        return;
      case 'log':
        (effect.level === 'warn' ? console.warn : console.log)(`[sync ${this.#clientId}] ${effect.message}`);
        return;
    }
  }

  #readRecord(clientId: string): ClientRecord | undefined {
    const row = this.ctx.storage.sql
      .exec<{ user_id: string; acked_lsn: string; last_mutation_id: string }>(
        `SELECT user_id, acked_lsn, last_mutation_id FROM ${SYNC_DO_TABLES.client} WHERE client_id = ?`,
        clientId,
      )
      .toArray()[0];
    return row
      ? { userId: row.user_id, ackedLsn: BigInt(row.acked_lsn), lastMutationId: BigInt(row.last_mutation_id) }
      : undefined;
  }

  async #db(): Promise<SqlClient> {
    const url = this.#config.databaseUrl;
    if (!url) throw new SyncError(ErrorCode.UNAVAILABLE, 'the server has no database configured');
    return openSqlClient(url, this.#config.driver);
  }

  async #loadCatalog(): Promise<readonly RelationDescriptor[]> {
    if (this.#catalog) return this.#catalog;
    const client = await this.#db();
    try {
      const { relations } = await readRelations(
        client,
        this.#config.scope.tables.map((t) => splitQualifiedName(t.table)),
      );
      this.#catalog = relations.map((r) => ({
        relationOid: r.relationOid,
        schema: r.schema,
        name: r.name,
        columns: r.columns.map((c) => c.descriptor),
        primaryKey: r.primaryKey,
        foreignKeys: r.foreignKeys.map((fk) => ({
          columns: fk.columns,
          referencedSchema: fk.referenced.schema,
          referencedTable: fk.referenced.name,
          referencedColumns: fk.referencedColumns,
        })),
      }));
      return this.#catalog;
    } finally {
      await client.end();
    }
  }

  /**
   * Opens a REPEATABLE READ snapshot for an initial sync. A resumable earlier snapshot of this client (same id
   * and fingerprint, and the change log still holds every transaction it did not see) is continued: its rows
   * after the client's cursor come from the new snapshot, and its xids and handoff start are kept, so the handoff
   * replays everything the original missed (see the `snapshot-started` event). This works across a restart of
   * workerd, since the record is durable.
   */
  async #startSnapshot(effect: Extract<SessionEffect, { type: 'start-snapshot' }>): Promise<SessionEvent> {
    await this.#closeSnapshot();
    const client = await this.#db();
    try {
      const reader = await openSnapshot(client);
      const estimates = await Promise.all(
        effect.tables.map(async (t) => {
          const e = await estimateTable(client, t);
          return { relationOid: t.relationOid, rows: BigInt(e.rows), bytes: BigInt(e.bytes) };
        }),
      );
      const resumable = effect.resume
        ? await this.#resumable(effect.resume.snapshotId, effect.fingerprint)
        : undefined;
      const id = resumable?.snapshotId ?? crypto.randomUUID();
      const xids = resumable?.xids ?? toXidSnapshot(reader.snapshot);
      const handoffAfterLsn =
        resumable?.handoffAfterLsn ?? (await this.#replication().replayStart(xids.xmin));
      if (!resumable) {
        this.ctx.storage.sql.exec(
          `INSERT OR REPLACE INTO ${SYNC_DO_TABLES.snapshot} (client_id, snapshot_id, fingerprint, xids, handoff_after_lsn)
           VALUES (?, ?, ?, ?, ?)`,
          this.#clientId,
          id,
          effect.fingerprint,
          JSON.stringify(xids),
          handoffAfterLsn.toString(),
        );
      }
      this.#snapshot = { id, client, reader };
      return {
        type: 'snapshot-started',
        snapshotId: id,
        resumed: resumable !== undefined,
        // Every transaction the snapshot sees has its commit record below the insert position: at or below
        // walLsn - 1, the same "everything ≤ head is logged" convention the change log's head uses.
        lsn: reader.snapshot.walLsn - 1n,
        xids,
        handoffAfterLsn,
        estimates,
      };
    } catch (error) {
      await client.end().catch(() => undefined);
      this.#snapshot = undefined;
      throw error;
    }
  }

  /** The stored snapshot `snapshotId` of this client, when it can still be continued under `fingerprint`. */
  async #resumable(
    snapshotId: string,
    fingerprint: string,
  ): Promise<{ snapshotId: string; xids: XidSnapshot; handoffAfterLsn: bigint } | undefined> {
    const row = this.ctx.storage.sql
      .exec<{ snapshot_id: string; fingerprint: string; xids: string; handoff_after_lsn: string }>(
        `SELECT snapshot_id, fingerprint, xids, handoff_after_lsn FROM ${SYNC_DO_TABLES.snapshot} WHERE client_id = ?`,
        this.#clientId,
      )
      .toArray()[0];
    if (!row || row.snapshot_id !== snapshotId || row.fingerprint !== fingerprint) return undefined;
    const handoffAfterLsn = BigInt(row.handoff_after_lsn);
    // The handoff must replay from where the original snapshot's began: the log must still hold it.
    const { floor } = await this.#replication().positions();
    if (floor > handoffAfterLsn) return undefined;
    return { snapshotId, xids: JSON.parse(row.xids) as XidSnapshot, handoffAfterLsn };
  }

  async #closeSnapshot(): Promise<void> {
    const snap = this.#snapshot;
    this.#snapshot = undefined;
    if (!snap) return;
    await snap.reader.close().catch(() => undefined);
    await snap.client.end().catch(() => undefined);
  }

  async #fetchRows(
    table: { schema: string; name: string },
    columns: readonly string[],
    keyColumns: readonly string[],
    keys: readonly Tuple[],
  ): Promise<(Tuple | undefined)[]> {
    const client = await this.#db();
    try {
      const select = columns.map(quoteIdent).join(', ');
      // Untyped parameters take the key column's type, so the text goes through its input function.
      const where = keyColumns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
      const out: (Tuple | undefined)[] = [];
      for (const key of keys) {
        const { rows } = await client.queryArrays(
          `SELECT ${select} FROM ${quoteTable(table)} WHERE ${where}`,
          [...key],
        );
        out.push(rows[0]);
      }
      return out;
    } finally {
      await client.end();
    }
  }
}

/** `JSON.parse`, or `undefined` for text that is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Closes a socket that may already be closed. */
function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** The code to echo in reply to a peer's close: its own when it may be sent, else 1000 (RFC 6455 §7.4). */
function echoableCloseCode(code: number): number {
  const sendable =
    (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  return sendable ? code : 1000;
}
