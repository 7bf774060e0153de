import { describe, expect, it } from 'vitest';
import { generateTestKey } from '../../testing/jwt-keys.ts';
import { importJwk } from './jwk.ts';

const rsa = generateTestKey('RS256', 'rsa');
const ec = generateTestKey('ES256', 'ec');
const ed = generateTestKey('EdDSA', 'ed');

async function reason(jwk: unknown): Promise<string> {
  const result = await importJwk(jwk);
  if (result.ok) throw new Error('expected the key to be skipped');
  return result.reason;
}

describe('importJwk', () => {
  it('binds RSA to RS256, EC P-256 to ES256 and OKP Ed25519 to EdDSA, with or without "alg"', async () => {
    for (const [key, alg] of [
      [rsa, 'RS256'],
      [ec, 'ES256'],
      [ed, 'EdDSA'],
    ] as const) {
      for (const jwk of [key.jwk, { ...key.jwk, alg: undefined }]) {
        const result = await importJwk(JSON.parse(JSON.stringify(jwk)));
        expect(result.ok && result.key.key.algorithm).toBe(alg);
        expect(result.ok && result.key.kid).toBe(key.kid);
      }
    }
    const noKid = await importJwk({ ...ed.jwk, kid: undefined });
    expect(noKid.ok && noKid.key.kid).toBeUndefined();
  });

  it('imports only the public part of a JWK that carries a private key', async () => {
    const privateJwk = { ...ed.privateKey.export({ format: 'jwk' }), kid: 'ed' };
    expect(privateJwk).toHaveProperty('d');
    const result = await importJwk(privateJwk);
    expect(result.ok && result.key.key.key.type).toBe('public');
  });

  it('skips keys it must not or cannot use, saying why', async () => {
    expect(await reason(null)).toMatch(/not a JSON object/);
    expect(await reason([rsa.jwk])).toMatch(/not a JSON object/);
    expect(await reason({ ...rsa.jwk, kid: 7 })).toMatch(/"kid" is not a string/);
    expect(await reason({ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' })).toMatch(/"oct" is not used/);
    expect(await reason({ ...rsa.jwk, use: 'enc' })).toMatch(/"use"/);
    expect(await reason({ ...rsa.jwk, key_ops: ['encrypt'] })).toMatch(/key_ops/);
    expect(await reason({ ...rsa.jwk, alg: 'PS256' })).toMatch(/"PS256" is not supported/);
    expect(await reason({ ...rsa.jwk, alg: 'HS256' })).toMatch(/"HS256" is not supported/);
    expect(await reason({ ...ec.jwk, alg: 'RS256' })).toMatch(/not supported/);
    expect(await reason({ ...ec.jwk, crv: 'P-384' })).toMatch(/curve "P-384"/);
    expect(await reason({ ...ed.jwk, crv: 'X25519' })).toMatch(/curve "X25519"/);
    expect(await reason({ ...ec.jwk, y: undefined })).toMatch(/"y" is missing/);
    expect(await reason({ ...ec.jwk, x: 'AAAA' })).toMatch(/does not import/);
    expect(await reason(generateTestKey('RS256', 'small', { rsaBits: 1024 }).jwk)).toMatch(
      /1024 bits is too short/,
    );
    expect((await importJwk({ ...rsa.jwk, key_ops: ['verify'] })).ok).toBe(true);
  });
});
