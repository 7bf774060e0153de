/**
 * One protobuf message per binary WebSocket frame: encoding and checked decoding of the two envelopes.
 * Decoding never throws anything but a {@link SyncError} with a protocol code.
 */

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { fastEncodeServerFrame } from './fast-encode.ts';
import type { ClientMessage, ServerMessage } from './gen/vibestack/sync/v1/envelope_pb.ts';
import { ClientMessageSchema, ServerMessageSchema } from './gen/vibestack/sync/v1/envelope_pb.ts';
import { ErrorCode } from './gen/vibestack/sync/v1/error_pb.ts';
import { SyncError } from './sync-error.ts';

/** What a WebSocket delivers: binary data or a string (a text frame). */
export type FrameData = ArrayBuffer | ArrayBufferView | string;

/**
 * The bytes of a received frame, checked before any decoding: a text frame is MALFORMED_FRAME, one over
 * `maxFrameBytes` is FRAME_TOO_LARGE. For decoders other than the ones here (e.g. a client's fast reader).
 */
export function frameBytes(data: FrameData, maxFrameBytes: number): Uint8Array {
  if (typeof data === 'string') {
    throw new SyncError(
      ErrorCode.MALFORMED_FRAME,
      'text frames are not part of the protocol; send binary frames',
    );
  }
  const bytes =
    data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength > maxFrameBytes) {
    throw new SyncError(
      ErrorCode.FRAME_TOO_LARGE,
      `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrameBytes} bytes`,
    );
  }
  return bytes;
}

function decode<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (cause) {
    throw new SyncError(ErrorCode.MALFORMED_FRAME, `the frame is not a valid ${what}`, { cause });
  }
}

/**
 * Decodes a frame received by a server. Unknown fields are kept (and ignored).
 * @throws SyncError MALFORMED_FRAME (text frame, bad protobuf) or FRAME_TOO_LARGE.
 */
export function decodeClientFrame(data: FrameData, maxFrameBytes: number): ClientMessage {
  const bytes = frameBytes(data, maxFrameBytes);
  return decode(() => fromBinary(ClientMessageSchema, bytes), 'ClientMessage');
}

/**
 * Decodes a frame received by a client.
 * @throws SyncError MALFORMED_FRAME (text frame, bad protobuf) or FRAME_TOO_LARGE.
 */
export function decodeServerFrame(data: FrameData, maxFrameBytes: number): ServerMessage {
  const bytes = frameBytes(data, maxFrameBytes);
  return decode(() => fromBinary(ServerMessageSchema, bytes), 'ServerMessage');
}

/** Encodes a client frame. */
export function encodeClientFrame(message: ClientMessage): Uint8Array {
  return toBinary(ClientMessageSchema, message);
}

/** Encodes a server frame (Transaction and SnapshotChunk frames through the byte-identical fast path). */
export function encodeServerFrame(message: ServerMessage): Uint8Array {
  return fastEncodeServerFrame(message) ?? toBinary(ServerMessageSchema, message);
}
