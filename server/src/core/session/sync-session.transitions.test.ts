/**
 * The exhaustive transition table of SPEC.md: every state × every event. The table's type has no `Partial`,
 * so a state or event added without its row is a compile error.
 */

import { create } from '@bufbuild/protobuf';
import { ErrorCode, ErrorSchema, MAX_HELLO_FRAME_BYTES, SyncError } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { SessionState } from './session-types.ts';
import { Driver, emptyWorld, hello, T0 } from './testing/fake-shell.ts';

const EVENTS = [
  'hello',
  'ack',
  'credit',
  'ping',
  'pong',
  'mutations',
  'error-fatal',
  'error-nonfatal',
  'no-case',
  'text-frame',
  'oversize-frame',
  'garbage-frame',
  'hello-timeout',
  'heartbeat-timeout',
  'token-verified',
  'token-rejected',
  'client-loaded',
  'replaced',
  'shutdown',
  'socket-closed',
] as const;
type EventKind = (typeof EVENTS)[number];

/** What an event does: the next state, the frames sent, and the close (a fatal error implies both). */
interface Expected {
  readonly to: SessionState;
  readonly sends?: readonly string[];
  readonly error?: ErrorCode;
  readonly close?: number;
}

const fail = (error: ErrorCode): Expected => ({ to: 'CLOSED', error });
const V = fail(ErrorCode.PROTOCOL_VIOLATION);
const MALFORMED = fail(ErrorCode.MALFORMED_FRAME);
const stay = (to: SessionState, sends: readonly string[] = []): Expected => ({ to, sends });
const CLIENT_FATAL: Expected = { to: 'CLOSED', sends: [], close: 1000 };
const CLOSED = stay('CLOSED');

function streaming(s: 'SNAPSHOT' | 'CATCHING_UP' | 'LIVE'): Record<EventKind, Expected> {
  return {
    hello: V,
    ack: s === 'SNAPSHOT' ? V : stay(s),
    credit: stay(s),
    ping: stay(s, ['pong']),
    pong: stay(s),
    mutations: stay(s, ['mutationResults']),
    'error-fatal': CLIENT_FATAL,
    'error-nonfatal': stay(s),
    'no-case': stay(s),
    'text-frame': MALFORMED,
    'oversize-frame': fail(ErrorCode.FRAME_TOO_LARGE),
    'garbage-frame': MALFORMED,
    'hello-timeout': stay(s),
    'heartbeat-timeout': fail(ErrorCode.HEARTBEAT_TIMEOUT),
    'token-verified': stay(s),
    'token-rejected': stay(s),
    'client-loaded': stay(s),
    replaced: fail(ErrorCode.REPLACED),
    shutdown: fail(ErrorCode.UNAVAILABLE),
    'socket-closed': stay('CLOSED'),
  };
}

const TABLE: Record<SessionState, Record<EventKind, Expected>> = {
  AWAIT_HELLO: {
    // With the shell answering at once: HANDSHAKE (verify-token, load-client), then Welcome.
    hello: stay('LIVE', ['welcome']),
    ack: V,
    credit: V,
    ping: V,
    pong: V,
    mutations: V,
    'error-fatal': CLIENT_FATAL,
    'error-nonfatal': V,
    'no-case': V,
    'text-frame': MALFORMED,
    'oversize-frame': fail(ErrorCode.FRAME_TOO_LARGE),
    'garbage-frame': MALFORMED,
    'hello-timeout': fail(ErrorCode.HEARTBEAT_TIMEOUT),
    'heartbeat-timeout': fail(ErrorCode.HEARTBEAT_TIMEOUT),
    'token-verified': stay('AWAIT_HELLO'),
    'token-rejected': stay('AWAIT_HELLO'),
    'client-loaded': stay('AWAIT_HELLO'),
    replaced: fail(ErrorCode.REPLACED),
    shutdown: fail(ErrorCode.UNAVAILABLE),
    'socket-closed': stay('CLOSED'),
  },
  HANDSHAKE: {
    hello: V,
    ack: V,
    credit: V,
    ping: V,
    pong: V,
    mutations: V,
    'error-fatal': CLIENT_FATAL,
    'error-nonfatal': V,
    'no-case': stay('HANDSHAKE'),
    'text-frame': MALFORMED,
    'oversize-frame': fail(ErrorCode.FRAME_TOO_LARGE),
    'garbage-frame': MALFORMED,
    'hello-timeout': stay('HANDSHAKE'),
    'heartbeat-timeout': stay('HANDSHAKE'),
    'token-verified': stay('LIVE', ['welcome']),
    'token-rejected': fail(ErrorCode.UNAUTHENTICATED),
    'client-loaded': stay('HANDSHAKE'),
    replaced: fail(ErrorCode.REPLACED),
    shutdown: fail(ErrorCode.UNAVAILABLE),
    'socket-closed': stay('CLOSED'),
  },
  SNAPSHOT: streaming('SNAPSHOT'),
  CATCHING_UP: streaming('CATCHING_UP'),
  LIVE: streaming('LIVE'),
  CLOSED: Object.fromEntries(EVENTS.map((e) => [e, CLOSED])) as Record<EventKind, Expected>,
};

/** A driver in the given state, with the effects that would leave it held back. */
function enter(state: SessionState): Driver {
  const world = emptyWorld();
  world.floor = 10n;
  world.head = state === 'CATCHING_UP' ? 300n : 100n;
  const d = new Driver(world);
  d.handle({ type: 'open' });
  if (state === 'HANDSHAKE') d.hold.add('verify-token');
  if (state === 'SNAPSHOT') d.hold.add('start-snapshot');
  if (state === 'CATCHING_UP') d.hold.add('read-log');
  if (state === 'HANDSHAKE' || state === 'LIVE') d.send(hello({ resumeLsn: 100n }));
  if (state === 'SNAPSHOT') d.send(hello());
  if (state === 'CATCHING_UP') d.send(hello({ resumeLsn: 110n }));
  if (state === 'CLOSED') d.handle({ type: 'closed' });
  expect(d.session.state).toBe(state);
  return d;
}

const clientError = (fatal: boolean) =>
  ({
    case: 'error',
    value: create(ErrorSchema, { code: ErrorCode.INTERNAL, message: 'oops', fatal }),
  }) as const;

function fire(d: Driver, event: EventKind, state: SessionState): void {
  const lsn = state === 'CATCHING_UP' ? 110n : state === 'LIVE' ? 100n : 0n;
  switch (event) {
    case 'hello':
      return void d.send(hello({ resumeLsn: 100n }));
    case 'ack':
      return void d.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn } });
    case 'credit':
      return void d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: 1 } });
    case 'ping':
      return void d.send({ case: 'ping', value: { $typeName: 'vibestack.sync.v1.Ping', nonce: 9n } });
    case 'pong':
      return void d.send({ case: 'pong', value: { $typeName: 'vibestack.sync.v1.Pong', nonce: 9n } });
    case 'mutations': {
      const hlc = { $typeName: 'vibestack.sync.v1.Hlc' as const, physicalMs: 1n, logical: 0 };
      const m = {
        $typeName: 'vibestack.sync.v1.Mutation' as const,
        mutationId: 1n,
        schema: 'public',
        table: 'tasks',
        op: 1,
        primaryKey: [],
        values: [],
        hlc,
      };
      return void d.send({
        case: 'mutations',
        value: { $typeName: 'vibestack.sync.v1.MutationBatch', mutations: [m] },
      });
    }
    case 'error-fatal':
      return void d.send(clientError(true));
    case 'error-nonfatal':
      return void d.send(clientError(false));
    case 'no-case':
      return void d.send({ case: undefined });
    case 'text-frame':
      return void d.handle({ type: 'frame', data: 'hello' });
    case 'oversize-frame': {
      const limit =
        state === 'AWAIT_HELLO' || state === 'HANDSHAKE' ? MAX_HELLO_FRAME_BYTES : 4 * 1024 * 1024;
      return void d.handle({ type: 'frame', data: new Uint8Array(limit + 1) });
    }
    case 'garbage-frame':
      return void d.handle({ type: 'frame', data: new Uint8Array([0xff, 0xff, 0xff]) });
    case 'hello-timeout':
      d.now = T0 + 10_000;
      return void d.handle({ type: 'tick' });
    case 'heartbeat-timeout':
      d.now = T0 + 45_000;
      return void d.handle({ type: 'tick' });
    case 'token-verified':
      return void d.handle({ type: 'token-verified', claims: { sub: 'user_42' } });
    case 'token-rejected':
      return void d.handle({ type: 'token-rejected', error: new SyncError(ErrorCode.UNAUTHENTICATED, 'no') });
    case 'client-loaded':
      return void d.handle({ type: 'client-loaded', record: undefined, floor: 0n, head: 100n, catalog: [] });
    case 'replaced':
      return void d.handle({ type: 'replaced' });
    case 'shutdown':
      return void d.handle({ type: 'shutdown', retryAfterMs: 500 });
    case 'socket-closed':
      return void d.handle({ type: 'closed' });
  }
}

describe('sync session transition table (SPEC.md)', () => {
  for (const [state, row] of Object.entries(TABLE) as [SessionState, Record<EventKind, Expected>][]) {
    describe(state, () => {
      it.each(EVENTS)(`%s`, (event) => {
        const expected = row[event];
        const d = enter(state);
        const sentBefore = d.sent.length;
        const closesBefore = d.closes.length;
        fire(d, event, state);
        expect(d.session.state).toBe(expected.to);
        const sends = d.trace().slice(sentBefore);
        const closes = d.closes.slice(closesBefore).map((c) => c.code);
        if (expected.error !== undefined) {
          expect(sends).toEqual([`error:${ErrorCode[expected.error]}`]);
          expect(closes).toEqual([4000 + expected.error]);
        } else {
          expect(sends).toEqual(expected.sends ?? []);
          expect(closes).toEqual(expected.close === undefined ? [] : [expected.close]);
        }
      });
    });
  }
});
