/**
 * The session's side of the handshake (docs/protocol.md §3.3, §4.6, §4.7): a Welcome is checked against the
 * Hello of its connection, a non-fatal Error before Welcome is a violation, and a client without a schema version
 * adopts the server's on every connection without keeping it.
 */

import { ErrorCode, type Hello, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { ClientStatus } from './client-types.ts';
import { Driver, serverError, traceOf, welcome } from './testing/server-frames.ts';

const last = (d: Driver): ClientStatus =>
  d.effects.flatMap((e) => (e.type === 'status' ? [e.status] : [])).at(-1)!;
const hellos = (d: Driver): Hello[] =>
  d.sent.flatMap((m) => (m.message.case === 'hello' ? [m.message.value as Hello] : []));
/** Waits out the backoff, and opens the next connection. */
function reconnect(d: Driver): void {
  d.now += 60_000;
  d.handle({ type: 'tick' });
  d.open();
}

describe('a Welcome that does not answer the Hello (§4.7)', () => {
  const malformed = (d: Driver, w: ReturnType<typeof welcome>) => {
    const trace = traceOf(d.server(w));
    expect(trace).toEqual(['send:error:MALFORMED_FRAME', 'close:4004']);
    return last(d).error?.rawMessage;
  };

  it('names another client id', () => {
    const d = new Driver();
    d.connect();
    expect(malformed(d, welcome(SyncMode.LIVE, { clientId: 'client-2' }))).toBe(
      'bad Welcome: client_id "client-2" is not the Hello\'s "client-1"',
    );
  });

  it('allows more bytes per frame than the Hello offered (0 offered = 4 MiB)', () => {
    const offered = new Driver({ maxFrameBytes: 65_536 });
    offered.connect();
    expect(malformed(offered, welcome(SyncMode.LIVE, { maxFrameBytes: 65_537 }))).toBe(
      'bad Welcome: max_frame_bytes 65537 is above the 65536 offered',
    );
    const byDefault = new Driver();
    byDefault.connect();
    expect(malformed(byDefault, welcome(SyncMode.LIVE, { maxFrameBytes: 4_194_305 }))).toBe(
      'bad Welcome: max_frame_bytes 4194305 is above the 4194304 offered',
    );
    const atDefault = new Driver();
    atDefault.connect();
    atDefault.server(welcome(SyncMode.LIVE, { maxFrameBytes: 4_194_304 }));
    expect(last(atDefault).state).toBe('LIVE');
  });
});

describe('a non-fatal Error (§3.3, §9.1)', () => {
  it('is a violation before Welcome', () => {
    const d = new Driver();
    d.connect();
    expect(traceOf(d.server(serverError(ErrorCode.INTERNAL, false)))).toEqual([
      'send:error:PROTOCOL_VIOLATION',
      'close:4006',
    ]);
    expect(last(d)).toMatchObject({ state: 'BACKOFF', error: { code: ErrorCode.PROTOCOL_VIOLATION } });
    expect(last(d).error?.rawMessage).toBe('a non-fatal Error before Welcome');
  });

  it('is only logged after Welcome', () => {
    const d = new Driver();
    d.connect();
    d.server(welcome(SyncMode.LIVE));
    const effects = d.server(serverError(ErrorCode.INTERNAL, false));
    expect(traceOf(effects)).toEqual([]);
    expect(effects).toContainEqual({ type: 'log', level: 'warn', message: 'server error 12: test' });
    expect(d.session.state).toBe('LIVE');
  });
});

describe('the schema version (§4.6)', () => {
  it('is empty in every Hello of a client configured without one, whatever the server said', () => {
    const d = new Driver();
    d.connect();
    d.server(welcome(SyncMode.INITIAL, { schemaVersion: 'server-v7' }));
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    reconnect(d);
    d.server(welcome(SyncMode.INITIAL, { schemaVersion: 'server-v8' }));
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    reconnect(d);
    expect(hellos(d).map((h) => h.schemaVersion)).toEqual(['', '', '']);
    // Nothing to persist carries it: the resume state and the works have no schema version.
    expect(JSON.stringify(d.session.resume, (_, v) => (typeof v === 'bigint' ? `${v}` : v))).not.toMatch(
      /server-v/,
    );
  });

  it('is the configured one in every Hello, whatever the server said', () => {
    const d = new Driver({ schemaVersion: 'app-1' });
    d.connect();
    d.server(welcome(SyncMode.INITIAL, { schemaVersion: 'server-v7' }));
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    reconnect(d);
    expect(hellos(d).map((h) => h.schemaVersion)).toEqual(['app-1', 'app-1']);
  });
});
