import { create } from '@bufbuild/protobuf';
import { ErrorCode, HelloSchema, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { checkHello, initialCredit, negotiatedFrameBytes, selectMode } from './handshake.ts';

describe('handshake', () => {
  it('selects the mode from the resume point and the log bounds (§4.5)', () => {
    expect(selectMode(0n, 10n, 20n)).toBe(SyncMode.INITIAL);
    expect(selectMode(10n, 10n, 20n)).toBe(SyncMode.CATCH_UP);
    expect(selectMode(19n, 10n, 20n)).toBe(SyncMode.CATCH_UP);
    expect(selectMode(20n, 10n, 20n)).toBe(SyncMode.LIVE);
    for (const lsn of [9n, 21n]) {
      expect(() => selectMode(lsn, 10n, 20n)).toThrow(
        expect.objectContaining({ code: ErrorCode.MUST_REFETCH }),
      );
    }
  });

  it('negotiates the highest common version and the frame size, and defaults the credit', () => {
    const hello = create(HelloSchema, { protocolVersions: [3, 1, 2], authToken: 't', clientId: 'c-1' });
    expect(checkHello(hello, 'c-1', [1, 2])).toBe(2);
    expect(negotiatedFrameBytes(hello, 1 << 20)).toBe(1 << 20);
    expect(negotiatedFrameBytes(create(HelloSchema, { maxFrameBytes: 70_000 }), 1 << 20)).toBe(70_000);
    expect(initialCredit(hello)).toBe(64);
    expect(initialCredit(create(HelloSchema, { initialCredit: 5 }))).toBe(5);
  });

  it('reports the first failed check in §4.2 order', () => {
    // Both the version set and the client id are wrong: the version check comes first.
    const hello = create(HelloSchema, { protocolVersions: [9], authToken: 't', clientId: 'bad id' });
    expect(() => checkHello(hello, 'c-1')).toThrow(
      expect.objectContaining({ code: ErrorCode.UNSUPPORTED_VERSION }),
    );
  });
});
