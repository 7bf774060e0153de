import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  AckSchema,
  ClientMessageSchema,
  decodeServerFrame,
  encodeClientFrame,
  HelloSchema,
  MAX_MAX_FRAME_BYTES,
  type ServerMessage,
  SYNC_SUBPROTOCOL,
} from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
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

/** A raw client: sends frames, collects the server's, resolves `closed` with the close code. */
function rawClient(url: string) {
  const ws = new WebSocket(url, SYNC_SUBPROTOCOL);
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
  };
}

const hello = (token: string, clientId: string, resumeLsn = 0n) => ({
  message: {
    case: 'hello' as const,
    value: create(HelloSchema, { protocolVersions: [1], authToken: token, clientId, resumeLsn }),
  },
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

  it('answers 404 for a path that names no case', async () => {
    const client = rawClient(`${server.url.replace('http', 'ws')}/cases/999/v1/sync?client_id=x`);
    await expect(client.opened).rejects.toThrow(/404/);
  });
});
