import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeServerFrame } from './frame.ts';
import { ClientMessageSchema, ServerMessageSchema } from './gen/vibestack/sync/v1/envelope_pb.ts';
import { ErrorCode } from './gen/vibestack/sync/v1/error_pb.ts';
import { AckSchema } from './gen/vibestack/sync/v1/flow_pb.ts';
import { HelloSchema } from './gen/vibestack/sync/v1/handshake_pb.ts';
import { isSyncError } from './sync-error.ts';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    return isSyncError(e) ? e.code : undefined;
  }
  return undefined;
}

const LIMIT = 1024;

describe('frames', () => {
  it('round-trips envelopes', () => {
    const hello = create(ClientMessageSchema, {
      message: {
        case: 'hello',
        value: create(HelloSchema, { protocolVersions: [1], clientId: 'c1', resumeLsn: 42n }),
      },
    });
    const back = decodeClientFrame(encodeClientFrame(hello), LIMIT);
    expect(back.message.case).toBe('hello');
    expect(back.message.value).toMatchObject({ clientId: 'c1', resumeLsn: 42n, protocolVersions: [1] });
    const ack = create(ClientMessageSchema, {
      message: { case: 'ack', value: create(AckSchema, { lsn: 7n }) },
    });
    expect(
      decodeClientFrame(encodeClientFrame(ack).buffer as ArrayBuffer, LIMIT).message.value,
    ).toMatchObject({ lsn: 7n });
  });

  it('rejects text frames with MALFORMED_FRAME', () => {
    expect(codeOf(() => decodeClientFrame('{"hello":{}}', LIMIT))).toBe(ErrorCode.MALFORMED_FRAME);
    expect(codeOf(() => decodeServerFrame('x', LIMIT))).toBe(ErrorCode.MALFORMED_FRAME);
  });

  it('rejects frames over the limit with FRAME_TOO_LARGE before decoding them', () => {
    expect(codeOf(() => decodeClientFrame(new Uint8Array(LIMIT + 1), LIMIT))).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(codeOf(() => decodeServerFrame(new Uint8Array(LIMIT + 1), LIMIT))).toBe(ErrorCode.FRAME_TOO_LARGE);
  });

  it('turns any undecodable bytes into MALFORMED_FRAME and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const code = codeOf(() => decodeClientFrame(bytes, LIMIT));
        expect(code === undefined || code === ErrorCode.MALFORMED_FRAME).toBe(true);
        const code2 = codeOf(() => decodeServerFrame(bytes, LIMIT));
        expect(code2 === undefined || code2 === ErrorCode.MALFORMED_FRAME).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // Truncated: a length-delimited field claiming more bytes than present.
    expect(codeOf(() => decodeClientFrame(new Uint8Array([0x0a, 0x10, 0x01]), LIMIT))).toBe(
      ErrorCode.MALFORMED_FRAME,
    );
  });

  it('ignores unknown fields and reports an unknown oneof case as no case (forward compatibility)', () => {
    const known = toBinary(ServerMessageSchema, create(ServerMessageSchema, {}));
    const w = new BinaryWriter();
    w.tag(99, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    const unknownCase = w.finish();
    const decoded = decodeServerFrame(new Uint8Array([...known, ...unknownCase]), LIMIT);
    expect(decoded.message.case).toBeUndefined();
    // An Ack with an extra unknown field still decodes.
    const ack = toBinary(
      ClientMessageSchema,
      create(ClientMessageSchema, { message: { case: 'ack', value: { lsn: 5n } } }),
    );
    const extra = new BinaryWriter().tag(50, WireType.Varint).uint32(1).finish();
    expect(decodeClientFrame(new Uint8Array([...ack, ...extra]), LIMIT).message.value).toMatchObject({
      lsn: 5n,
    });
  });

  it('encodes server frames', () => {
    const m = create(ServerMessageSchema, { message: { case: 'pong', value: { nonce: 9n } } });
    expect(decodeServerFrame(encodeServerFrame(m), LIMIT).message.value).toMatchObject({ nonce: 9n });
  });
});
