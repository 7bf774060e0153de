/**
 * The exhaustive transition table of SPEC.md: every state × every event. The table's type has no `Partial`, so a
 * state or an event added without its row is a compile error. CONNECTING has two rows: waiting for the token
 * (`get-token` emitted) and for the socket (`connect` emitted).
 */

import { ErrorCode, SyncError, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { ClientState } from './client-types.ts';
import {
  Driver,
  insertTx,
  itemRow,
  msg,
  progress,
  relationFrame,
  serverError,
  snapshotBegin,
  snapshotChunk,
  snapshotEnd,
  T0,
  traceOf,
  welcome,
} from './testing/server-frames.ts';

const EVENTS = [
  'start',
  'stop',
  'token',
  'token-failed',
  'socket-open',
  'socket-open-other-protocol',
  'connect-failed-403',
  'connect-failed-503',
  'connect-failed-no-token',
  'socket-closed',
  'welcome-initial',
  'welcome-catch-up',
  'welcome-live',
  'welcome-bad',
  'relation',
  'snapshot-begin',
  'snapshot-chunk',
  'transaction',
  'snapshot-end',
  'progress',
  'progress-caught-up',
  'ping',
  'pong',
  'error-fatal',
  'error-nonfatal',
  'no-case',
  'text-frame',
  'garbage-frame',
  'oversize-frame',
  'tick-3-silent-intervals',
  'tick-1-interval',
  'tick-welcome-timeout',
  'tick-backoff-elapsed',
  'apply-done',
  'apply-failed',
  'network-online',
] as const;
type EventKind = (typeof EVENTS)[number];
/** The table's rows: the client states, with CONNECTING split by what the attempt waits for. */
type Row = Exclude<ClientState, 'CONNECTING'> | 'CONNECTING (token)' | 'CONNECTING (socket)';

/** The next state and the trace (frames sent, closes, connects, applies; see `traceOf`). */
interface Expected {
  readonly to: ClientState;
  readonly trace?: readonly string[];
}

const stay = (to: ClientState, trace: readonly string[] = []): Expected => ({ to, trace });
const fatal = (code: ErrorCode): Expected => ({
  to: 'BACKOFF',
  trace: [`send:error:${ErrorCode[code]}`, `close:${4000 + code}`],
});
const V = fatal(ErrorCode.PROTOCOL_VIOLATION);
const MALFORMED = fatal(ErrorCode.MALFORMED_FRAME);
const CONNECT = stay('CONNECTING', ['get-token']);

/** A state without a socket: only the listed events do something. */
function offline(
  s: ClientState,
  overrides: Partial<Record<EventKind, Expected>>,
): Record<EventKind, Expected> {
  const row = Object.fromEntries(EVENTS.map((e) => [e, stay(s)])) as Record<EventKind, Expected>;
  return { ...row, ...overrides };
}

/** SNAPSHOT, CATCHING_UP and LIVE; `data` are the cells that differ. */
function streaming(s: 'SNAPSHOT' | 'CATCHING_UP' | 'LIVE', data: Partial<Record<EventKind, Expected>>) {
  const row: Record<EventKind, Expected> = {
    start: stay(s),
    stop: stay('STOPPED', ['close:1000']),
    token: stay(s),
    'token-failed': stay(s),
    'socket-open': stay(s),
    'socket-open-other-protocol': stay(s),
    'connect-failed-403': stay(s),
    'connect-failed-503': stay(s),
    'connect-failed-no-token': stay(s),
    'socket-closed': stay('BACKOFF'),
    'welcome-initial': V,
    'welcome-catch-up': V,
    'welcome-live': V,
    'welcome-bad': V,
    relation: stay(s),
    'snapshot-begin': V,
    'snapshot-chunk': V,
    transaction: stay(s),
    'snapshot-end': V,
    progress: stay(s),
    'progress-caught-up': stay('LIVE'),
    ping: stay(s, ['send:pong']),
    pong: stay(s),
    'error-fatal': stay('BACKOFF', ['close:1000']),
    'error-nonfatal': stay(s),
    'no-case': stay(s),
    'text-frame': MALFORMED,
    'garbage-frame': MALFORMED,
    'oversize-frame': fatal(ErrorCode.FRAME_TOO_LARGE),
    'tick-3-silent-intervals': fatal(ErrorCode.HEARTBEAT_TIMEOUT),
    'tick-1-interval': stay(s, ['send:ping']),
    'tick-welcome-timeout': stay(s, ['send:ping']),
    'tick-backoff-elapsed': fatal(ErrorCode.HEARTBEAT_TIMEOUT),
    'apply-done': stay(s, ['send:ack']),
    'apply-failed': fatal(ErrorCode.INTERNAL),
    'network-online': stay(s),
  };
  return { ...row, ...data };
}

const CONNECT_FAILED: Partial<Record<EventKind, Expected>> = {
  stop: stay('STOPPED', ['close:1000']),
  'connect-failed-403': stay('FAILED'),
  'connect-failed-503': stay('BACKOFF'),
  'connect-failed-no-token': stay('FAILED'),
  'socket-closed': stay('BACKOFF'),
};

const TABLE: Record<Row, Record<EventKind, Expected>> = {
  IDLE: offline('IDLE', { start: CONNECT, stop: stay('STOPPED') }),
  // A token refused by the server comes back: see client-session.token.test.ts.
  'CONNECTING (token)': offline('CONNECTING', {
    ...CONNECT_FAILED,
    token: stay('CONNECTING', ['connect']),
    'token-failed': stay('BACKOFF'),
  }),
  'CONNECTING (socket)': offline('CONNECTING', {
    ...CONNECT_FAILED,
    'socket-open': stay('AWAIT_WELCOME', ['send:hello']),
    // §2.1, §9.3: nothing sent; like a failed upgrade (browsers and `ws` fail it themselves): backoff.
    'socket-open-other-protocol': stay('BACKOFF', ['close:1002']),
  }),
  AWAIT_WELCOME: {
    ...streaming('SNAPSHOT', {}),
    ...Object.fromEntries(EVENTS.map((e) => [e, V])),
    start: stay('AWAIT_WELCOME'),
    stop: stay('STOPPED', ['close:1000']),
    token: stay('AWAIT_WELCOME'),
    'token-failed': stay('AWAIT_WELCOME'),
    'socket-open': stay('AWAIT_WELCOME'),
    'socket-open-other-protocol': stay('AWAIT_WELCOME'),
    'connect-failed-403': stay('AWAIT_WELCOME'),
    'connect-failed-503': stay('AWAIT_WELCOME'),
    'connect-failed-no-token': stay('AWAIT_WELCOME'),
    'socket-closed': stay('BACKOFF'),
    'welcome-initial': stay('SNAPSHOT'),
    'welcome-catch-up': stay('CATCHING_UP'),
    'welcome-live': stay('LIVE'),
    'welcome-bad': MALFORMED,
    'error-fatal': stay('BACKOFF', ['close:1000']),
    // §3.3: a server never sends a non-fatal Error before Welcome.
    'error-nonfatal': V,
    'no-case': stay('AWAIT_WELCOME'),
    'text-frame': MALFORMED,
    'garbage-frame': MALFORMED,
    'oversize-frame': fatal(ErrorCode.FRAME_TOO_LARGE),
    'tick-3-silent-intervals': fatal(ErrorCode.HEARTBEAT_TIMEOUT),
    'tick-1-interval': stay('AWAIT_WELCOME'),
    'tick-welcome-timeout': fatal(ErrorCode.HEARTBEAT_TIMEOUT),
    'tick-backoff-elapsed': fatal(ErrorCode.HEARTBEAT_TIMEOUT),
    'apply-done': stay('AWAIT_WELCOME'),
    'apply-failed': stay('AWAIT_WELCOME'),
    'network-online': stay('AWAIT_WELCOME'),
  },
  // Entered after SnapshotBegin, with its apply in flight: chunks are expected now.
  SNAPSHOT: streaming('SNAPSHOT', {
    'snapshot-chunk': stay('SNAPSHOT'),
    transaction: V,
    progress: V,
    'progress-caught-up': V,
    'apply-done': stay('SNAPSHOT'),
  }),
  // Entered with the apply of a transaction in flight.
  CATCHING_UP: streaming('CATCHING_UP', {}),
  LIVE: streaming('LIVE', {}),
  BACKOFF: offline('BACKOFF', {
    start: CONNECT,
    stop: stay('STOPPED'),
    'tick-3-silent-intervals': CONNECT,
    'tick-1-interval': CONNECT,
    'tick-welcome-timeout': CONNECT,
    'tick-backoff-elapsed': CONNECT,
    'network-online': CONNECT,
  }),
  FAILED: offline('FAILED', { start: CONNECT, stop: stay('STOPPED') }),
  STOPPED: offline('STOPPED', { start: CONNECT }),
};

/** A driver in the given state (see the comments in TABLE for what is in flight). */
function enter(state: Row): Driver {
  const d = new Driver(state === 'CATCHING_UP' || state === 'LIVE' ? { resume: { appliedLsn: 100n } } : {});
  if (state !== 'IDLE' && state !== 'STOPPED') d.handle({ type: 'start' });
  if (state === 'STOPPED') d.handle({ type: 'stop' });
  if (state === 'FAILED') d.handle({ type: 'connect-failed', httpStatus: 403 });
  if (state === 'CONNECTING (socket)') d.handle({ type: 'token', token: 't' });
  if (['AWAIT_WELCOME', 'SNAPSHOT', 'CATCHING_UP', 'LIVE', 'BACKOFF'].includes(state)) d.open('t');
  if (state === 'BACKOFF') d.handle({ type: 'socket-closed', code: 1006, reason: '' });
  if (state === 'SNAPSHOT') {
    d.server(welcome(SyncMode.INITIAL));
    d.server(relationFrame());
    d.server(snapshotBegin('s1', [1]));
  }
  if (state === 'CATCHING_UP' || state === 'LIVE') {
    d.server(welcome(state === 'LIVE' ? SyncMode.LIVE : SyncMode.CATCH_UP));
    d.server(relationFrame());
    d.server(insertTx(150n, 1n));
  }
  expect(d.session.state).toBe(state.startsWith('CONNECTING') ? 'CONNECTING' : state);
  return d;
}

function fire(d: Driver, event: EventKind): void {
  const at = (ms: number) => {
    d.now = T0 + ms;
    d.handle({ type: 'tick' });
  };
  switch (event) {
    case 'start':
    case 'stop':
    case 'network-online':
      return void d.handle({ type: event });
    case 'token':
      return void d.handle({ type: 'token', token: 't2' });
    case 'token-failed':
      return void d.handle({ type: 'token-failed', reason: 'offline' });
    case 'socket-open':
      return void d.handle({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
    case 'socket-open-other-protocol':
      return void d.handle({ type: 'socket-open', subprotocol: '' });
    case 'connect-failed-403':
      return void d.handle({ type: 'connect-failed', httpStatus: 403 });
    case 'connect-failed-503':
      return void d.handle({ type: 'connect-failed', httpStatus: 503 });
    case 'connect-failed-no-token':
      return void d.handle({
        type: 'connect-failed',
        error: new SyncError(ErrorCode.UNAUTHENTICATED, 'none'),
      });
    case 'socket-closed':
      return void d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    case 'welcome-initial':
      return void d.server(welcome(SyncMode.INITIAL));
    case 'welcome-catch-up':
      return void d.server(welcome(SyncMode.CATCH_UP));
    case 'welcome-live':
      return void d.server(welcome(SyncMode.LIVE));
    case 'welcome-bad':
      return void d.server(welcome(SyncMode.UNSPECIFIED));
    case 'relation':
      return void d.server(relationFrame());
    case 'snapshot-begin':
      return void d.server(snapshotBegin('s2', [1]));
    case 'snapshot-chunk':
      return void d.server(snapshotChunk(1, [itemRow(1n)], true));
    case 'transaction':
      return void d.server(insertTx(200n, 2n));
    case 'snapshot-end':
      return void d.server(snapshotEnd(100n));
    case 'progress':
      return void d.server(progress(200n));
    case 'progress-caught-up':
      return void d.server(progress(200n, true));
    case 'ping':
      return void d.server(msg({ case: 'ping', value: { nonce: 7n } }));
    case 'pong':
      return void d.server(msg({ case: 'pong', value: { nonce: 7n } }));
    case 'error-fatal':
      return void d.server(serverError(ErrorCode.INTERNAL, true));
    case 'error-nonfatal':
      return void d.server(serverError(ErrorCode.INTERNAL, false));
    case 'no-case':
      return void d.server(msg({ case: undefined }));
    case 'text-frame':
      return void d.handle({ type: 'frame', data: 'hello' });
    case 'garbage-frame':
      return void d.handle({ type: 'frame', data: new Uint8Array([0xff, 0xff, 0xff]) });
    case 'oversize-frame':
      return void d.handle({ type: 'frame', data: new Uint8Array(65_537) });
    case 'tick-3-silent-intervals':
      at(45_000);
      return;
    case 'tick-1-interval':
      at(15_000);
      return;
    case 'tick-welcome-timeout':
      at(30_000);
      return;
    case 'tick-backoff-elapsed':
      at(60_000);
      return;
    case 'apply-done':
      return void d.handle({ type: 'apply-done', id: d.applies[0]?.id ?? 999 });
    case 'apply-failed':
      return void d.handle({
        type: 'apply-failed',
        id: d.applies[0]?.id ?? 999,
        error: new SyncError(ErrorCode.INTERNAL, 'disk full'),
      });
  }
}

describe('client session transition table (SPEC.md)', () => {
  for (const [state, row] of Object.entries(TABLE) as [Row, Record<EventKind, Expected>][]) {
    describe(state, () => {
      it.each(EVENTS)('%s', (event) => {
        const expected = row[event];
        const d = enter(state);
        const before = d.effects.length;
        fire(d, event);
        expect(d.session.state).toBe(expected.to);
        expect(traceOf(d.effects.slice(before))).toEqual(expected.trace ?? []);
      });
    });
  }
});
