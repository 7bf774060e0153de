/**
 * The client side of the sync protocol (docs/protocol.md §3.1), sans-IO: `handle(event, now)` returns the
 * effects to carry out, in order. It spans connections: it owns the reconnect loop (§9) and the apply pipeline
 * whose works may finish after their connection is gone. See SPEC.md for the transition table.
 */

import {
  CLOSE_NORMAL,
  type ClientMessage,
  closeCodeForError,
  DEFAULT_INITIAL_CREDIT,
  ErrorCode,
  type Error as ErrorMessage,
  encodeClientFrame,
  type FrameData,
  type Lsn,
  MIN_MAX_FRAME_BYTES,
  SUPPORTED_PROTOCOL_VERSIONS,
  SYNC_SUBPROTOCOL,
  SyncError,
  SyncMode,
} from '@vibestack/proto';
import { ApplyQueue, type InFlightWork } from './apply-queue.ts';
import {
  ackFrame,
  closeReason,
  creditFrame,
  fatalErrorFrame,
  type HelloFields,
  helloFrame,
  pingFrame,
  pongFrame,
} from './client-frames.ts';
import type {
  ClientConfig,
  ClientEffect,
  ClientEvent,
  ClientState,
  ClientStatus,
  ResumeState,
} from './client-types.ts';
import { Connection } from './connection.ts';
import {
  BACKOFF_RESET_AFTER_MS,
  CLIENT_AGENT,
  CLOSE_PROTOCOL_ERROR,
  DEFAULT_MAX_GROUP_CHANGES,
  WELCOME_TIMEOUT_MS,
} from './constants.ts';
import { decodeServerFrameFast } from './fast-decode.ts';
import { heartbeatDeadline, heartbeatDue } from './heartbeat.ts';
import {
  actionForClose,
  actionForError,
  actionForUpgradeFailure,
  type ReconnectAction,
  reconnectDelay,
} from './reconnect-policy.ts';
import { checkWelcome } from './welcome.ts';

/** One client's session. */
export interface ClientSession {
  readonly state: ClientState;
  /** The resume point as committed locally (what the next Hello carries). */
  readonly resume: ResumeState;
  /** Feeds one event in at time `now` (ms) and returns the effects to carry out, in order. */
  handle(event: ClientEvent, now: number): ClientEffect[];
}

/**
 * Creates a client session from the state the local store committed last time. Feed it `start`, then every
 * socket event, timer tick and apply result; carry out the returned effects in order.
 *
 * @example
 * const session = createClientSession({ clientId, resume: await store.load() });
 * run(session.handle({ type: 'start' }, Date.now()));
 * ws.onmessage = (m) => run(session.handle({ type: 'frame', data: m.data }, Date.now()));
 */
export function createClientSession(config: ClientConfig): ClientSession {
  return new Session(config);
}

/** The error of a failed WebSocket upgrade, naming the URL and, when known, the HTTP status or the reason. */
function upgradeError(ev: Extract<ClientEvent, { type: 'connect-failed' }>): SyncError {
  const at = ev.url === undefined ? '' : ` at ${ev.url}`;
  const why =
    ev.httpStatus !== undefined
      ? `HTTP ${ev.httpStatus}`
      : `no connection${ev.reason === undefined ? '' : `: ${ev.reason}`}`;
  return new SyncError(ErrorCode.UNAVAILABLE, `the WebSocket upgrade${at} failed (${why})`, {
    details: {
      ...(ev.url === undefined ? {} : { url: ev.url }),
      ...(ev.httpStatus === undefined ? {} : { httpStatus: ev.httpStatus }),
    },
  });
}

const CONNECTED: ReadonlySet<ClientState> = new Set(['AWAIT_WELCOME', 'SNAPSHOT', 'CATCHING_UP', 'LIVE']);
const STREAMING: ReadonlySet<ClientState> = new Set(['SNAPSHOT', 'CATCHING_UP', 'LIVE']);
/** Client-detected errors, and an attempt that ends before its socket (no usable token, §9.2): backoff. */
const BACKOFF: ReconnectAction = { kind: 'retry', delay: 'backoff' };
const violation = (message: string) => new SyncError(ErrorCode.PROTOCOL_VIOLATION, message);
const REFUSED_TOKEN_AGAIN = 'the token source returned the token the server refused; waiting for a fresh one';

class Session implements ClientSession {
  readonly #config: ClientConfig;
  readonly #random: () => number;
  readonly #queue: ApplyQueue;
  #state: ClientState = 'IDLE';
  #resume: ResumeState;
  #effects: ClientEffect[] = [];
  #now = 0;
  #conn: Connection | undefined;
  #connections = 0;
  /** Works of connections up to this one no longer move the resume point (after MUST_REFETCH). */
  #forgottenUpTo = 0;
  /**
   * Where the attempt of CONNECTING is: waiting for the apply pipeline to be idle (`Hello.resume_lsn` must be
   * committed), for the token (`get-token` emitted), for the socket (`connect` emitted).
   */
  #attempting: 'apply-idle' | 'token' | 'socket' | undefined;
  /** The token of this attempt, for its Hello. */
  #token: string | undefined;
  /** Ask for a fresh token: the server refused the last one and no socket opened since (§4.3). */
  #freshToken = false;
  /** The server's last refusal: the token it refused (never sent again, §4.3) and its error. */
  #refusal: { readonly token: string; readonly error: SyncError; warned: boolean } | undefined;
  #attempt = 0;
  #reconnectAt = 0;
  /** The server's `retry_after_ms` ends here: nothing reconnects earlier (§9.4). */
  #notBefore = 0;
  #timerAt: number | undefined;
  #lastError: SyncError | undefined;
  #lastStatus: ClientStatus | undefined;
  /** The largest `Progress{caught_up}.lsn` received (the server's head when it last said "caught up"). */
  #caughtUpLsn: Lsn = 0n;

  constructor(config: ClientConfig) {
    this.#config = config;
    this.#random = config.random ?? Math.random;
    this.#queue = new ApplyQueue(config.maxGroupChanges ?? DEFAULT_MAX_GROUP_CHANGES, {
      rows: config.snapshotGroupRows ?? 0,
      frames: Math.floor((config.initialCredit ?? DEFAULT_INITIAL_CREDIT) / 2),
    });
    this.#resume = config.resume ?? { appliedLsn: 0n };
  }

  get state(): ClientState {
    return this.#state;
  }

  get resume(): ResumeState {
    return this.#resume;
  }

  handle(event: ClientEvent, now: number): ClientEffect[] {
    this.#effects = [];
    this.#now = now;
    try {
      this.#dispatch(event);
    } catch (e) {
      this.#fail(SyncError.from(e));
    }
    this.#pump();
    this.#updateTimer();
    this.#emitStatus();
    return this.#effects;
  }

  #dispatch(ev: ClientEvent): void {
    const s = this.#state;
    switch (ev.type) {
      case 'start':
        if (s === 'IDLE' || s === 'BACKOFF' || s === 'FAILED' || s === 'STOPPED') this.#toConnecting();
        return;
      case 'stop':
        if (s === 'CONNECTING' || CONNECTED.has(s))
          this.#emit({ type: 'close', code: CLOSE_NORMAL, reason: 'stopped' });
        this.#dropConnection();
        this.#state = 'STOPPED';
        return;
      case 'token':
        if (s === 'CONNECTING' && this.#attempting === 'token') this.#onToken(ev.token);
        return;
      case 'token-failed':
        if (s === 'CONNECTING' && this.#attempting === 'token') this.#onTokenFailed(ev.reason);
        return;
      case 'socket-open':
        if (s === 'CONNECTING' && this.#attempting === 'socket') this.#onOpen(ev.subprotocol);
        return;
      case 'connect-failed':
        if (s !== 'CONNECTING') return;
        if (ev.error !== undefined) {
          this.#leave({ kind: 'stop' }, ev.error);
          return;
        }
        this.#leave(actionForUpgradeFailure(ev.httpStatus), upgradeError(ev));
        return;
      case 'socket-closed':
        if (s !== 'CONNECTING' && !CONNECTED.has(s)) return;
        this.#leave(
          actionForClose(ev.code),
          new SyncError(ErrorCode.UNAVAILABLE, `the WebSocket closed (${ev.code} ${ev.reason})`),
        );
        return;
      case 'frame':
        if (CONNECTED.has(s)) this.#onFrame(this.#conn!, ev.data);
        return;
      case 'tick': {
        this.#onTick();
        return;
      }
      case 'apply-done': {
        this.#onApplied(this.#queue.finish(ev.id));
        return;
      }
      case 'apply-failed': {
        this.#onApplyFailed(this.#queue.finish(ev.id), ev.error);
        return;
      }
      case 'network-online':
        // Skips the client's own backoff, not the server's retry_after_ms (§9.4).
        if (s === 'BACKOFF') this.#reconnectAt = Math.min(this.#reconnectAt, this.#notBefore);
        if (s === 'BACKOFF' && this.#now >= this.#reconnectAt) this.#toConnecting();
        return;
    }
  }

  #toConnecting(): void {
    this.#state = 'CONNECTING';
    this.#attempting = 'apply-idle';
    this.#token = undefined;
  }

  #onToken(token: string): void {
    const refusal = this.#refusal;
    if (refusal !== undefined && token === refusal.token) {
      // §4.3: a refused token is never sent again. No connection: wait like after a failed connect, with the
      // refusal as the reason, and ask for a fresh token again.
      if (!refusal.warned) this.#emit({ type: 'log', level: 'warn', message: REFUSED_TOKEN_AGAIN });
      refusal.warned = true;
      this.#freshToken = true;
      this.#leave(BACKOFF, refusal.error);
      return;
    }
    this.#token = token;
    this.#attempting = 'socket';
    this.#emit({ type: 'connect' });
  }

  #onTokenFailed(reason: string): void {
    const message = `getting a token failed: ${reason}`;
    this.#emit({ type: 'log', level: 'warn', message });
    // While a refusal stands (no fresh token yet), it stays the reason the client waits.
    const refused = this.#freshToken ? this.#refusal?.error : undefined;
    this.#leave(BACKOFF, refused ?? new SyncError(ErrorCode.UNAVAILABLE, message));
  }

  #onOpen(subprotocol: string): void {
    if (subprotocol !== SYNC_SUBPROTOCOL) {
      // §2.1, §9.3: send nothing. Browsers and `ws` fail such an upgrade themselves, and a client cannot tell that
      // from a network failure, so this is a failed upgrade too: backoff, not stop.
      this.#emit({ type: 'close', code: CLOSE_PROTOCOL_ERROR, reason: 'subprotocol not selected' });
      const selected = subprotocol === '' ? 'no subprotocol' : `subprotocol "${subprotocol}"`;
      this.#leave(
        actionForUpgradeFailure(undefined),
        violation(`the server selected ${selected}, not "${SYNC_SUBPROTOCOL}"`),
      );
      return;
    }
    this.#freshToken = false;
    const hello: HelloFields = {
      protocolVersions: this.#config.protocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS,
      token: this.#token!,
      clientId: this.#config.clientId,
      resumeLsn: this.#resume.appliedLsn,
      snapshot: this.#resume.appliedLsn === 0n ? this.#resume.snapshot : undefined,
      // §4.6: empty = adopt the server's, on every connection (Welcome.schema_version is never sent back).
      schemaVersion: this.#config.schemaVersion ?? '',
      initialCredit: this.#config.initialCredit ?? 0,
      maxFrameBytes: this.#config.maxFrameBytes ?? 0,
      clientAgent: this.#config.clientAgent ?? CLIENT_AGENT,
      lastSentMutationId: this.#resume.lastSentMutationId ?? 0n,
    };
    const credit = this.#config.initialCredit ?? DEFAULT_INITIAL_CREDIT;
    this.#conn = new Connection(++this.#connections, this.#now, hello, credit);
    this.#state = 'AWAIT_WELCOME';
    this.#send(helloFrame(hello));
  }

  #onFrame(c: Connection, data: FrameData): void {
    c.lastReceivedAt = this.#now;
    c.receivedBytes += typeof data === 'string' ? data.length : data.byteLength;
    const m = decodeServerFrameFast(data, c.frameLimit ?? MIN_MAX_FRAME_BYTES).message;
    if (m.case === undefined) return; // A case from a later version (§2.2).
    if (m.case === 'error') {
      // §3.3: a server answers Hello with a Welcome or a fatal Error, never a non-fatal one.
      if (this.#state === 'AWAIT_WELCOME' && !m.value.fatal)
        throw violation('a non-fatal Error before Welcome');
      this.#onServerError(m.value);
      return;
    }
    if (this.#state === 'AWAIT_WELCOME') {
      if (m.case !== 'welcome') throw violation(`${m.case} before Welcome`);
      this.#onWelcome(c, m.value);
      return;
    }
    switch (m.case) {
      case 'welcome':
        throw violation('a second Welcome');
      case 'ping': {
        this.#send(pongFrame(m.value.nonce));
        return;
      }
      case 'pong':
      case 'mutationResults':
        return; // Liveness only; mutations are not sent yet.
      default:
        c.credit.receive();
        if (c.reader!.data(m) === 'caught-up' && m.case === 'progress') {
          if (m.value.lsn > this.#caughtUpLsn) this.#caughtUpLsn = m.value.lsn;
          if (this.#state === 'CATCHING_UP') this.#state = 'LIVE';
        }
    }
  }

  #onWelcome(c: Connection, w: Parameters<typeof checkWelcome>[0]): void {
    checkWelcome(w, c.hello);
    c.welcomed(w, this.#now, {
      queue: (work, frames) => this.#queue.push({ work, frames, connection: c.id }),
      consumed: (frames) => this.#consumed(c, frames),
    });
    this.#state =
      w.mode === SyncMode.INITIAL ? 'SNAPSHOT' : w.mode === SyncMode.CATCH_UP ? 'CATCHING_UP' : 'LIVE';
  }

  #onServerError(e: ErrorMessage): void {
    if (!e.fatal) {
      this.#emit({ type: 'log', level: 'warn', message: `server error ${e.code}: ${e.message}` });
      return;
    }
    const code = e.code in ErrorCode && e.code !== ErrorCode.UNSPECIFIED ? e.code : ErrorCode.INTERNAL;
    this.#emit({ type: 'close', code: CLOSE_NORMAL, reason: 'server error' });
    const error = new SyncError(code, e.message, e.retryAfterMs > 0 ? { retryAfterMs: e.retryAfterMs } : {});
    this.#leave(actionForError(code, e.retryAfterMs), error);
  }

  #onTick(): void {
    const c = this.#conn;
    if (this.#state === 'AWAIT_WELCOME' && this.#now >= c!.helloAt + WELCOME_TIMEOUT_MS) {
      throw new SyncError(ErrorCode.HEARTBEAT_TIMEOUT, `no Welcome within ${WELCOME_TIMEOUT_MS} ms`);
    }
    if (STREAMING.has(this.#state)) {
      const due = heartbeatDue(c!, this.#now);
      if (due === 'peer-silent') throw new SyncError(ErrorCode.HEARTBEAT_TIMEOUT, 'no frame for 3 intervals');
      if (due === 'ping') this.#send(pingFrame(++c!.pingNonce));
    }
    if (this.#state === 'BACKOFF' && this.#now >= this.#reconnectAt) this.#toConnecting();
  }

  #onApplied(done: InFlightWork | undefined): void {
    if (done === undefined) return;
    const w = done.work;
    if (done.connection > this.#forgottenUpTo) {
      if (w.kind === 'transactions') this.#setResume(w.lsn, this.#resume.snapshot);
      else if (w.kind === 'snapshot-begin') this.#setResume(this.#resume.appliedLsn, undefined);
      else if (w.kind === 'snapshot-chunks') {
        const before = this.#resume.snapshot;
        const staged = before?.snapshotId === w.snapshotId ? (before.stagedRows ?? 0) : 0;
        const rows = w.chunks.reduce((n, chunk) => n + chunk.rows.length, 0);
        this.#setResume(this.#resume.appliedLsn, {
          snapshotId: w.snapshotId,
          cursor: w.cursor,
          stagedRows: staged + rows,
        });
      } else if (w.kind === 'snapshot-commit') this.#setResume(w.lsn, undefined);
    }
    const c = this.#conn;
    if (c === undefined || c.id !== done.connection || !STREAMING.has(this.#state)) return;
    if (w.kind === 'snapshot-commit' && this.#state === 'SNAPSHOT') this.#state = 'LIVE';
    if ((w.kind === 'transactions' || w.kind === 'snapshot-commit') && this.#state !== 'SNAPSHOT') {
      if (w.lsn > c.lastAck) {
        c.lastAck = w.lsn;
        this.#send(ackFrame(w.lsn));
      }
    }
    this.#consumed(c, done.frames);
  }

  #onApplyFailed(failed: InFlightWork | undefined, error: SyncError): void {
    if (failed === undefined) return;
    // A snapshot that cannot be committed (e.g. row counts differ, §6.4) starts over without snapshot_resume.
    if (failed.work.kind === 'snapshot-commit') this.#setResume(this.#resume.appliedLsn, undefined);
    const c = this.#conn;
    if (c === undefined || c.id !== failed.connection || !CONNECTED.has(this.#state)) {
      this.#emit({ type: 'log', level: 'warn', message: `local apply failed: ${error.message}` });
      return;
    }
    throw new SyncError(ErrorCode.INTERNAL, `local apply failed: ${error.message}`, { cause: error });
  }

  #setResume(appliedLsn: Lsn, snapshot: ResumeState['snapshot']): void {
    const { lastSentMutationId } = this.#resume;
    this.#resume = {
      appliedLsn,
      ...(snapshot === undefined ? {} : { snapshot }),
      ...(lastSentMutationId === undefined ? {} : { lastSentMutationId }),
    };
  }

  #consumed(c: Connection, frames: number): void {
    if (c !== this.#conn || !STREAMING.has(this.#state)) return;
    const grant = c.credit.consume(frames);
    if (grant !== undefined) this.#send(creditFrame(grant));
  }

  /** A fatal error detected by the client: Error frame, close 4000 + code, backoff (§9.1). */
  #fail(error: SyncError): void {
    if (!CONNECTED.has(this.#state)) {
      this.#emit({ type: 'log', level: 'warn', message: error.message });
      return;
    }
    const code = error.code === ErrorCode.UNSPECIFIED ? ErrorCode.INTERNAL : error.code;
    this.#send(fatalErrorFrame(code, error.rawMessage));
    this.#emit({ type: 'close', code: closeCodeForError(code), reason: closeReason(code) });
    this.#leave(BACKOFF, error);
  }

  /** The connection is over: stop, or wait for the reconnect (§9). */
  #leave(action: ReconnectAction, error: SyncError): void {
    const c = this.#conn;
    if (c?.welcomeAt !== undefined && this.#now - c.welcomeAt >= BACKOFF_RESET_AFTER_MS) this.#attempt = 0;
    this.#dropConnection();
    this.#lastError = error;
    // A fixed token that the server refused can only be refused again (§4.3: never resend it).
    if (action.kind === 'stop' || (action.freshToken === true && this.#config.fixedToken === true)) {
      this.#state = 'FAILED';
      return;
    }
    if (action.refetch === true) {
      this.#forgottenUpTo = this.#connections;
      this.#setResume(0n, undefined);
    }
    if (action.freshToken === true) {
      this.#freshToken = true;
      // §4.3: the token of this connection's Hello is never sent again.
      if (c !== undefined) this.#refusal = { token: c.hello.token, error, warned: false };
    }
    // §9.2, §9.4: every attempt counts, at once or not; "at once" is no delay for the first one only.
    const delay = reconnectDelay(action, this.#attempt, this.#random, this.#config.maxBackoffMs);
    this.#reconnectAt = this.#now + delay;
    this.#notBefore = this.#now + (action.minMs ?? 0);
    this.#attempt++;
    this.#state = 'BACKOFF';
  }

  #dropConnection(): void {
    this.#conn = undefined;
    this.#attempting = undefined;
    this.#queue.clearPending();
  }

  /** Hands out the next work, and starts an attempt once no work is in flight (resume_lsn must be committed). */
  #pump(): void {
    const next = this.#queue.take();
    if (next !== undefined) this.#emit({ type: 'apply', id: next.id, work: next.work });
    if (this.#state === 'CONNECTING' && this.#attempting === 'apply-idle' && !this.#queue.busy) {
      this.#attempting = 'token';
      this.#emit({ type: 'get-token', fresh: this.#freshToken });
    }
  }

  #send(message: ClientMessage): void {
    this.#emit({ type: 'send', bytes: encodeClientFrame(message), message });
    if (this.#conn !== undefined) this.#conn.lastSentAt = this.#now;
  }

  #updateTimer(): void {
    let at: number | undefined;
    const c = this.#conn;
    if (this.#state === 'AWAIT_WELCOME') at = c!.helloAt + WELCOME_TIMEOUT_MS;
    else if (STREAMING.has(this.#state)) at = heartbeatDeadline(c!);
    else if (this.#state === 'BACKOFF') at = this.#reconnectAt;
    if (at === this.#timerAt) return;
    this.#timerAt = at;
    this.#emit({ type: 'set-timer', at });
  }

  /** Snapshot progress: from SnapshotBegin on, rows committed to staging (counting on after a resume, §6.5). */
  #snapshotProgress(): ClientStatus['snapshot'] {
    const c = this.#state === 'SNAPSHOT' ? this.#conn : undefined;
    const begun = c?.reader?.begun;
    if (c === undefined || begun === undefined) return undefined;
    const committed = this.#resume.snapshot;
    return {
      stagedRows: committed?.snapshotId === begun.snapshotId ? (committed.stagedRows ?? 0) : 0,
      ...(begun.estimatedRows === 0n ? {} : { estimatedRows: begun.estimatedRows }),
      receivedBytes: c.receivedBytes,
      resumed: begun.resumed,
    };
  }

  #emitStatus(): void {
    const snapshot = this.#snapshotProgress();
    const status: ClientStatus = {
      state: this.#state,
      appliedLsn: this.#resume.appliedLsn,
      caughtUpLsn: this.#caughtUpLsn,
      ...(snapshot === undefined ? {} : { snapshot }),
      ...(this.#lastError === undefined ? {} : { error: this.#lastError }),
    };
    const last = this.#lastStatus;
    // Bytes alone do not make a new status (they change with every frame).
    if (
      last !== undefined &&
      last.state === status.state &&
      last.appliedLsn === status.appliedLsn &&
      last.caughtUpLsn === status.caughtUpLsn &&
      last.error === status.error &&
      (last.snapshot === undefined) === (snapshot === undefined) &&
      last.snapshot?.stagedRows === snapshot?.stagedRows
    ) {
      return;
    }
    this.#lastStatus = status;
    this.#emit({ type: 'status', status });
  }

  #emit(effect: ClientEffect): void {
    this.#effects.push(effect);
  }
}
