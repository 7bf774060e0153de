import { create, fromBinary } from '@bufbuild/protobuf';
import {
  decodeServerFrame,
  ErrorCode,
  encodeServerFrame,
  MAX_MAX_FRAME_BYTES,
  PingSchema,
  ServerMessageSchema,
} from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { type ServerAction, ServerActionSchema } from '../proto.ts';
import { createFrameFilter, errorFrame, type OutFrame, paddedPing } from './frame-filter.ts';

/** A data frame whose bytes are a Ping with nonce `n` (any valid frame does; the nonce names it). */
function frame(n: number, data = true): OutFrame {
  const message = create(ServerMessageSchema, {
    message: { case: 'ping', value: create(PingSchema, { nonce: BigInt(n) }) },
  });
  return { bytes: encodeServerFrame(message), data, message };
}

const nonceOf = (bytes: Uint8Array | string) => {
  if (typeof bytes === 'string') return `text:${bytes}`;
  const m = decodeServerFrame(bytes, MAX_MAX_FRAME_BYTES).message;
  return m.case === 'ping'
    ? Number(m.value.nonce)
    : m.case === 'error'
      ? `error:${ErrorCode[m.value.code]}`
      : m.case;
};

function harness(actions: Parameters<typeof create<typeof ServerActionSchema>>[1][]) {
  const out: (number | string | undefined)[] = [];
  const events: string[] = [];
  const filter = createFrameFilter(
    actions.map((a) => create(ServerActionSchema, a)) as ServerAction[],
    {
      sendBinary: (b) => out.push(nonceOf(b)),
      sendText: (t) => out.push(`text:${t}`),
      terminate: () => events.push('terminate'),
      close: (code) => events.push(`close ${code}`),
    },
    {
      written: () => undefined,
      acted: () => undefined,
      ended: () => events.push('ended'),
      stalled: () => events.push('stalled'),
      frameLimit: () => 1000,
    },
  );
  return { filter, out, events };
}

describe('frame filter', () => {
  it('passes frames through unchanged without actions', () => {
    const { filter, out } = harness([]);
    for (let i = 1; i <= 3; i++) filter.send(frame(i));
    expect(out).toEqual([1, 2, 3]);
    expect(filter.count).toBe(3);
  });

  it('drops the connection after frame k: nothing after it goes out', () => {
    const { filter, out, events } = harness([{ afterFrame: 2, action: { case: 'drop', value: {} } }]);
    for (let i = 1; i <= 4; i++) filter.send(frame(i));
    expect(out).toEqual([1, 2]);
    expect(events).toEqual(['terminate', 'ended']);
    expect(filter.silent).toBe(true);
  });

  it('closes with an Error frame and 4000 + code, or with a bare code', () => {
    const a = harness([{ afterFrame: 1, action: { case: 'close', value: { error: ErrorCode.REPLACED } } }]);
    a.filter.send(frame(1));
    a.filter.send(frame(2));
    expect(a.out).toEqual([1, 'error:REPLACED']);
    expect(a.events).toEqual(['close 4018', 'ended']);
    const b = harness([{ afterFrame: 0, action: { case: 'close', value: { code: 1011 } } }]);
    expect(b.filter.beforeHello()).toBe(false);
    expect(b.events).toEqual(['close 1011', 'ended']);
  });

  it('duplicates the last data frames and swaps the next two, leaving control frames in place', () => {
    const { filter, out } = harness([
      { afterFrame: 2, action: { case: 'duplicate', value: { frames: 2 } } },
      { afterFrame: 4, action: { case: 'swap', value: {} } },
    ]);
    filter.send(frame(1));
    filter.send(frame(2));
    filter.send(frame(3));
    filter.send(frame(90, false));
    filter.send(frame(4));
    expect(out).toEqual([1, 2, 1, 2, 90, 4, 3]);
  });

  it('sends raw frames: bytes, text, and a Ping padded past the frame limit', () => {
    const { filter, out } = harness([
      { afterFrame: 1, action: { case: 'sendRaw', value: { frame: { case: 'text', value: 'hi' } } } },
      { afterFrame: 1, action: { case: 'sendRaw', value: { frame: { case: 'oversizeBy', value: 5 } } } },
    ]);
    filter.send(frame(1));
    filter.send(frame(2));
    expect(out).toEqual([1, 'text:hi', 1, 2]);
  });

  it('holds frames back for a delay, then sends them in order', async () => {
    const { filter, out } = harness([{ afterFrame: 1, action: { case: 'delay', value: { ms: 50 } } }]);
    filter.send(frame(1));
    filter.send(frame(2));
    filter.send(frame(3));
    expect(out).toEqual([1]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(out).toEqual([1, 2, 3]);
    filter.dispose();
  });

  it('goes silent on stall', () => {
    const { filter, out, events } = harness([{ afterFrame: 1, action: { case: 'stall', value: {} } }]);
    filter.send(frame(1));
    filter.send(frame(2));
    expect(out).toEqual([1]);
    expect(events).toEqual(['stalled']);
  });

  it('pads a Ping to exactly the size asked, still a valid Ping', () => {
    for (const size of [10, 127, 128, 129, 1000, 16_385, 65_537]) {
      const bytes = paddedPing(size);
      expect(bytes.length, `size ${size}`).toBe(size);
      expect(fromBinary(ServerMessageSchema, bytes).message.case).toBe('ping');
    }
    expect(decodeServerFrame(errorFrame(ErrorCode.OVERLOADED, 300), 1 << 20).message).toMatchObject({
      case: 'error',
      value: { code: ErrorCode.OVERLOADED, fatal: true, retryAfterMs: 300 },
    });
  });
});
