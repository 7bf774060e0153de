import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  AckSchema,
  ClientMessageSchema,
  decodeServerFrame,
  ErrorCode,
  encodeClientFrame,
  HelloSchema,
  MAX_MAX_FRAME_BYTES,
  type ServerMessage,
  SYNC_SUBPROTOCOL,
} from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signJwtHs256 } from '../../../server/src/core/auth/index.ts';
import { fixturePointLsn } from '../fixture/fixture-feeder.ts';
import { readFixtureFile } from '../fixture/fixture-file.ts';
import { type Case, CaseSchema } from '../proto.ts';
import { BUILTIN_FIXTURES } from '../runner/suite-loader.ts';
import { type ReferenceServer, startReferenceServer } from './reference-server.ts';

// The reference server against a hand-driven WebSocket client: no client library involved.
const basic = readFixtureFile(join(BUILTIN_FIXTURES, 'basic.json'));
let server: ReferenceServer;
beforeAll(async () => {
  server = await startReferenceServer();
});
afterAll(() => server.close());

const testCase = (init: Parameters<typeof create<typeof CaseSchema>>[1]) =>
  create(CaseSchema, { name: 'c', fixture: 'basic', ...init }) as Case;

/**
 * A raw client: sends frames, collects the server's, resolves `closed` with the close code. It offers the
 * subprotocol unless `protocols` says otherwise.
 */
function rawClient(url: string, protocols: string[] = [SYNC_SUBPROTOCOL]) {
  const ws = new WebSocket(url, protocols);
  const received: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    received.push(decodeServerFrame(new Uint8Array(data), MAX_MAX_FRAME_BYTES));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  return {
    received,
    closed,
    opened,
    send: (message: Parameters<typeof create<typeof ClientMessageSchema>>[1]) =>
      ws.send(encodeClientFrame(create(ClientMessageSchema, message))),
    async until(predicate: () => boolean) {
      while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => ws.close(1000),
    /** The subprotocol the server selected ('' for none). */
    protocol: () => ws.protocol,
  };
}

const hello = (token: string, clientId: string, resumeLsn = 0n, schemaVersion = '') => ({
  message: {
    case: 'hello' as const,
    value: create(HelloSchema, {
      protocolVersions: [1],
      authToken: token,
      clientId,
      resumeLsn,
      schemaVersion,
    }),
  },
});

/** The sync URL of a registered case for `clientId`. */
const syncUrl = (c: { baseUrl: string }, clientId: string) =>
  `${c.baseUrl.replace('http', 'ws')}v1/sync?client_id=${clientId}`;

/** Opens a connection, sends a Hello, and waits until the server closed it; resolves with the close code. */
async function refusedHello(url: string, token: string, clientId: string): Promise<number> {
  const client = rawClient(url);
  await client.opened;
  client.send(hello(token, clientId));
  return client.closed;
}

/** A connection script refusing the Hello with `error` (and `retryAfterMs`). */
const refuse = (connection: number, error: ErrorCode, retryAfterMs = 0) => ({
  connection,
  actions: [{ afterFrame: 0, action: { case: 'close' as const, value: { error, retryAfterMs } } }],
});

describe('reference server', () => {
  it('serves an initial sync of the snapshot point through the session core, and records acks', async () => {
    const c = await server.register(
      basic,
      testCase({ server: { snapshotAt: { point: { case: 'commit', value: 2 } } } }),
    );
    const client = rawClient(`${c.baseUrl.replace('http', 'ws')}v1/sync?client_id=raw-1`);
    await client.opened;
    client.send(hello(c.token, 'raw-1'));
    await client.until(() => client.received.some((m) => m.message.case === 'snapshotEnd'));
    const kinds = client.received.map((m) => m.message.case);
    expect(kinds.slice(0, 5)).toEqual(['welcome', 'relation', 'relation', 'relation', 'snapshotBegin']);
    const end = client.received.find((m) => m.message.case === 'snapshotEnd')!.message.value as {
      lsn: bigint;
    };
    expect(end.lsn).toBe(fixturePointLsn(basic, 2));
    const rows = client.received.flatMap((m) =>
      m.message.case === 'snapshotChunk' ? m.message.value.rows : [],
    );
    expect(rows).toHaveLength(5);
    client.send({ message: { case: 'ack', value: create(AckSchema, { lsn: end.lsn }) } });
    await c.host.waitFor(() => c.host.connections[0]!.maxAck === end.lsn, 2000);
    expect(c.host.failures).toEqual([]);
    client.close();
    await client.closed;
    c.close();
  });

  it('records a resume point the server never sent and an Ack beyond what it sent as client mistakes', async () => {
    const c = await server.register(basic, testCase({}));
    const first = rawClient(`${c.baseUrl}v1/sync?client_id=raw-2`.replace('http', 'ws'));
    await first.opened;
    first.send(hello(c.token, 'raw-2'));
    await first.until(() => first.received.some((m) => m.message.case === 'snapshotEnd'));
    first.send({ message: { case: 'ack', value: create(AckSchema, { lsn: 99_999_999_999n }) } });
    expect(await first.closed).toBe(4006); // PROTOCOL_VIOLATION, from the core
    const second = rawClient(`${c.baseUrl}v1/sync?client_id=raw-2`.replace('http', 'ws'));
    await second.opened;
    second.send(hello(c.token, 'raw-2', 12_345n));
    await c.host.waitFor(() => c.host.failures.length >= 3, 2000);
    expect(c.host.failures.join('\n')).toMatch(/Ack of 99999999999, beyond the last LSN delivered/);
    expect(c.host.failures.join('\n')).toMatch(/closed it for a client fault: PROTOCOL_VIOLATION/);
    expect(c.host.failures.join('\n')).toMatch(/resume_lsn 12345 is no commit/);
    second.close();
    c.close();
  });

  it('fails a Hello that resends a token refused with UNAUTHENTICATED by the script; a fresh token passes', async () => {
    const c = await server.register(basic, testCase({ connections: [refuse(1, ErrorCode.UNAUTHENTICATED)] }));
    const url = syncUrl(c, 'raw-3');
    expect(await refusedHello(url, c.token, 'raw-3')).toBe(4001);
    expect(c.host.failures).toEqual([]);
    const again = rawClient(url);
    await again.opened;
    again.send(hello(c.token, 'raw-3'));
    await again.until(() => again.received.length > 0);
    expect(c.host.failures).toEqual([
      'connection 2: the Hello resent the token refused with UNAUTHENTICATED on connection 1 (§4.3)',
    ]);
    again.close();
    await again.closed;
    const fresh = await c.freshToken();
    expect(fresh).not.toBe(c.token);
    const third = rawClient(url);
    await third.opened;
    third.send(hello(fresh, 'raw-3'));
    await third.until(() => third.received.some((m) => m.message.case === 'snapshotEnd'));
    expect(c.host.failures).toHaveLength(1);
    third.close();
    c.close();
  });

  it("fails a Hello that resends a token the server's verifier refused", async () => {
    const c = await server.register(basic, testCase({}));
    const url = syncUrl(c, 'raw-4');
    const forged = await signJwtHs256({ sub: 'conformance-user' }, new Uint8Array(32));
    expect(await refusedHello(url, forged, 'raw-4')).toBe(4001);
    expect(c.host.failures).toEqual([]);
    expect(await refusedHello(url, forged, 'raw-4')).toBe(4001);
    expect(c.host.failures).toEqual([
      'connection 2: the Hello resent the token refused with UNAUTHENTICATED on connection 1 (§4.3)',
    ]);
    c.close();
  });

  it('does not hold a refusal or a retry_after_ms seen before a restart against the restarted client', async () => {
    const c = await server.register(
      basic,
      testCase({
        connections: [refuse(1, ErrorCode.UNAUTHENTICATED), refuse(2, ErrorCode.OVERLOADED, 5_000)],
      }),
    );
    const url = syncUrl(c, 'raw-5');
    expect(await refusedHello(url, c.token, 'raw-5')).toBe(4001);
    c.host.restarted();
    expect(await refusedHello(url, c.token, 'raw-5')).toBe(4011);
    c.host.restarted();
    const third = rawClient(url);
    await third.opened;
    third.send(hello(c.token, 'raw-5'));
    await third.until(() => third.received.length > 0);
    expect(c.host.failures).toEqual([]);
    third.close();
    c.close();
  });

  it('fails a connection opened sooner than the retry_after_ms of the close before it', async () => {
    const c = await server.register(
      basic,
      testCase({
        connections: [refuse(1, ErrorCode.OVERLOADED, 400), refuse(2, ErrorCode.UNAVAILABLE, 300)],
      }),
    );
    const url = syncUrl(c, 'raw-6');
    expect(await refusedHello(url, c.token, 'raw-6')).toBe(4011);
    expect(await refusedHello(url, c.token, 'raw-6')).toBe(4017);
    expect(c.host.failures).toEqual([
      expect.stringMatching(
        /^connection 2: the client opened it \d+ ms after the server closed connection 1 with OVERLOADED retry_after_ms 400 \(§9\.4/,
      ),
    ]);
    // Waiting the whole retry_after_ms passes.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const third = rawClient(url);
    await third.opened;
    expect(c.host.failures).toHaveLength(1);
    third.close();
    c.close();
  });

  it('answers a no_subprotocol connection without the subprotocol, still counting it', async () => {
    const c = await server.register(
      basic,
      testCase({ connections: [{ connection: 1, noSubprotocol: true }] }),
    );
    const url = syncUrl(c, 'raw-7');
    // ws, like browsers, fails an upgrade that selected none of the subprotocols offered.
    const first = rawClient(url);
    await expect(first.opened).rejects.toThrow(/no subprotocol/);
    await c.host.waitFor(() => c.host.connections[0]?.end !== undefined, 2000);
    expect(c.host.connections.map((r) => r.subprotocol)).toEqual([false]);
    const second = rawClient(url);
    await second.opened;
    expect(second.protocol()).toBe(SYNC_SUBPROTOCOL);
    expect(c.host.connections.map((r) => r.subprotocol)).toEqual([false, true]);
    expect(c.host.failures).toEqual([]);
    second.close();
    c.close();
  });

  it('fails a Hello sent on a connection whose upgrade selected no subprotocol, and closes it with 1002', async () => {
    const c = await server.register(basic, testCase({}));
    const client = rawClient(syncUrl(c, 'raw-8'), []);
    await client.opened;
    client.send(hello(c.token, 'raw-8'));
    expect(await client.closed).toBe(1002);
    expect(c.host.failures).toEqual([
      'connection 1: the client sent a Hello on a connection whose upgrade did not select the subprotocol (§2.1)',
    ]);
    expect(c.host.connections[0]?.hello).toBeUndefined();
    c.close();
  });

  it("checks the Hello's schema_version when the script expects one (empty = none)", async () => {
    const c = await server.register(
      basic,
      testCase({
        connections: [
          { connection: 1, expectHello: { schemaVersion: 'app-v7' } },
          { connection: 2, expectHello: { schemaVersion: '' } },
          { connection: 3, expectHello: { schemaVersion: 'app-v7' } },
        ],
      }),
    );
    const url = syncUrl(c, 'raw-9');
    for (const version of ['', 'app-v6', 'app-v7']) {
      const client = rawClient(url);
      await client.opened;
      client.send(hello(c.token, 'raw-9', 0n, version));
      await client.until(() => client.received.length > 0);
      client.close();
      await client.closed;
    }
    expect(c.host.failures).toEqual([
      'connection 1: expected schema_version "app-v7", got ""',
      'connection 2: expected schema_version "", got "app-v6"',
    ]);
    c.close();
  });

  it('answers 404 for a path that names no case', async () => {
    const client = rawClient(`${server.url.replace('http', 'ws')}/cases/999/v1/sync?client_id=x`);
    await expect(client.opened).rejects.toThrow(/404/);
  });
});
