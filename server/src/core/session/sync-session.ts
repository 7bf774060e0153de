/**
 * The server side of one sync WebSocket (docs/protocol.md §3.3), sans-IO: `handle(event, now)` returns the
 * effects to carry out, in order. Token checks, storage, snapshot reads and log reads are effects whose results
 * come back as events. See SPEC.md for the transition table.
 */

import { create } from '@bufbuild/protobuf';
import {
  CLOSE_NORMAL,
  type ClientMessage,
  decodeClientFrame,
  ErrorCode,
  type Error as ErrorMessage,
  encodeServerFrame,
  HELLO_TIMEOUT_MS,
  MAX_HELLO_FRAME_BYTES,
  PingSchema,
  PongSchema,
  type ServerMessage,
  ServerMessageSchema,
  SyncError,
} from '@vibestack/proto';
import type { JwtClaims } from '../auth/index.ts';
import { AckTracker } from './ack-tracker.ts';
import { closeFor, fatalErrorMessage } from './error-frame.ts';
import { negotiatedFrameBytes } from './handshake.ts';
import { type AcceptedHello, HandshakeFlow } from './handshake-flow.ts';
import { heartbeatDeadline, heartbeatDue } from './heartbeat.ts';
import { LogRateLimiter, safeLogText } from './log-line.ts';
import { rejectMutations, resultsMessage } from './mutations.ts';
import type { RelationDescriptor } from './relation-descriptor.ts';
import { SESSION_CHECKPOINT_VERSION, type SessionCheckpoint } from './session-checkpoint.ts';
import { type ResolvedSessionConfig, resolveSessionConfig } from './session-config.ts';
import { restoreStreams } from './session-restore.ts';
import { feedStreams, type Streams, startSession } from './session-start.ts';
import type { SessionConfig, SessionEffect, SessionEvent, SessionState } from './session-types.ts';
import { TableViews } from './table-views.ts';

/** One connection's session. */
export interface SyncSession {
  readonly state: SessionState;
  /** Feeds one event in at time `now` (ms since 1970) and returns the effects to carry out, in order. */
  handle(event: SessionEvent, now: number): SessionEffect[];
  /**
   * The state to continue this connection from in another process ({@link restoreSyncSession}), or `undefined`
   * unless the session is quiescent: waiting for the Hello, or LIVE with nothing queued, no read, row fetch or
   * Ack persist outstanding and no transaction half-sent. A shell that may lose the session (hibernation) stores it after every `handle` and
   * discards the stored one whenever this is `undefined`: an older checkpoint would send frames again.
   */
  checkpoint(): SessionCheckpoint | undefined;
}

/**
 * Creates the session of a freshly accepted WebSocket. Feed it `open`, then every frame, timer tick and effect
 * result; carry out the returned effects in order.
 *
 * @example
 * const session = createSyncSession({ clientId: routedClientId, scope });
 * run(session.handle({ type: 'open' }, Date.now()));
 * ws.onmessage = (m) => run(session.handle({ type: 'frame', data: m.data }, Date.now()));
 */
export function createSyncSession(config: SessionConfig): SyncSession {
  return new Session(resolveSessionConfig(config));
}

/**
 * Recreates a session from its {@link SyncSession.checkpoint}, with the current catalog: it continues exactly as
 * the checkpointed one would (same frames, relation ids, timers). A table whose Relation changed meanwhile gets
 * the new Relation before its next change.
 *
 * @example
 * const cp = parseSessionCheckpoint(JSON.parse(stored));
 * const session = cp && restoreSyncSession({ clientId, scope }, cp, catalog);
 * @throws RangeError when the checkpoint is of another client id.
 */
export function restoreSyncSession(
  config: SessionConfig,
  checkpoint: SessionCheckpoint,
  catalog: readonly RelationDescriptor[],
): SyncSession {
  if (checkpoint.clientId !== config.clientId) {
    throw new RangeError(`checkpoint of client ${checkpoint.clientId}, not ${config.clientId}`);
  }
  const session = new Session(resolveSessionConfig(config));
  session.restore(checkpoint, catalog);
  return session;
}

const violation = (message: string) => new SyncError(ErrorCode.PROTOCOL_VIOLATION, message);
const STREAMING: ReadonlySet<SessionState> = new Set(['SNAPSHOT', 'CATCHING_UP', 'LIVE']);

class Session implements SyncSession {
  readonly #config: ResolvedSessionConfig;
  readonly #views: TableViews;
  #state: SessionState = 'AWAIT_HELLO';
  #effects: SessionEffect[] = [];
  #now = 0;
  #openedAt = 0;
  #timerAt: number | undefined;
  readonly #handshake: HandshakeFlow;
  #frameLimit = MAX_HELLO_FRAME_BYTES;
  #lastSentAt = 0;
  #lastReceivedAt = 0;
  #pingNonce = 0n;
  #expiresAt: number | undefined;
  readonly #acks = new AckTracker((lsn) =>
    this.#emit({ type: 'persist-ack', clientId: this.#config.clientId, lsn }),
  );
  #lastMutationId = 0n;
  #claims: JwtClaims | undefined;
  #streams: Streams | undefined;
  readonly #clientLogs = new LogRateLimiter();

  constructor(config: ResolvedSessionConfig) {
    this.#config = config;
    this.#views = new TableViews(config.scope);
    this.#handshake = new HandshakeFlow(config);
  }

  get state(): SessionState {
    return this.#state;
  }

  checkpoint(): SessionCheckpoint | undefined {
    if (this.#state === 'AWAIT_HELLO') {
      if (this.#timerAt === undefined) return undefined; // not opened yet
      return {
        version: SESSION_CHECKPOINT_VERSION,
        state: 'AWAIT_HELLO',
        clientId: this.#config.clientId,
        openedAt: this.#openedAt,
        timerAt: this.#timerAt,
      };
    }
    const s = this.#streams;
    if (this.#state !== 'LIVE' || s === undefined || s.outbox.length > 0 || this.#claims === undefined)
      return undefined;
    const log = s.log.checkpoint();
    const acks = this.#acks.checkpoint();
    if (log === undefined || acks === undefined) return undefined;
    return {
      version: SESSION_CHECKPOINT_VERSION,
      state: 'LIVE',
      clientId: this.#config.clientId,
      claims: this.#claims,
      frameLimit: this.#frameLimit,
      timerAt: this.#timerAt ?? null,
      lastSentAt: this.#lastSentAt,
      lastReceivedAt: this.#lastReceivedAt,
      pingNonce: this.#pingNonce.toString(),
      expiresAt: this.#expiresAt ?? null,
      acks: { maxAckable: acks.maxAckable.toString(), last: acks.last.toString() },
      lastMutationId: this.#lastMutationId.toString(),
      credit: s.outbox.credit,
      log,
      relations: this.#views.checkpoint(),
    };
  }

  /** Continues from a checkpoint (see {@link restoreSyncSession}); called once, on a fresh session. */
  restore(cp: SessionCheckpoint, catalog: readonly RelationDescriptor[]): void {
    if (cp.state === 'AWAIT_HELLO') {
      this.#openedAt = cp.openedAt;
      this.#timerAt = cp.timerAt;
      return;
    }
    this.#views.setCatalog(catalog);
    this.#views.restore(cp.relations);
    this.#claims = cp.claims;
    this.#frameLimit = cp.frameLimit;
    this.#timerAt = cp.timerAt ?? undefined;
    this.#lastSentAt = cp.lastSentAt;
    this.#lastReceivedAt = cp.lastReceivedAt;
    this.#pingNonce = BigInt(cp.pingNonce);
    this.#expiresAt = cp.expiresAt ?? undefined;
    this.#acks.restore({ maxAckable: BigInt(cp.acks.maxAckable), last: BigInt(cp.acks.last) });
    this.#lastMutationId = BigInt(cp.lastMutationId);
    this.#streams = restoreStreams({
      config: this.#config,
      checkpoint: cp,
      views: this.#views,
      emit: (effect) => this.#emit(effect),
      now: () => this.#now,
    });
    this.#state = 'LIVE';
  }

  handle(event: SessionEvent, now: number): SessionEffect[] {
    this.#effects = [];
    if (this.#state === 'CLOSED') return this.#effects;
    if (this.#timerAt === undefined && this.#state === 'AWAIT_HELLO') this.#openedAt = now;
    this.#now = now;
    try {
      this.#dispatch(event);
      this.#pump();
    } catch (e) {
      this.#fail(SyncError.from(e));
    }
    this.#updateTimer();
    return this.#effects;
  }

  #dispatch(ev: SessionEvent): void {
    switch (ev.type) {
      case 'open':
      case 'tick':
        if (ev.type === 'tick') this.#onTick();
        break;
      case 'frame':
        this.#onFrame(decodeClientFrame(ev.data, this.#frameLimit));
        break;
      case 'closed':
        this.#closeDown();
        break;
      case 'token-verified':
      case 'token-rejected':
        if (this.#handshake.awaiting !== 'token') this.#stale(ev.type);
        else if (ev.type === 'token-rejected') throw ev.error;
        else this.#emit(this.#handshake.onClaims(ev.claims));
        break;
      case 'client-loaded':
        if (this.#handshake.awaiting !== 'client') this.#stale(ev.type);
        else this.#welcome(this.#handshake.onClientLoaded(ev), ev);
        break;
      case 'catalog-changed':
        this.#views.setCatalog(ev.catalog);
        break;
      case 'ack-persisted':
        this.#acks.persisted(ev.lsn);
        break;
      case 'snapshot-started':
      case 'snapshot-rows':
      case 'log-batch':
      case 'log-head':
      case 'rows-fetched':
        if (!feedStreams(this.#streams, ev)) this.#stale(ev.type);
        break;
      case 'replaced':
        throw new SyncError(ErrorCode.REPLACED, 'another connection with this client id took over');
      case 'shutdown':
        throw new SyncError(ErrorCode.UNAVAILABLE, 'the server is going away', {
          ...(ev.retryAfterMs === undefined ? {} : { retryAfterMs: ev.retryAfterMs }),
        });
      case 'failure':
        throw ev.error;
    }
  }

  #onFrame(msg: ClientMessage): void {
    this.#lastReceivedAt = this.#now;
    const m = msg.message;
    if (m.case === 'error') {
      this.#onClientError(m.value);
    } else if (this.#state === 'AWAIT_HELLO') {
      if (m.case !== 'hello') throw violation('the first frame must be a Hello');
      this.#emit(this.#handshake.onHello(m.value));
      this.#state = 'HANDSHAKE';
    } else if (m.case === undefined) {
      // A case from a later protocol version: ignored (§2.2).
    } else if (this.#state === 'HANDSHAKE') {
      throw violation(`${m.case} before the answer to Hello`);
    } else if (m.case === 'hello') {
      throw violation('a second Hello');
    } else if (m.case === 'ack') {
      if (this.#state === 'SNAPSHOT') throw violation('Ack before SnapshotEnd');
      this.#acks.ack(m.value.lsn);
    } else if (m.case === 'credit') {
      this.#streams!.outbox.grant(m.value.frames);
    } else if (m.case === 'ping') {
      const pong = create(PongSchema, { nonce: m.value.nonce });
      this.#send(create(ServerMessageSchema, { message: { case: 'pong', value: pong } }), false);
    } else if (m.case === 'mutations') {
      const outcome = rejectMutations(m.value, this.#lastMutationId);
      const results = resultsMessage(outcome);
      if (results !== undefined) this.#send(results, false);
      if (outcome.lastMutationId !== this.#lastMutationId) {
        this.#lastMutationId = outcome.lastMutationId;
        this.#emit({
          type: 'persist-mutation-id',
          clientId: this.#config.clientId,
          lastMutationId: outcome.lastMutationId,
        });
      }
      if (outcome.fatal !== undefined) throw outcome.fatal;
    }
    // A Pong only counts as liveness, like every frame.
  }

  #onClientError(error: ErrorMessage): void {
    if (!error.fatal) {
      if (!STREAMING.has(this.#state)) throw violation('a non-fatal Error before the handshake completed');
      // The client chooses how often: one line per frame would let it flood the server's logs.
      const suppressed = this.#clientLogs.take(this.#now);
      if (suppressed === undefined) return;
      const more = suppressed > 0 ? ` (${suppressed} more client errors not logged)` : '';
      this.#log('warn', `client error ${error.code}: ${safeLogText(error.message)}${more}`);
      return;
    }
    this.#log('info', `client's fatal error ${error.code}: ${safeLogText(error.message)}`);
    this.#emit({ type: 'close', code: CLOSE_NORMAL, reason: 'client error' });
    this.#closeDown();
  }

  /** Hello accepted: the Welcome and the mode's streams. */
  #welcome(accepted: AcceptedHello, ev: Extract<SessionEvent, { type: 'client-loaded' }>): void {
    const { hello, claims, record } = accepted;
    this.#views.setCatalog(ev.catalog);
    if (record === undefined)
      this.#emit({ type: 'bind-client', clientId: this.#config.clientId, userId: claims.sub });
    this.#acks.reset(record?.ackedLsn ?? 0n, hello.resumeLsn);
    this.#lastMutationId = record?.lastMutationId ?? 0n;
    this.#frameLimit = negotiatedFrameBytes(hello, this.#config.maxFrameBytes);
    if (typeof claims.exp === 'number') this.#expiresAt = claims.exp * 1000 + this.#config.tokenLeewayMs;
    this.#claims = claims;
    const started = startSession({
      ...accepted,
      config: this.#config,
      floor: ev.floor,
      head: ev.head,
      maxFrameBytes: this.#frameLimit,
      lastMutationId: this.#lastMutationId,
      views: this.#views,
      emit: (effect) => this.#emit(effect),
      now: () => this.#now,
    });
    this.#send(started.welcome, false);
    this.#lastReceivedAt = this.#now;
    this.#streams = started;
    this.#state = started.state;
    started.begin();
  }

  #onTick(): void {
    if (this.#state === 'AWAIT_HELLO' && this.#now >= this.#openedAt + HELLO_TIMEOUT_MS) {
      throw new SyncError(ErrorCode.HEARTBEAT_TIMEOUT, `no Hello within ${HELLO_TIMEOUT_MS} ms`);
    }
    if (!STREAMING.has(this.#state)) return;
    const due = heartbeatDue(this.#clock(), this.#now);
    if (due === 'peer-silent')
      throw new SyncError(ErrorCode.HEARTBEAT_TIMEOUT, 'no frame for 3 heartbeat intervals');
    if (due === 'token-expired')
      throw new SyncError(ErrorCode.UNAUTHENTICATED, 'the token expired; reconnect with a fresh one');
    if (due === 'ping') {
      this.#pingNonce++;
      const ping = create(PingSchema, { nonce: this.#pingNonce });
      this.#send(create(ServerMessageSchema, { message: { case: 'ping', value: ping } }), false);
    }
  }

  /** Sends queued data frames while credit lasts, and lets the streams ask for more. */
  #pump(): void {
    const s = this.#streams;
    if (s === undefined || !STREAMING.has(this.#state)) return;
    s.log.flushProgress();
    this.#drain(s);
    s.snapshot?.maybeRequest();
    s.log.maybeRead();
    this.#drain(s);
  }

  #drain(s: Streams): void {
    for (let f = s.outbox.next(); f !== undefined; f = s.outbox.next()) {
      this.#send(f.message, true);
      if (f.ackable !== undefined) this.#acks.sent(f.ackable);
      if (f.entersLive === true) this.#state = 'LIVE';
    }
  }

  #send(message: ServerMessage, data: boolean): void {
    const bytes = encodeServerFrame(message);
    if (bytes.length > this.#frameLimit) {
      throw new SyncError(
        ErrorCode.INTERNAL,
        `built a ${bytes.length}-byte frame over the ${this.#frameLimit}-byte limit`,
      );
    }
    this.#emit({ type: 'send', bytes, message, data });
    this.#lastSentAt = this.#now;
  }

  /** A fatal error: the Error frame, the close with 4000 + code, nothing after (§2.3). */
  #fail(error: SyncError): void {
    if (this.#state === 'CLOSED') return;
    this.#log('warn', safeLogText(error.message));
    const message = fatalErrorMessage(error, this.#config.supportedProtocolVersions);
    this.#emit({ type: 'send', bytes: encodeServerFrame(message), message, data: false });
    this.#emit({ type: 'close', ...closeFor(error) });
    this.#closeDown();
  }

  #closeDown(): void {
    this.#state = 'CLOSED';
    this.#streams?.snapshot?.abort();
  }

  #clock() {
    const intervalMs = this.#config.heartbeatIntervalMs;
    return {
      intervalMs,
      lastSentAt: this.#lastSentAt,
      lastReceivedAt: this.#lastReceivedAt,
      expiresAt: this.#expiresAt,
    };
  }

  #updateTimer(): void {
    let at: number | undefined;
    if (this.#state === 'AWAIT_HELLO') at = this.#openedAt + HELLO_TIMEOUT_MS;
    else if (STREAMING.has(this.#state))
      at = heartbeatDeadline(this.#clock(), this.#streams?.log.progressDueAt());
    if (at === this.#timerAt) return;
    this.#timerAt = at;
    this.#emit({ type: 'set-timer', at });
  }

  #stale(type: string): void {
    this.#log('warn', `ignored ${type}: nothing waits for it`);
  }

  /** A log line; text a client chose must already have gone through `safeLogText`. */
  #log(level: 'info' | 'warn', message: string): void {
    this.#emit({ type: 'log', level, message });
  }

  #emit(effect: SessionEffect): void {
    this.#effects.push(effect);
  }
}
