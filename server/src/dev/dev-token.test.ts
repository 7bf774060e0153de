import { describe, expect, it } from 'vitest';
import { DEV_TOKEN_DEFAULT_TTL_SECONDS, DEV_TOKEN_MAX_TTL_SECONDS } from '../constants.ts';
import { devTokenClaims, parseDevTokenTtl } from './dev-token.ts';

describe('parseDevTokenTtl', () => {
  it('takes whole seconds within 1 s – 30 days, a day by default', () => {
    expect(parseDevTokenTtl(undefined)).toEqual({ ok: true, seconds: DEV_TOKEN_DEFAULT_TTL_SECONDS });
    expect(parseDevTokenTtl('1')).toEqual({ ok: true, seconds: 1 });
    expect(parseDevTokenTtl('0060')).toEqual({ ok: true, seconds: 60 });
    expect(parseDevTokenTtl(String(DEV_TOKEN_MAX_TTL_SECONDS))).toEqual({
      ok: true,
      seconds: DEV_TOKEN_MAX_TTL_SECONDS,
    });
  });

  it('refuses anything else with a message naming ttl and its bounds', () => {
    const bad = [
      'abc',
      '',
      '0',
      '-5',
      '1.5',
      '1e3',
      ' 5',
      '+5',
      '0x10',
      'Infinity',
      '2592001',
      '99999999999999',
    ];
    for (const text of bad) {
      const parsed = parseDevTokenTtl(text);
      expect(parsed.ok, text).toBe(false);
      expect(!parsed.ok && parsed.message).toBe(
        `ttl must be a whole number of seconds within 1–2592000 (30 days), got ${JSON.stringify(text)}`,
      );
    }
    const long = parseDevTokenTtl('x'.repeat(1000));
    expect(!long.ok && long.message.length).toBeLessThan(120);
  });
});

describe('devTokenClaims', () => {
  it('carries sub, iat, exp and the configured iss / aud', () => {
    expect(devTokenClaims('u', 100, 60, { jwtIssuer: undefined, jwtAudience: undefined })).toEqual({
      sub: 'u',
      iat: 100,
      exp: 160,
    });
    expect(devTokenClaims('u', 100, 60, { jwtIssuer: 'https://idp', jwtAudience: 'app' })).toEqual({
      sub: 'u',
      iat: 100,
      exp: 160,
      iss: 'https://idp',
      aud: 'app',
    });
  });
});
