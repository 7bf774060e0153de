/**
 * The reference server's deviations from the protocol on one connection (suite.proto `ServerAction`): it sits
 * between the session core and the socket, counts the frames that go out, and after the k-th one drops the
 * connection, closes it, sends frames again or in another order, sends frames the core never would, holds frames
 * back, or goes silent.
 */

import { create } from '@bufbuild/protobuf';
import {
  closeCodeForError,
  ErrorCode,
  type Error as ErrorMessage,
  ErrorSchema,
  encodeServerFrame,
  PingSchema,
  type ServerMessage,
  ServerMessageSchema,
} from '@vibestack/proto';
import type { RawFrameAction, ServerAction } from '../proto.ts';

/** Where the filter's output goes: the socket. */
export interface FrameSink {
  sendBinary(bytes: Uint8Array): void;
  sendText(text: string): void;
  /** End the TCP connection without a close frame. */
  terminate(): void;
  /** Close the connection; `error` is the fatal `Error` frame sent just before, if any. */
  close(code: number, reason: string, error?: ErrorMessage): void;
}

/** What the filter tells its connection. */
export interface FrameFilterHooks {
  /** A frame went out (its decoded message when the core built it). */
  written(frame: OutFrame): void;
  /** An action ran (for traces). */
  acted(description: string): void;
  /** The connection ended by an action (`drop`, `close`): the session must stop. */
  ended(): void;
  /** `stall`: the session must be left alone from now on. */
  stalled(): void;
  /** The negotiated frame limit (`Welcome.max_frame_bytes`), for `oversize_by`. */
  frameLimit(): number;
}

/** A frame on its way out. */
export interface OutFrame {
  readonly bytes: Uint8Array | string;
  /** A data frame (counts for `duplicate` and `swap`). */
  readonly data: boolean;
  /** The message the bytes encode, when known (the core's frames, `send_raw{message}`). */
  readonly message?: ServerMessage;
  /** Sent again by `duplicate` (not itself sent again by a later one). */
  readonly copy?: boolean;
  /** Sent by `send_raw`, not by the core: nothing the server delivered (no LSN, no Welcome). */
  readonly raw?: boolean;
}

/** See {@link createFrameFilter}. */
export interface FrameFilter {
  /** A frame from the session core. */
  send(frame: OutFrame): void;
  /** Runs the actions at frame 0 when the Hello arrives; false when the Hello must not reach the core. */
  beforeHello(): boolean;
  /** Frames written so far. */
  readonly count: number;
  /** True once the connection ended by an action or the filter stalled. */
  readonly silent: boolean;
  /** Cancels pending timers. */
  dispose(): void;
}

/** An unknown field number for padding (far above any field of `ServerMessage`). */
const PADDING_FIELD = 9_999;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A valid Ping frame with an unknown length-delimited field that makes it exactly `size` bytes. */
export function paddedPing(size: number): Uint8Array {
  const ping = encodeServerFrame(
    create(ServerMessageSchema, { message: { case: 'ping', value: create(PingSchema, { nonce: 1n }) } }),
  );
  const tag = varint((PADDING_FIELD << 3) | 2);
  let padding = Math.max(0, size - ping.length - tag.length - 1);
  while (ping.length + tag.length + varint(padding).length + padding > size && padding > 0) padding--;
  const out = new Uint8Array(ping.length + tag.length + varint(padding).length + padding);
  out.set(ping, 0);
  out.set(tag, ping.length);
  out.set(varint(padding), ping.length + tag.length);
  return out;
}

/** The `Error{code, fatal}` of a scripted `close`. */
export function scriptedError(code: ErrorCode, retryAfterMs: number): ErrorMessage {
  return create(ErrorSchema, {
    code,
    message: `conformance: scripted ${ErrorCode[code] ?? code}`,
    fatal: true,
    retryAfterMs,
  });
}

/** An `Error` frame. */
export function errorFrame(error: ErrorMessage): Uint8Array {
  return encodeServerFrame(create(ServerMessageSchema, { message: { case: 'error', value: error } }));
}

/**
 * The frame of a `send_raw` action: bytes, text, an oversize Ping, or a server message encoded as the core
 * encodes its frames. Never a data frame to the filter (`duplicate` and `swap` pass it by); the core's credit
 * knows nothing of it.
 */
export function rawFrame(frame: RawFrameAction['frame'], frameLimit: () => number): OutFrame | undefined {
  switch (frame.case) {
    case 'binary':
    case 'text':
      return { bytes: frame.value, data: false, raw: true };
    case 'oversizeBy':
      return { bytes: paddedPing(frameLimit() + frame.value), data: false, raw: true };
    case 'message':
      return { bytes: encodeServerFrame(frame.value), data: false, message: frame.value, raw: true };
    default:
      return undefined;
  }
}

/** Creates the filter of one connection for `actions` (in `after_frame` order). */
export function createFrameFilter(
  actions: readonly ServerAction[],
  sink: FrameSink,
  hooks: FrameFilterHooks,
): FrameFilter {
  const queue: OutFrame[] = [];
  const history: OutFrame[] = [];
  let count = 0;
  let ended = false;
  let stalled = false;
  let holdUntil = 0;
  let swapArmed = false;
  let swapHeld: OutFrame | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const write = (frame: OutFrame) => {
    if (ended || stalled) return;
    if (typeof frame.bytes === 'string') sink.sendText(frame.bytes);
    else sink.sendBinary(frame.bytes);
    count++;
    if (frame.data && frame.copy !== true) history.push(frame);
    hooks.written(frame);
    runActionsAt(count);
  };

  const pump = () => {
    while (queue.length > 0 && !ended && !stalled && Date.now() >= holdUntil) {
      const frame = queue.shift()!;
      if (swapArmed && frame.data) {
        swapArmed = false;
        swapHeld = frame;
        continue;
      }
      write(frame);
      if (swapHeld !== undefined && frame.data) {
        const held = swapHeld;
        swapHeld = undefined;
        write(held);
      }
    }
  };

  const run = (action: ServerAction) => {
    const a = action.action;
    hooks.acted(`after frame ${action.afterFrame}: ${a.case}`);
    switch (a.case) {
      case 'drop':
        ended = true;
        sink.terminate();
        hooks.ended();
        return;
      case 'close':
        ended = true;
        if (a.value.error !== ErrorCode.UNSPECIFIED) {
          const error = scriptedError(a.value.error, a.value.retryAfterMs);
          sink.sendBinary(errorFrame(error));
          sink.close(closeCodeForError(a.value.error), 'conformance: scripted close', error);
        } else {
          sink.close(a.value.code || 1000, 'conformance: scripted close');
        }
        hooks.ended();
        return;
      case 'duplicate': {
        const n = Math.max(1, a.value.frames);
        const again = history.slice(-n).map((f) => ({ ...f, copy: true }));
        queue.splice(insertAt, 0, ...again);
        insertAt += again.length;
        return;
      }
      case 'swap':
        swapArmed = true;
        return;
      case 'sendRaw': {
        const frame = rawFrame(a.value.frame, hooks.frameLimit);
        if (frame !== undefined) queue.splice(insertAt++, 0, frame);
        return;
      }
      case 'delay':
        holdUntil = Date.now() + a.value.ms;
        later(a.value.ms, pump);
        return;
      case 'stall':
        stalled = true;
        hooks.stalled();
        return;
      default:
        return;
    }
  };

  /** Where frames an action sends go in the queue: before the rest, after those of earlier actions. */
  let insertAt = 0;
  const runActionsAt = (frame: number) => {
    insertAt = 0;
    for (const action of actions) if (action.afterFrame === frame && !ended && !stalled) run(action);
  };

  return {
    send(frame) {
      queue.push(frame);
      pump();
    },
    beforeHello() {
      runActionsAt(0);
      pump();
      return !ended && !stalled;
    },
    get count() {
      return count;
    },
    get silent() {
      return ended || stalled;
    },
    dispose() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
