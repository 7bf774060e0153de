import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHexPortable, parseByteaHex } from './bytea-hex.ts';

const toHex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('parseByteaHex', () => {
  it('decodes any bytes from lower- or upper-case hex output (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, upper) => {
        const hex = upper ? toHex(bytes).toUpperCase() : toHex(bytes);
        expect(parseByteaHex(`\\x${hex}`)).toEqual(bytes);
        expect(decodeHexPortable(hex)).toEqual(bytes);
      }),
    );
  });

  it('rejects text that is not hex bytea output', () => {
    for (const bad of ['', 'x00', '\\00', '\\x0', '\\x0g', '\\x é', '\\x1\u0100']) {
      expect(() => parseByteaHex(bad)).toThrow(RangeError);
    }
    expect(() => decodeHexPortable('zz')).toThrow(/offset 0/);
  });
});
