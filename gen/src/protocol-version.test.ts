import { describe, expect, it } from 'vitest';
import {
  MIN_SUPPORTED_PROTOCOL_VERSION,
  negotiateProtocolVersion,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './protocol-version.ts';

describe('protocol version', () => {
  it('supports a contiguous range ending at the current version', () => {
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBeGreaterThanOrEqual(1);
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBeLessThanOrEqual(PROTOCOL_VERSION);
    expect(SUPPORTED_PROTOCOL_VERSIONS[0]).toBe(PROTOCOL_VERSION);
    expect(SUPPORTED_PROTOCOL_VERSIONS.at(-1)).toBe(MIN_SUPPORTED_PROTOCOL_VERSION);
  });

  it('picks the highest common version or none', () => {
    expect(negotiateProtocolVersion([1], [1])).toBe(1);
    expect(negotiateProtocolVersion([1, 2, 3], [2, 1])).toBe(2);
    expect(negotiateProtocolVersion([3, 1, 2], [1, 2])).toBe(2);
    expect(negotiateProtocolVersion([5], [1, 2])).toBeUndefined();
    expect(negotiateProtocolVersion([], [1])).toBeUndefined();
    expect(negotiateProtocolVersion([PROTOCOL_VERSION])).toBe(PROTOCOL_VERSION);
  });
});
