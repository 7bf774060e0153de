/**
 * SyncDO — one per client id: the server end of the client's sync WebSockets. The session state machine
 * (`core/session`) decides everything; this shell accepts sockets, feeds frames, timers and effect results in,
 * and carries effects out: token checks, the client record (`SyncStorage`), snapshot reads and row fetches from
 * Postgres, change-log reads and the synced tables' descriptors from the ReplicationDO.
 *
 * Connections. A client has at most one *established* connection: one whose Hello was accepted (token verified,
 * client id free or bound to the same user, docs/protocol.md §4.2). A new socket waits next to it, touching
 * nothing, until its own Hello is accepted; only then is the older connection closed with REPLACED (§2.1). A
 * socket that never says a valid Hello just times out; at most MAX_PENDING_CONNECTIONS wait at once.
 *
 * No database on the way in. The Hello of a resuming client, and the wake-up of a hibernated one, need only
 * Durable Object storage: the descriptors come from the ReplicationDO's stored copy. Only an initial sync (and
 * the rare row fetch) opens a database connection; when Postgres has none to spare the client is told
 * OVERLOADED with `retry_after_ms`, and never sees driver text (`clientFacingError`).
 *
 * Hibernation: sockets are accepted with `ctx.acceptWebSocket`, so workerd may evict an idle object while they
 * stay open, and re-creates it for the next message, alarm or `notify`. Once the sessions have had no event for
 * CHECKPOINT_DELAY_MS the shell stores each quiescent session's checkpoint (and deletes the others'); an object
 * is never evicted sooner, so a restored checkpoint is always that session's latest state. A woken object
 * restores its sessions before it handles the event; events arriving meanwhile wait in order. A socket without
 * a checkpoint is closed with UNAVAILABLE, and its client resumes from its acknowledged LSN (or, during an
 * initial sync, from its snapshot cursor: the snapshot record is durable).
 */

import { DurableObject } from 'cloudflare:workers';
import { closeCodeForError, ErrorCode, SYNC_SUBPROTOCOL, SyncError } from '@vibestack/proto';
import { createTokenVerifier } from '../auth/create-token-verifier.ts';
import { loadServerConfig, type ServerConfig } from '../config/server-config.ts';
import {
  CHECKPOINT_DELAY_MS,
  MAX_PENDING_CONNECTIONS,
  NOT_READY_RETRY_AFTER_MS,
  PENDING_OVERFLOW_RETRY_AFTER_MS,
  REPLICATION_DO_NAME,
  SYNC_CLIENT_ID_PARAM,
} from '../constants.ts';
import type { TokenVerifier } from '../core/auth/index.ts';
import type {
  RelationDescriptor,
  SessionConfig,
  SessionEffect,
  SessionEvent,
  SessionState,
  SyncSession,
} from '../core/session/index.ts';
import { createSyncSession, parseSessionCheckpoint, restoreSyncSession } from '../core/session/index.ts';
import { clientFacingError } from '../db/client-facing-error.ts';
import { fetchRowsByKey } from '../db/row-fetch.ts';
import { openSqlClient, type SqlClient } from '../db/sql-client.ts';
import type { Env } from '../env.ts';
import { decodeLogBatch, type RawLogBatch } from './log-batch.ts';
import { SyncSnapshots } from './sync-snapshots.ts';
import { SyncStorage } from './sync-storage.ts';

/** One WebSocket of this client id and its session. */
interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly session: SyncSession;
  /** When the session wants its next `tick` (ms), `undefined` for never. */
  timerAt: number | undefined;
  /** Its Hello was accepted: the client's one established connection. */
  established: boolean;
  /** The checkpoint stored for it (JSON), `undefined` when none is. */
  stored: string | undefined;
}

/** What a hibernatable socket carries across an eviction (`serializeAttachment`). */
interface SocketAttachment {
  readonly clientId: string;
  /** Names the connection a stored checkpoint belongs to. */
  readonly connectionId: string;
}

/** Session states after an accepted Hello. */
const ESTABLISHED: ReadonlySet<SessionState> = new Set(['SNAPSHOT', 'CATCHING_UP', 'LIVE']);

function attachmentOf(ws: WebSocket): SocketAttachment | undefined {
  const a = ws.deserializeAttachment() as Partial<SocketAttachment> | null;
  return typeof a?.clientId === 'string' && typeof a.connectionId === 'string'
    ? { clientId: a.clientId, connectionId: a.connectionId }
    : undefined;
}

const sessionLost = (ws: WebSocket) =>
  closeQuietly(ws, closeCodeForError(ErrorCode.UNAVAILABLE), 'session lost; reconnect');

export class SyncDO extends DurableObject<Env> {
  readonly #config: ServerConfig;
  readonly #verifier: TokenVerifier;
  readonly #storage: SyncStorage;
  readonly #connections = new Map<WebSocket, Connection>();
  /** The established connection. */
  #current: Connection | undefined;
  #clientId = '';
  /** Hibernated sessions were restored (or there were none): done once per instance. */
  #woken = false;
  #waking: Promise<void> | undefined;
  /** The pending {@link SyncDO.#scheduleCheckpoint} save. */
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  /** The alarm as last set by this instance (`null`: deleted; `undefined`: unknown). */
  #alarmAt: number | null | undefined;
  readonly #snapshots: SyncSnapshots;
  /** One stub, so that calls reach the ReplicationDO in the order they were made. */
  #replicationStub: ReturnType<Env['REPLICATION']['get']> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadServerConfig(env);
    this.#verifier = createTokenVerifier(this.#config);
    this.#storage = new SyncStorage(ctx.storage.sql);
    this.#snapshots = new SyncSnapshots({
      clientId: () => this.#clientId,
      storage: this.#storage,
      replication: () => this.#replication(),
      db: () => this.#db(),
    });
    const woken = ctx.getWebSockets().flatMap((ws) => attachmentOf(ws) ?? []);
    if (woken.length > 0) {
      console.log(`[sync ${woken[0]!.clientId}] SyncDO re-created with ${woken.length} hibernated socket(s)`);
    }
  }

  #replication() {
    this.#replicationStub ??= this.env.REPLICATION.get(this.env.REPLICATION.idFromName(REPLICATION_DO_NAME));
    return this.#replicationStub;
  }

  override async fetch(request: Request): Promise<Response> {
    // The Worker only forwards GET upgrades that offer the subprotocol; anything else is refused here too.
    if (request.method !== 'GET' || request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json(
        { error: { code: 'upgrade_required', message: 'connect with a WebSocket (GET with Upgrade)' } },
        { status: 426 },
      );
    }
    const clientId = new URL(request.url).searchParams.get(SYNC_CLIENT_ID_PARAM) ?? '';
    // Hibernated sessions are restored first, so that a new connection meets them as they are.
    await this.#wake();
    this.#clientId = clientId;
    this.#limitPending();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const connection: Connection = {
      id: crypto.randomUUID(),
      socket: server,
      session: createSyncSession(this.#sessionConfig(clientId)),
      timerAt: undefined,
      established: false,
      stored: undefined,
    };
    server.serializeAttachment({ clientId, connectionId: connection.id } satisfies SocketAttachment);
    this.#connections.set(server, connection);
    this.#feed(connection, { type: 'open' });
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { 'Sec-WebSocket-Protocol': SYNC_SUBPROTOCOL },
    });
  }

  /** Makes room for one more waiting connection: the oldest waiting ones beyond the bound are closed. */
  #limitPending(): void {
    const waiting = [...this.#connections.values()].filter((c) => !c.established);
    for (const c of waiting.slice(0, Math.max(0, waiting.length - MAX_PENDING_CONNECTIONS + 1))) {
      const error = new SyncError(
        ErrorCode.OVERLOADED,
        'too many connections of this client id are waiting for their handshake',
        { retryAfterMs: PENDING_OVERFLOW_RETRY_AFTER_MS },
      );
      this.#feed(c, { type: 'failure', error });
      this.#drop(c);
    }
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
    const c = this.#connections.get(ws);
    // A connection whose session ended or was lost: the client resumes from its acknowledged LSN.
    if (c === undefined) return sessionLost(ws);
    this.#feed(c, { type: 'frame', data: message });
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
    const c = this.#connections.get(ws);
    if (c === undefined) return;
    this.#feed(c, { type: 'closed' });
    this.#drop(c);
  }

  override async alarm(): Promise<void> {
    await this.#wake();
    // The alarm that fired is gone; #updateAlarm sets the next one from the sessions' timers.
    this.#alarmAt = null;
    const now = Date.now();
    for (const c of [...this.#connections.values()]) {
      if (c.timerAt !== undefined && c.timerAt <= now) this.#feed(c, { type: 'tick' });
    }
    this.#updateAlarm();
  }

  /**
   * Called by the ReplicationDO when the log grew, with the new transactions (the fan-out). Returns false when
   * this client has no connection at all (the ReplicationDO then drops the subscription).
   */
  async notify(batch: RawLogBatch): Promise<boolean> {
    await this.#wake();
    const c = this.#current;
    if (c === undefined) return this.#connections.size > 0;
    this.#feed(c, { type: 'log-batch', batch: decodeLogBatch(batch) });
    return true;
  }

  /**
   * Restores the sessions of hibernated sockets, once per instance. Concurrent callers share one restore and
   * continue in the order they called.
   */
  async #wake(): Promise<void> {
    if (this.#woken) return;
    this.#waking ??= this.#restore()
      .catch((error: unknown) => {
        console.error('restoring sessions failed', error);
        for (const ws of this.ctx.getWebSockets()) if (!this.#connections.has(ws)) sessionLost(ws);
      })
      .finally(() => {
        this.#woken = true;
        this.#waking = undefined;
      });
    await this.#waking;
  }

  async #restore(): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    const stored = this.#storage.checkpoints();
    const found = sockets.flatMap((ws) => {
      const a = attachmentOf(ws);
      const json = a && stored.get(a.connectionId);
      const checkpoint = json === undefined ? undefined : parseSessionCheckpoint(parseJson(json));
      if (a === undefined || json === undefined || checkpoint?.clientId !== a.clientId) {
        sessionLost(ws);
        return [];
      }
      return [{ ws, id: a.connectionId, json, checkpoint }];
    });
    // Only one connection can be established; a second LIVE checkpoint would be a bug: keep the first.
    const live = found.filter((f) => f.checkpoint.state === 'LIVE');
    for (const extra of live.slice(1)) sessionLost(extra.ws);
    const kept = found.filter((f) => f.checkpoint.state !== 'LIVE' || f === live[0]);
    for (const id of stored.keys()) {
      if (!kept.some((k) => k.id === id)) this.#storage.deleteCheckpoint(id);
    }
    if (kept.length === 0) return;
    const clientId = kept[0]!.checkpoint.clientId;
    let catalog: readonly RelationDescriptor[] = [];
    let liveLost = false;
    if (live[0] !== undefined) {
      // The descriptors come from the ReplicationDO's storage: a wake-up never waits for the database.
      const attached = await this.#replication().attach(clientId);
      if (attached.ok) catalog = attached.catalog;
      else {
        console.warn(`[sync ${clientId}] cannot restore the session: ${attached.reason}`);
        liveLost = true;
      }
    }
    // Nothing awaits from here on: the events that waited run next, in order, before any new one.
    this.#clientId = clientId;
    for (const k of kept) {
      const established = k.checkpoint.state === 'LIVE';
      if (established && liveLost) {
        this.#storage.deleteCheckpoint(k.id);
        sessionLost(k.ws);
        continue;
      }
      const session = restoreSyncSession(this.#sessionConfig(clientId), k.checkpoint, catalog);
      const c: Connection = {
        id: k.id,
        socket: k.ws,
        session,
        timerAt: k.checkpoint.timerAt ?? undefined,
        established,
        stored: k.json,
      };
      this.#connections.set(k.ws, c);
      if (established) this.#current = c;
      console.log(`[sync ${clientId}] session restored from its checkpoint`);
    }
  }

  #feed(c: Connection, event: SessionEvent): void {
    if (!this.#connections.has(c.socket) && event.type !== 'closed') return;
    const effects = c.session.handle(event, Date.now());
    if (!c.established && ESTABLISHED.has(c.session.state)) this.#establish(c);
    this.#run(c, effects);
    this.#scheduleCheckpoint();
  }

  /**
   * `c`'s Hello was accepted — authenticated, and the client id bound to this user (§4.2 checks 5–6): it becomes
   * the established connection, and the one before it is closed with REPLACED, before `c`'s Welcome goes out.
   */
  #establish(c: Connection): void {
    const previous = this.#current;
    c.established = true;
    this.#current = c;
    if (previous !== undefined && previous !== c) this.#feed(previous, { type: 'replaced' });
  }

  /** Forgets a connection whose session ended; what it held goes with it, never what another one holds. */
  #drop(c: Connection): void {
    if (!this.#connections.delete(c.socket)) return;
    if (c.stored !== undefined) this.#storage.deleteCheckpoint(c.id);
    if (this.#current === c) this.#current = undefined;
    this.#snapshots.ownerGone(c);
    this.#updateAlarm();
  }

  /** Sets the alarm to the earliest timer of any connection. */
  #updateAlarm(): void {
    let at: number | null = null;
    for (const c of this.#connections.values()) {
      if (c.timerAt !== undefined && (at === null || c.timerAt < at)) at = c.timerAt;
    }
    if (at === this.#alarmAt) return;
    this.#alarmAt = at;
    if (at === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(at);
  }

  /**
   * Saves the checkpoints once the sessions have been left alone for CHECKPOINT_DELAY_MS, not after every event:
   * a storage write holds back the frames sent in the same event until it is durable (output gate), and writing
   * on every notify, Credit and Ack multiplied the latency of busy objects. This is safe because workerd evicts a
   * hibernatable object only after ~10 s without events and never while a timer is pending: a session can only
   * hibernate after its last save, so a stored checkpoint is its state then (or absent).
   */
  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer !== undefined) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      this.#saveCheckpoints();
    }, CHECKPOINT_DELAY_MS);
  }

  /**
   * Stores each session's checkpoint, or deletes the stored one when the session has none: a checkpoint older
   * than the session's state would send frames again. Writes only what changed.
   */
  #saveCheckpoints(): void {
    for (const c of this.#connections.values()) {
      const checkpoint = c.session.checkpoint();
      const json = checkpoint === undefined ? undefined : JSON.stringify(checkpoint);
      if (json === c.stored) continue;
      if (json === undefined) this.#storage.deleteCheckpoint(c.id);
      else this.#storage.saveCheckpoint(c.id, json);
      c.stored = json;
    }
  }

  #run(c: Connection, effects: readonly SessionEffect[]): void {
    for (const effect of effects) {
      try {
        this.#apply(c, effect);
      } catch (error) {
        this.#feed(c, { type: 'failure', error: this.#clientError(error, `effect ${effect.type}`) });
      }
    }
  }

  /** Runs an async effect and feeds its result (or failure) back into the connection's session. */
  #async(c: Connection, work: () => Promise<SessionEvent | undefined>): void {
    this.ctx.waitUntil(
      work().then(
        (event) => {
          if (event) this.#feed(c, event);
        },
        (error: unknown) => this.#feed(c, { type: 'failure', error: this.#clientError(error, 'effect') }),
      ),
    );
  }

  /** The error to send for a failure of the server's own work; the original is logged, never sent. */
  #clientError(error: unknown, what: string): SyncError {
    const ref = crypto.randomUUID().slice(0, 8);
    const out = clientFacingError(error, ref);
    if (out.log) console.error(`[sync ${this.#clientId}] ${what} failed (ref ${ref})`, error);
    return out.error;
  }

  #apply(c: Connection, effect: SessionEffect): void {
    switch (effect.type) {
      case 'send':
        try {
          c.socket.send(effect.bytes);
        } catch {
          // The socket closed meanwhile: its close event ends the session.
        }
        return;
      case 'close':
        closeQuietly(c.socket, effect.code, effect.reason);
        this.#drop(c);
        return;
      case 'verify-token':
        this.#async(c, async () => {
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
        this.#async(c, async () => {
          const attached = await this.#replication().attach(effect.clientId);
          if (!attached.ok) {
            throw new SyncError(ErrorCode.UNAVAILABLE, `the server is not ready: ${attached.reason}`, {
              retryAfterMs: NOT_READY_RETRY_AFTER_MS,
            });
          }
          const { head, floor, catalog } = attached;
          return {
            type: 'client-loaded',
            record: this.#storage.record(effect.clientId),
            head,
            floor,
            catalog,
          };
        });
        return;
      case 'bind-client':
        this.#storage.bind(effect.clientId, effect.userId);
        return;
      case 'persist-ack':
        this.#storage.setAckedLsn(effect.clientId, effect.lsn);
        this.#async(c, async () => {
          await this.ctx.storage.sync();
          return { type: 'ack-persisted', lsn: effect.lsn };
        });
        return;
      case 'persist-mutation-id':
        this.#storage.setLastMutationId(effect.clientId, effect.lastMutationId);
        return;
      case 'start-snapshot':
        this.#async(c, () => this.#snapshots.start(c, effect, () => this.#connections.has(c.socket)));
        return;
      case 'read-snapshot-rows':
        this.#async(c, () => this.#snapshots.readRows(c, effect));
        return;
      case 'end-snapshot':
        this.#async(c, async () => {
          await this.#snapshots.end(c);
          return undefined;
        });
        return;
      case 'read-log':
        this.#async(c, async () => {
          const raw = await this.#replication().readLog(effect.afterLsn, effect.limit, effect.continueAt);
          return { type: 'log-batch', batch: decodeLogBatch(raw, effect.requestId) };
        });
        return;
      case 'fetch-rows':
        this.#async(c, async () => {
          const client = await this.#db();
          try {
            const rows = await fetchRowsByKey(
              client,
              effect.table,
              effect.columns,
              effect.keyColumns,
              effect.keys,
            );
            return { type: 'rows-fetched', requestId: effect.requestId, rows };
          } finally {
            await client.end();
          }
        });
        return;
      case 'set-timer':
        c.timerAt = effect.at;
        this.#updateAlarm();
        return;
      case 'log':
        (effect.level === 'warn' ? console.warn : console.log)(`[sync ${this.#clientId}] ${effect.message}`);
        return;
      default:
        effect satisfies never;
    }
  }

  async #db(): Promise<SqlClient> {
    const url = this.#config.databaseUrl;
    if (!url) throw new SyncError(ErrorCode.UNAVAILABLE, 'the server has no database configured');
    return openSqlClient(url, this.#config.driver);
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
