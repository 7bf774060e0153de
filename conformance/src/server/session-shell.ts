/**
 * The reference server's shell for one WebSocket: the server's own session core (`createSyncSession`) driven as
 * the SyncDO drives it — frames, timers and effect answers in, effects out — against the case's world instead
 * of Postgres and Durable Object storage. Outgoing frames pass the case's frame filter; incoming ones are checked
 * for client mistakes first.
 */

import {
  decodeClientFrame,
  ErrorCode,
  errorForCloseCode,
  MAX_MAX_FRAME_BYTES,
  type ServerMessage,
  SyncError,
} from '@vibestack/proto';
import type { WebSocket } from 'ws';
import { LOG_READ_MAX_CHUNKS } from '../../../server/src/constants.ts';
import type { TokenVerifier } from '../../../server/src/core/auth/index.ts';
import type { ScopeConfig } from '../../../server/src/core/scope/index.ts';
import type { SessionEffect, SessionEvent } from '../../../server/src/core/session/index.ts';
import { createSyncSession } from '../../../server/src/core/session/index.ts';
import { decodeLogBatch, toRawLogBatch } from '../../../server/src/do/log-batch.ts';
import { CLOSE_PROTOCOL_ERROR, REFERENCE_PROGRESS_INTERVAL_MS } from '../constants.ts';
import type { ConnectionScript, ServerSettings } from '../proto.ts';
import type { CaseWorld } from './case-world.ts';
import type { ConnectionRecord } from './connection-record.ts';
import { createFrameFilter, type OutFrame } from './frame-filter.ts';

/** Close codes of errors the core raises because the client broke the protocol. */
const CLIENT_FAULTS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.PROTOCOL_VIOLATION,
  ErrorCode.MALFORMED_FRAME,
  ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.HEARTBEAT_TIMEOUT,
  ErrorCode.MUTATION_OUT_OF_ORDER,
]);

/** What a connection needs from its case. */
export interface ShellContext {
  readonly world: CaseWorld;
  readonly scope: ScopeConfig;
  readonly settings: ServerSettings | undefined;
  readonly verifier: TokenVerifier;
  /** Snapshot ids handed out in this case, with their fingerprints (a `resume` of one of them continues it). */
  readonly snapshots: Map<string, string>;
  /** Records a client mistake (fails the case). */
  fail(message: string): void;
  /** Checks a Hello against the case's expectations (records mistakes itself). */
  checkHello(record: ConnectionRecord): void;
  /** Something about the connection changed (for waits). */
  changed(): void;
  trace(line: string): void;
}

/** The live side of one connection, for the case (head moves, shutdown). */
export interface SessionShell {
  /** The log's head moved: the session streams what is new. */
  onHead(): void;
  /** Ends the connection at once (the case is over). */
  terminate(): void;
}

/** Errors as the client's Error frames carry them (decoded leniently: any frame, any size). */
function peekClientFrame(data: Uint8Array) {
  try {
    return decodeClientFrame(data, MAX_MAX_FRAME_BYTES * 4).message;
  } catch {
    return undefined;
  }
}

function ackableLsn(message: ServerMessage | undefined): bigint | undefined {
  const m = message?.message;
  if (m?.case === 'transaction') return m.value.hasMore ? undefined : m.value.commitLsn;
  if (m?.case === 'snapshotEnd') return m.value.lsn;
  if (m?.case === 'progress') return m.value.lsn;
  return undefined;
}

/** A frame in a trace line: its case, and its LSN where it has one. */
function describeFrame(frame: OutFrame): string {
  const m = frame.message?.message;
  if (m === undefined) return typeof frame.bytes === 'string' ? 'text' : `raw ${frame.bytes.length} bytes`;
  if (frame.raw) return `raw ${m.case ?? 'empty envelope'}`;
  const lsn = ackableLsn(frame.message);
  const detail =
    m.case === 'transaction'
      ? ` ${m.value.commitLsn}#${m.value.frameIndex}${m.value.hasMore ? '+' : ''} (${m.value.changes.length} changes)`
      : m.case === 'snapshotChunk'
        ? ` (${m.value.rows.length} rows)`
        : lsn !== undefined
          ? ` ${lsn}`
          : '';
  return `${m.case}${detail}${frame.copy ? ' (again)' : ''}`;
}

/** Serves one accepted WebSocket for the case, until it closes. */
export function serveSession(
  ctx: ShellContext,
  ws: WebSocket,
  record: ConnectionRecord,
  script: ConnectionScript | undefined,
): SessionShell {
  const s = ctx.settings;
  const session = createSyncSession({
    clientId: record.clientId,
    scope: ctx.scope,
    serverAgent: 'vibestack-conformance-reference/0.1.0',
    progressIntervalMs: REFERENCE_PROGRESS_INTERVAL_MS,
    ...(s?.schemaVersion ? { schemaVersion: s.schemaVersion } : {}),
    ...(s?.heartbeatIntervalMs ? { heartbeatIntervalMs: s.heartbeatIntervalMs } : {}),
    ...(s?.maxFrameBytes ? { maxFrameBytes: s.maxFrameBytes } : {}),
    ...(s?.maxRowsPerChunk ? { maxRowsPerChunk: s.maxRowsPerChunk } : {}),
    ...(s?.maxChangesPerFrame ? { maxChangesPerFrame: s.maxChangesPerFrame } : {}),
    ...(s?.protocolVersions.length ? { supportedProtocolVersions: s.protocolVersions } : {}),
  });
  const label = `connection ${record.index}`;
  // `hidden_tables`: this connection's server does not sync them (never described, snapshotted or streamed).
  const hidden = new Set(script?.hiddenTables ?? []);
  const catalog =
    hidden.size === 0
      ? ctx.world.catalog
      : ctx.world.catalog.filter((t) => !hidden.has(`${t.schema}.${t.name}`));
  let frameLimit = 64 * 1024;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  let stalled = false;
  let sawFirstFrame = false;

  const filter = createFrameFilter(
    script?.actions ?? [],
    {
      sendBinary: (bytes) => ws.send(bytes, { binary: true }),
      sendText: (text) => ws.send(text, { binary: false }),
      terminate: () => {
        record.closedByServer = true;
        record.serverCloseCode = 1006;
        record.serverClosedAt = Date.now();
        ws.terminate();
      },
      close: (code, reason, error) => {
        record.closedByServer = true;
        record.serverCloseCode = code;
        record.serverClosedAt = Date.now();
        if (error !== undefined) {
          record.serverError = error.code;
          record.serverRetryAfterMs = error.retryAfterMs;
        }
        ws.close(code, reason);
      },
    },
    {
      written: (frame: OutFrame) => {
        record.framesSent++;
        record.lastServerFrameAt = Date.now();
        ctx.trace(`${label}: sent frame ${record.framesSent}: ${describeFrame(frame)}`);
        // A scripted frame is nothing the server delivered: no resume point, no negotiated limit.
        if (frame.raw) return;
        const lsn = ackableLsn(frame.message);
        if (lsn !== undefined) {
          record.delivered.add(lsn);
          if (lsn > record.maxDelivered) record.maxDelivered = lsn;
        }
        if (frame.message?.message.case === 'welcome') frameLimit = frame.message.message.value.maxFrameBytes;
      },
      acted: (what) => ctx.trace(`${label}: ${what}`),
      ended: () => stop(),
      stalled: () => {
        stalled = true;
        clearTimeout(timer);
      },
      frameLimit: () => frameLimit,
    },
  );

  const stop = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    feedNow({ type: 'closed' });
  };

  /** Feeds an event even after `stop` (only `closed` is fed then). */
  const feedNow = (event: SessionEvent) => {
    if (stalled) return;
    run(session.handle(event, Date.now()));
  };

  const feed = (event: SessionEvent) => {
    if (done || stalled) return;
    feedNow(event);
  };

  /** Answers an effect asynchronously, as the Durable Object shell does. */
  const later = (answer: () => SessionEvent | Promise<SessionEvent | undefined> | undefined) => {
    setImmediate(() => {
      if (done || stalled) return;
      Promise.resolve()
        .then(answer)
        .then(
          (event) => {
            if (event !== undefined) feed(event);
          },
          (error: unknown) => feed({ type: 'failure', error: SyncError.from(error) }),
        );
    });
  };

  const w = ctx.world;
  const apply = (effect: SessionEffect): void => {
    switch (effect.type) {
      case 'send': {
        const m = effect.message.message;
        if (m.case === 'error' && m.value.fatal) {
          record.serverError = m.value.code;
          record.serverRetryAfterMs = m.value.retryAfterMs;
        }
        filter.send({ bytes: effect.bytes, data: effect.data, message: effect.message });
        return;
      }
      case 'close': {
        const code = errorForCloseCode(effect.code);
        if (code !== undefined && CLIENT_FAULTS.has(code) && !filter.silent) {
          const expected = script?.expectClose;
          if (!(expected !== undefined && expected.error === code)) {
            ctx.fail(
              `${label}: the server closed it for a client fault: ${ErrorCode[code]} (${effect.reason})`,
            );
          }
        }
        if (!filter.silent) {
          // The core answers a client's fatal Error with a close; the client closed first then.
          if (record.clientError === undefined) {
            record.closedByServer = true;
            record.serverCloseCode = effect.code;
            record.serverClosedAt = Date.now();
          }
          ws.close(effect.code, effect.reason);
        }
        done = true;
        clearTimeout(timer);
        return;
      }
      case 'set-timer':
        clearTimeout(timer);
        timer =
          effect.at === undefined
            ? undefined
            : setTimeout(() => feed({ type: 'tick' }), Math.max(0, effect.at - Date.now()));
        return;
      case 'verify-token':
        later(async () => {
          try {
            return {
              type: 'token-verified',
              claims: await ctx.verifier.verify(effect.token, Date.now() / 1000),
            };
          } catch (error) {
            return { type: 'token-rejected', error: SyncError.from(error, ErrorCode.UNAUTHENTICATED) };
          }
        });
        return;
      case 'load-client':
        later(() => ({
          type: 'client-loaded',
          record: w.records.get(effect.clientId),
          floor: w.floor(),
          head: w.log.head(),
          catalog,
        }));
        return;
      case 'bind-client':
        if (!w.records.has(effect.clientId)) {
          w.records.set(effect.clientId, { userId: effect.userId, ackedLsn: 0n, lastMutationId: 0n });
        }
        return;
      case 'persist-ack': {
        const r = w.records.get(effect.clientId);
        if (r) w.records.set(effect.clientId, { ...r, ackedLsn: effect.lsn });
        later(() => ({ type: 'ack-persisted', lsn: effect.lsn }));
        return;
      }
      case 'persist-mutation-id': {
        const r = w.records.get(effect.clientId);
        if (r) w.records.set(effect.clientId, { ...r, lastMutationId: effect.lastMutationId });
        return;
      }
      case 'start-snapshot':
        later(() => {
          const wanted = effect.resume?.snapshotId;
          const resumed = wanted !== undefined && ctx.snapshots.get(wanted) === effect.fingerprint;
          const snapshotId = resumed ? wanted : `snapshot-${ctx.snapshots.size + 1}`;
          ctx.snapshots.set(snapshotId, effect.fingerprint);
          return {
            type: 'snapshot-started',
            snapshotId,
            resumed,
            lsn: w.snapshot.lsn,
            xids: w.snapshot.xids,
            handoffAfterLsn: w.snapshot.lsn,
            estimates: effect.tables.map((t) => ({
              relationOid: t.relationOid,
              rows: BigInt(w.snapshot.tables.get(t.relationOid)?.rows.length ?? 0),
              bytes: 0n,
            })),
          };
        });
        return;
      case 'read-snapshot-rows':
        later(() => ({
          type: 'snapshot-rows',
          relationOid: effect.table.relationOid,
          ...w.snapshotRows(
            effect.table.relationOid,
            effect.columns,
            effect.afterKey,
            effect.limit,
            effect.filter,
          ),
        }));
        return;
      case 'read-log':
        later(() => {
          const read = w.log.readBatch(
            effect.afterLsn,
            { maxTransactions: effect.limit, maxChunks: LOG_READ_MAX_CHUNKS },
            effect.continueAt,
          );
          const batch = decodeLogBatch(toRawLogBatch(read, w.log.shapes()), effect.requestId);
          return { type: 'log-batch', batch: { ...batch, floor: w.floor() } };
        });
        return;
      case 'fetch-rows':
        ctx.trace(
          `${label}: the core fetches ${effect.keys.length} row(s) of ${effect.table.schema}.${effect.table.name}`,
        );
        later(() => ({
          type: 'rows-fetched',
          requestId: effect.requestId,
          rows: w.currentRows(effect.table.relationOid, effect.columns, effect.keyColumns, effect.keys),
        }));
        return;
      case 'end-snapshot':
        return;
      case 'log':
        ctx.trace(`${label}: core ${effect.level}: ${effect.message}`);
        return;
    }
  };

  function run(effects: readonly SessionEffect[]): void {
    for (const effect of effects) apply(effect);
    ctx.changed();
  }

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!record.subprotocol) {
      refuseUnselected(isBinary ? peekClientFrame(new Uint8Array(data)) : undefined);
      return;
    }
    if (!isBinary) {
      feed({ type: 'frame', data: data.toString('utf8') });
      return;
    }
    // What the client says is recorded even while the server ignores it (`stall`) or has closed.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const m = peekClientFrame(bytes);
    if (m?.case === 'hello' && record.hello === undefined && !sawFirstFrame) {
      record.hello = m.value;
      ctx.checkHello(record);
    } else if (m?.case === 'ack') {
      if (m.value.lsn > record.maxDelivered) {
        ctx.fail(`${label}: Ack of ${m.value.lsn}, beyond the last LSN delivered (${record.maxDelivered})`);
      }
      if (m.value.lsn > record.maxAck) record.maxAck = m.value.lsn;
    } else if (m?.case === 'error' && m.value.fatal) {
      record.clientError = m.value.code;
    }
    if (stalled || done) return;
    const first = !sawFirstFrame;
    sawFirstFrame = true;
    if (first && !filter.beforeHello()) {
      ctx.changed();
      return;
    }
    feed({ type: 'frame', data: bytes });
  });

  /**
   * A frame on a connection whose upgrade selected no subprotocol (§2.1): the client must send nothing there.
   * The server does not speak the protocol on it: it closes it with 1002.
   */
  const refuseUnselected = (m: ReturnType<typeof peekClientFrame>) => {
    if (done) return;
    ctx.fail(
      `${label}: the client sent ${m?.case === 'hello' ? 'a Hello' : 'a frame'} on a connection whose upgrade did not select the subprotocol (§2.1)`,
    );
    record.closedByServer = true;
    record.serverCloseCode = CLOSE_PROTOCOL_ERROR;
    record.serverClosedAt = Date.now();
    ws.close(CLOSE_PROTOCOL_ERROR, 'no subprotocol selected');
    stop();
    ctx.changed();
  };

  ws.on('close', (code: number, reason: Buffer) => {
    record.end = {
      // A client that closes on the server's fatal Error may send its own close frame before it sees the server's.
      code: record.closedByServer ? (record.serverCloseCode ?? code) : code,
      reason: reason.toString('utf8'),
      byClient: !record.closedByServer,
      at: Date.now(),
    };
    filter.dispose();
    stalled = false;
    stop();
    ctx.changed();
  });

  ws.on('error', (error) => ctx.trace(`${label}: socket error: ${error.message}`));

  feed({ type: 'open' });
  return {
    onHead() {
      feed({ type: 'log-head', head: w.log.head(), floor: w.floor() });
    },
    terminate() {
      filter.dispose();
      clearTimeout(timer);
      done = true;
      ws.terminate();
    },
  };
}
