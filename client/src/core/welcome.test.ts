import { create } from '@bufbuild/protobuf';
import { DEFAULT_MAX_FRAME_BYTES, ErrorCode, SyncError, SyncMode, WelcomeSchema } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { checkWelcome, type WelcomeOffer } from './welcome.ts';

const HELLO: WelcomeOffer = { protocolVersions: [1], clientId: 'c1', maxFrameBytes: 0 };
const good = {
  protocolVersion: 1,
  mode: SyncMode.LIVE,
  clientId: 'c1',
  heartbeatIntervalMs: 15_000,
  maxFrameBytes: 65_536,
  maxRowsPerChunk: 100,
};

/** The MALFORMED_FRAME message for a Welcome with `fields` changed, or undefined when it passes. */
function problem(fields: Partial<typeof good>, hello: WelcomeOffer = HELLO): string | undefined {
  try {
    checkWelcome(create(WelcomeSchema, { ...good, ...fields }), hello);
    return undefined;
  } catch (e) {
    if (!(e instanceof SyncError) || e.code !== ErrorCode.MALFORMED_FRAME) throw e;
    return e.rawMessage;
  }
}

describe('checkWelcome (§4.2.1, §4.7)', () => {
  it('accepts a Welcome within what the Hello offered', () => {
    expect(problem({})).toBeUndefined();
    expect(problem({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES })).toBeUndefined();
    expect(problem({ maxFrameBytes: 1 << 20 }, { ...HELLO, maxFrameBytes: 1 << 20 })).toBeUndefined();
  });

  it('rejects a client id other than the Hello’s', () => {
    expect(problem({ clientId: 'c2' })).toBe('bad Welcome: client_id "c2" is not the Hello\'s "c1"');
    expect(problem({ clientId: '' })).toMatch(/client_id "" is not/);
  });

  it('rejects a frame limit above the one offered; 0 offered is the default 4 MiB', () => {
    expect(problem({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES + 1 })).toBe(
      `bad Welcome: max_frame_bytes ${DEFAULT_MAX_FRAME_BYTES + 1} is above the ${DEFAULT_MAX_FRAME_BYTES} offered`,
    );
    expect(problem({ maxFrameBytes: 131_072 }, { ...HELLO, maxFrameBytes: 131_071 })).toMatch(
      /is above the 131071 offered/,
    );
    // Above the offer and the protocol's range: the range is reported.
    expect(problem({ maxFrameBytes: 1 << 30 })).toBe(`bad Welcome: max_frame_bytes ${1 << 30}`);
  });

  it('rejects versions not offered, unknown modes and limits out of range', () => {
    expect(problem({ protocolVersion: 2 })).toMatch(/protocol version 2 was not offered/);
    expect(problem({ mode: SyncMode.UNSPECIFIED })).toMatch(/sync mode 0/);
    expect(problem({ heartbeatIntervalMs: 999 })).toMatch(/heartbeat interval 999 ms/);
    expect(problem({ maxFrameBytes: 65_535 })).toMatch(/max_frame_bytes 65535$/);
    expect(problem({ maxRowsPerChunk: 0 })).toMatch(/max_rows_per_chunk 0/);
  });
});
