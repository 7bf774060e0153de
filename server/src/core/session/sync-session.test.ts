import { create } from '@bufbuild/protobuf';
import { ErrorCode, ErrorSchema, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { CLIENT_ID, Driver, emptyWorld, hello, T0 } from './testing/fake-shell.ts';

function started(world = emptyWorld(), config = {}) {
  const d = new Driver(world, config);
  d.handle({ type: 'open' });
  return d;
}

describe('sync session: handshake', () => {
  it('answers a valid Hello with Welcome after verifying the token and loading the client', () => {
    const d = started();
    d.send(hello({ resumeLsn: 100n }));
    const welcome = d.framesOf('welcome')[0]!;
    expect(welcome).toMatchObject({
      protocolVersion: 1,
      mode: SyncMode.LIVE,
      clientId: CLIENT_ID,
      userId: 'user_42',
      serverLsn: 100n,
      heartbeatIntervalMs: 15_000,
      maxFrameBytes: 4 * 1024 * 1024,
      maxRowsPerChunk: 1000,
      serverTimeMs: BigInt(T0),
    });
    expect(d.session.state).toBe('LIVE');
    expect(d.world.records.get(CLIENT_ID)).toEqual({ userId: 'user_42', ackedLsn: 0n, lastMutationId: 0n });
    const shell = d.effects.map((e) => e.type).filter((t) => t !== 'set-timer' && t !== 'send');
    expect(shell.slice(0, 3)).toEqual(['verify-token', 'load-client', 'bind-client']);
  });

  it.each([
    ['no versions', hello({ protocolVersions: [] }), ErrorCode.MALFORMED_FRAME],
    ['17 versions', hello({ protocolVersions: Array(17).fill(1) }), ErrorCode.MALFORMED_FRAME],
    ['no common version', hello({ protocolVersions: [2, 3] }), ErrorCode.UNSUPPORTED_VERSION],
    ['bad client id', hello({ clientId: 'a b' }), ErrorCode.MALFORMED_FRAME],
    ['another routed id', hello({ clientId: 'other' }), ErrorCode.PROTOCOL_VIOLATION],
    ['long token', hello({ authToken: `ok:${'x'.repeat(9000)}` }), ErrorCode.MALFORMED_FRAME],
    ['too much credit', hello({ initialCredit: 65_536 }), ErrorCode.MALFORMED_FRAME],
    ['small frames', hello({ maxFrameBytes: 1000 }), ErrorCode.MALFORMED_FRAME],
    [
      'resume with lsn',
      hello({ resumeLsn: 5n, snapshotResume: { snapshotId: 's', cursor: new Uint8Array() } }),
      ErrorCode.MALFORMED_FRAME,
    ],
    ['no token', hello({ authToken: '' }), ErrorCode.UNAUTHENTICATED],
    ['bad token', hello({ authToken: 'nope' }), ErrorCode.UNAUTHENTICATED],
    ['schema', hello({ schemaVersion: 'v9' }), ErrorCode.SCHEMA_MISMATCH],
    ['below the floor', hello({ resumeLsn: 5n }), ErrorCode.MUST_REFETCH],
    ['beyond the head', hello({ resumeLsn: 101n }), ErrorCode.MUST_REFETCH],
  ])('refuses a Hello with %s', (_name, message, code) => {
    const world = emptyWorld();
    world.floor = 10n;
    const d = started(world);
    d.send(message);
    const errors = d.framesOf('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code, fatal: true });
    expect(d.sent).toHaveLength(1);
    expect(d.closes).toEqual([{ code: 4000 + code, reason: `ERROR_CODE_${ErrorCode[code]}` }]);
    expect(d.session.state).toBe('CLOSED');
    if (code === ErrorCode.UNSUPPORTED_VERSION) expect(errors[0]!.supportedProtocolVersions).toEqual([1]);
  });

  it('refuses a client id bound to another user', () => {
    const world = emptyWorld();
    world.records.set(CLIENT_ID, { userId: 'someone', ackedLsn: 0n, lastMutationId: 7n });
    const d = started(world);
    d.send(hello({ resumeLsn: 100n }));
    expect(d.closes).toEqual([{ code: 4002, reason: 'ERROR_CODE_PERMISSION_DENIED' }]);
  });

  it('closes after 10 s without Hello, and after 3 silent heartbeat intervals', () => {
    const a = started();
    expect(a.timerAt).toBe(T0 + 10_000);
    a.advance(9_999);
    expect(a.closes).toEqual([]);
    a.advance(1);
    expect(a.closes).toEqual([{ code: 4013, reason: 'ERROR_CODE_HEARTBEAT_TIMEOUT' }]);

    const b = started(emptyWorld(), { heartbeatIntervalMs: 1_000 });
    b.send(hello({ resumeLsn: 100n }));
    b.advance(1_000);
    expect(b.framesOf('ping').map((p) => p.nonce)).toEqual([1n]);
    b.advance(1_000);
    b.send({ case: 'pong', value: { $typeName: 'vibestack.sync.v1.Pong', nonce: 1n } });
    b.advance(2_999);
    expect(b.closes).toEqual([]);
    b.advance(1);
    expect(b.closes).toEqual([{ code: 4013, reason: 'ERROR_CODE_HEARTBEAT_TIMEOUT' }]);
  });

  it('closes with UNAUTHENTICATED when the token expires', () => {
    const d = started();
    d.send(hello({ resumeLsn: 100n, authToken: `ok:user_42:${T0 / 1000 + 60}` }));
    for (let i = 0; i < 7; i++) {
      d.advance(14_000);
      d.send({ case: 'ping', value: { $typeName: 'vibestack.sync.v1.Ping', nonce: BigInt(i) } });
    }
    expect(d.closes).toEqual([{ code: 4001, reason: 'ERROR_CODE_UNAUTHENTICATED' }]);
  });
});

describe('sync session: logs', () => {
  const clientError = (message: string, fatal = false) => ({
    case: 'error' as const,
    value: create(ErrorSchema, { code: ErrorCode.INTERNAL, message, fatal }),
  });
  const logs = (d: Driver) => d.effects.flatMap((e) => (e.type === 'log' ? [e.message] : []));

  it('logs client Error messages escaped, cut to 1 KiB and rate-limited per connection', () => {
    const d = started();
    d.send(hello({ resumeLsn: 100n }));
    const forged = '\n[sync victim] token accepted\u001b[2K\u001b[1G';
    const huge = 'x'.repeat(3 * 1024 * 1024);
    for (let i = 0; i < 200; i++) d.send(clientError(`${forged}${i < 10 ? huge : 'x'.repeat(2_000)}`));
    let lines = logs(d);
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line.includes('\n') || line.includes('\u001b')).toBe(false);
      expect(line.startsWith('client error 12: \\n[sync victim] token accepted\\u001b[2K')).toBe(true);
      expect(new TextEncoder().encode(line).length).toBeLessThan(1_200);
    }
    // Later lines say how many were held back; the connection stays open (non-fatal errors are legal).
    d.advance(10_000);
    d.send(clientError('again'));
    lines = logs(d);
    expect(lines.at(-1)).toBe('client error 12: again (195 more client errors not logged)');
    expect(d.closes).toEqual([]);
    expect(d.session.state).toBe('LIVE');
  });

  it('escapes a client fatal Error message too', () => {
    const d = started();
    d.send(hello({ resumeLsn: 100n }));
    d.send(clientError('bye\nforged line', true));
    expect(logs(d)).toEqual(["client's fatal error 12: bye\\nforged line"]);
  });
});
