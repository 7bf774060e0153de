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
import {
  createFrameFilter,
  errorFrame,
  type OutFrame,
  paddedPing,
  rawFrame,
  scriptedError,
} from './frame-filter.ts';

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
  const written: OutFrame[] = [];
  const filter = createFrameFilter(
    actions.map((a) => create(ServerActionSchema, a)) as ServerAction[],
    {
      sendBinary: (b) => out.push(nonceOf(b)),
      sendText: (t) => out.push(`text:${t}`),
      terminate: () => events.push('terminate'),
      close: (code, _reason, error) =>
        events.push(
          `close ${code}${error ? ` after ${ErrorCode[error.code]} retry_after_ms ${error.retryAfterMs}` : ''}`,
        ),
    },
    {
      written: (f) => written.push(f),
      acted: () => undefined,
      ended: () => events.push('ended'),
      stalled: () => events.push('stalled'),
      frameLimit: () => 1000,
    },
  );
  return { filter, out, events, written };
}

/** A `send_raw` of a whole server message: a Ping with nonce `n`. */
const rawPing = (n: number) =>
  ({
    case: 'sendRaw',
    value: {
      frame: {
        case: 'message',
        value: create(ServerMessageSchema, {
          message: { case: 'ping', value: create(PingSchema, { nonce: BigInt(n) }) },
        }),
      },
    },
  }) as const;

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
    expect(a.events).toEqual(['close 4018 after REPLACED retry_after_ms 0', 'ended']);
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

  it('tells the sink which Error a scripted close sent, with its retry_after_ms', () => {
    const { filter, events } = harness([
      { afterFrame: 0, action: { case: 'close', value: { error: ErrorCode.OVERLOADED, retryAfterMs: 300 } } },
    ]);
    expect(filter.beforeHello()).toBe(false);
    expect(events).toEqual(['close 4011 after OVERLOADED retry_after_ms 300', 'ended']);
  });

  it('sends a whole server message as a raw binary frame that duplicate and swap pass by', () => {
    const a = harness([
      { afterFrame: 1, action: { case: 'swap', value: {} } },
      { afterFrame: 1, action: rawPing(77) },
    ]);
    for (let i = 1; i <= 3; i++) a.filter.send(frame(i));
    // The raw Ping goes out at once: the swap takes the next two data frames.
    expect(a.out).toEqual([1, 77, 3, 2]);
    expect(a.written[1]).toMatchObject({ raw: true, data: false, message: { message: { case: 'ping' } } });
    const b = harness([
      { afterFrame: 1, action: rawPing(77) },
      { afterFrame: 2, action: { case: 'duplicate', value: { frames: 1 } } },
    ]);
    for (let i = 1; i <= 2; i++) b.filter.send(frame(i));
    // Frame 2 is the raw Ping: the duplicate after it sends the last data frame, frame 1, again.
    expect(b.out).toEqual([1, 77, 1, 2]);
    expect(b.filter.count).toBe(4);
  });

  it('encodes a raw message as the server encodes its frames', () => {
    const message = create(ServerMessageSchema, {
      message: { case: 'error', value: scriptedError(ErrorCode.INTERNAL, 0) },
    });
    const raw = rawFrame({ case: 'message', value: message }, () => 1000);
    expect(raw).toEqual({ bytes: encodeServerFrame(message), data: false, message, raw: true });
    expect(rawFrame({ case: 'oversizeBy', value: 5 }, () => 1000)?.bytes).toHaveLength(1005);
    expect(rawFrame({ case: undefined }, () => 1000)).toBeUndefined();
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
    expect(
      decodeServerFrame(errorFrame(scriptedError(ErrorCode.OVERLOADED, 300)), 1 << 20).message,
    ).toMatchObject({
      case: 'error',
      value: { code: ErrorCode.OVERLOADED, fatal: true, retryAfterMs: 300 },
    });
  });
});
