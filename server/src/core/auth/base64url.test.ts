import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';

describe('base64url', () => {
  it('round-trips any bytes and matches Node’s encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('accepts only the canonical text of a byte string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw_-=+/ .'), maxLength: 12 }), (text) => {
        const bytes = decodeBase64Url(text);
        if (bytes !== undefined) expect(encodeBase64Url(bytes)).toBe(text);
      }),
    );
  });

  it('rejects padding, foreign characters, impossible lengths and non-zero trailing bits', () => {
    for (const bad of ['QQ==', 'Q', 'QUJDR', 'a+b/', 'ab c', 'é', 'QUJ']) {
      expect(decodeBase64Url(bad), bad).toBeUndefined();
    }
    expect(decodeBase64Url('QUI')).toEqual(new Uint8Array([65, 66]));
  });
});
