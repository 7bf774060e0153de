import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateTestKey, signTestHs256, signTestToken, type TestKey } from '../../testing/jwt-keys.ts';
import { rejection } from '../../testing/sync-error-of.ts';
import { importJwk } from './jwk.ts';
import {
  createJwtVerifier,
  importHs256Key,
  type TokenVerifier,
  type VerificationKey,
} from './token-verifier.ts';

const NOW = 1_704_359_640;
const SECRET = 'token-verifier-test-secret-of-32-bytes-or-more';
const KEYS: readonly TestKey[] = [
  generateTestKey('RS256', 'rsa-1'),
  generateTestKey('ES256', 'ec-1'),
  generateTestKey('EdDSA', 'ed-1'),
];

/** A verifier over the test keys by `kid`, plus the HS256 secret for `alg: HS256`. */
async function verifier(): Promise<TokenVerifier> {
  const byKid = new Map<string, VerificationKey>();
  for (const k of KEYS) {
    const imported = await importJwk(k.jwk);
    if (!imported.ok) throw new Error(imported.reason);
    byKid.set(k.kid, imported.key.key);
  }
  const hs256: VerificationKey = { algorithm: 'HS256', key: await importHs256Key(SECRET) };
  return createJwtVerifier({
    resolveKey: (h) => (h.alg === 'HS256' ? hs256 : byKid.get(String(h.kid))),
  });
}

describe('asymmetric tokens (RS256, ES256, EdDSA)', () => {
  it.each(KEYS.map((k) => [k.alg, k] as const))(
    'accepts a %s token signed by node:crypto',
    async (_, key) => {
      const v = await verifier();
      const claims = await v.verify(signTestToken(key, { sub: 'user_1', exp: NOW + 60 }), NOW);
      expect(claims).toEqual({ sub: 'user_1', exp: NOW + 60 });
    },
  );

  it.each(KEYS.map((k) => [k.alg, k] as const))(
    'rejects a %s token with a changed payload or signature',
    async (_, key) => {
      const v = await verifier();
      const token = signTestToken(key, { sub: 'user_1' });
      const [h, , s] = token.split('.') as [string, string, string];
      const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`;
      expect(await rejection(v.verify(forged, NOW))).toBe('bad signature');
      const otherKey = generateTestKey(key.alg, key.kid);
      expect(await rejection(v.verify(signTestToken(otherKey, { sub: 'user_1' }), NOW))).toBe(
        'bad signature',
      );
      // A truncated signature is a bad signature too, never an exception of another kind.
      expect(await rejection(v.verify(`${h}.${token.split('.')[1]}.${s.slice(0, 20)}`, NOW))).toBe(
        'bad signature',
      );
    },
  );

  it('binds each key to its algorithm: a token cannot choose another one (RFC 8725 §3.1)', async () => {
    const v = await verifier();
    const [rsa, ec, ed] = KEYS as [TestKey, TestKey, TestKey];
    // An RS256 key named by an ES256 / EdDSA header, and so on.
    for (const [key, alg] of [
      [rsa, 'ES256'],
      [ec, 'RS256'],
      [ed, 'ES256'],
      [ec, 'EdDSA'],
    ] as const) {
      expect(await rejection(v.verify(signTestToken(key, { sub: 'u' }, { alg }), NOW))).toMatch(
        /no key accepts/,
      );
    }
    // The classic confusion: HS256 "signed" with the RSA public key as HMAC secret. HS256 only ever uses the
    // configured secret.
    const publicPem = createPublicKey(rsa.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const confused = signTestHs256(publicPem, { sub: 'u' }, { kid: rsa.kid });
    expect(await rejection(v.verify(confused, NOW))).toBe('bad signature');
    // Algorithms that look alike are not accepted.
    for (const alg of ['RS384', 'PS256', 'ES384', 'ES256K', 'Ed25519', 'rs256', 'none']) {
      expect(await rejection(v.verify(signTestToken(rsa, { sub: 'u' }, { alg }), NOW))).toMatch(
        /not accepted/,
      );
    }
  });
});
