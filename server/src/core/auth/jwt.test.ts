import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rejection } from '../../testing/sync-error-of.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { signJwtHs256, verifyJwt } from './jwt.ts';
import { createHs256Verifier, createJwtVerifier } from './token-verifier.ts';

const SECRET = 'test-secret-0123456789';
const NOW = 1_704_359_640;
const enc = new TextEncoder();

function part(json: unknown): string {
  return encodeBase64Url(enc.encode(JSON.stringify(json)));
}

describe('verifyJwt', () => {
  it('accepts a signed token and returns its claims', async () => {
    const token = await signJwtHs256({ sub: 'user_42', exp: NOW + 60, role: 'x' }, SECRET);
    const claims = await verifyJwt(token, { secret: SECRET, now: NOW });
    expect(claims).toEqual({ sub: 'user_42', exp: NOW + 60, role: 'x' });
  });

  it('verifies the token of protocol.md §15 shape (raw-byte secret)', async () => {
    const secret = new Uint8Array([1, 2, 3, 4, 5]);
    const token = await signJwtHs256({ sub: 'user_42', exp: 1704446100 }, secret);
    expect(
      token.startsWith(
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzQyIiwiZXhwIjoxNzA0NDQ2MTAwfQ.',
      ),
    ).toBe(true);
    await expect(verifyJwt(token, { secret, now: NOW })).resolves.toMatchObject({ sub: 'user_42' });
  });

  it.each([
    ['not.a.jwt.at.all', /three dot-separated parts/],
    ['abc', /three dot-separated parts/],
    ['@@@.e30.AAAA', /header is not base64url/],
    [`${encodeBase64Url(enc.encode('{'))}.e30.AAAA`, /header is not UTF-8 JSON/],
    [`${part([1])}.e30.AAAA`, /header is not a JSON object/],
    [`${part({ typ: 'JWT' })}.e30.AAAA`, /no "alg"/],
    [`${part({ alg: 'HS256', crit: ['x'] })}.e30.AAAA`, /crit/],
    [`${part({ alg: 'HS256' })}.bnVsbA.AAAA`, /payload is not a JSON object/],
    [`${part({ alg: 'HS256' })}.e30.A`, /signature is not base64url/],
  ])('rejects the malformed token %s', async (token, message) => {
    expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW }))).toMatch(message);
  });

  it('rejects alg none and every algorithm but HS256, even with a valid HS256 signature', async () => {
    const good = await signJwtHs256({ sub: 'u' }, SECRET);
    const [, payload, sig] = good.split('.');
    expect(
      await rejection(verifyJwt(`${part({ alg: 'none' })}.${payload}.`, { secret: SECRET, now: NOW })),
    ).toMatch(/alg "none"/);
    for (const alg of ['HS384', 'HS512', 'PS256', 'hs256']) {
      const token = `${part({ alg, typ: 'JWT' })}.${payload}.${sig}`;
      expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW }))).toMatch(/is not accepted/);
    }
    // Algorithms the server knows, but no HS256 secret verifies them.
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const token = `${part({ alg, typ: 'JWT' })}.${payload}.${sig}`;
      expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW }))).toMatch(/no key accepts/);
    }
  });

  it('rejects a signature made with another secret', async () => {
    const token = await signJwtHs256({ sub: 'u' }, 'another-secret');
    expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW }))).toBe('bad signature');
  });

  it('honours exp and nbf with the configured leeway', async () => {
    const expired = await signJwtHs256({ sub: 'u', exp: NOW - 30 }, SECRET);
    expect(await rejection(verifyJwt(expired, { secret: SECRET, now: NOW }))).toMatch(/expired/);
    await expect(verifyJwt(expired, { secret: SECRET, now: NOW - 1 })).resolves.toBeDefined();
    await expect(
      verifyJwt(expired, { secret: SECRET, now: NOW, clockSkewSeconds: 31 }),
    ).resolves.toBeDefined();
    const early = await signJwtHs256({ sub: 'u', nbf: NOW + 31 }, SECRET);
    expect(await rejection(verifyJwt(early, { secret: SECRET, now: NOW }))).toMatch(/not valid before/);
    await expect(verifyJwt(early, { secret: SECRET, now: NOW + 1 })).resolves.toBeDefined();
    const badExp = await signJwtHs256({ sub: 'u', exp: '2030' }, SECRET);
    expect(await rejection(verifyJwt(badExp, { secret: SECRET, now: NOW }))).toMatch(/NumericDate/);
    expect(() => createHs256Verifier({ secret: SECRET, clockSkewSeconds: 61 })).toThrow(RangeError);
  });

  it('requires a non-empty string sub', async () => {
    for (const claims of [{}, { sub: '' }, { sub: 42 }]) {
      const token = await signJwtHs256(claims, SECRET);
      expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW }))).toMatch(/"sub"/);
    }
  });

  it('checks aud and iss when configured', async () => {
    const token = await signJwtHs256({ sub: 'u', aud: ['a', 'b'], iss: 'me' }, SECRET);
    await expect(
      verifyJwt(token, { secret: SECRET, now: NOW, audience: 'b', issuer: 'me' }),
    ).resolves.toBeDefined();
    expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW, audience: 'c' }))).toMatch(
      /audience/,
    );
    expect(await rejection(verifyJwt(token, { secret: SECRET, now: NOW, issuer: 'you' }))).toMatch(
      /issued by/,
    );
    const single = await signJwtHs256({ sub: 'u', aud: 'a' }, SECRET);
    await expect(verifyJwt(single, { secret: SECRET, now: NOW, audience: 'a' })).resolves.toBeDefined();
  });

  it('binds a key to its algorithm: a resolver returning no key rejects', async () => {
    const verifier = createJwtVerifier({ resolveKey: () => undefined });
    const token = await signJwtHs256({ sub: 'u' }, SECRET);
    expect(await rejection(verifier.verify(token, NOW))).toMatch(/no key accepts/);
  });

  it('rejects any tampering with header, payload or signature', async () => {
    const token = await signJwtHs256({ sub: 'user_42', exp: NOW + 3600, admin: false }, SECRET);
    const verifier = createHs256Verifier({ secret: SECRET });
    await expect(verifier.verify(token, NOW)).resolves.toBeDefined();
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...chars),
        fc.constantFrom('replace', 'insert', 'delete'),
        async (at, ch, op) => {
          const tampered =
            op === 'replace'
              ? token.slice(0, at) + ch + token.slice(at + 1)
              : op === 'insert'
                ? token.slice(0, at) + ch + token.slice(at)
                : token.slice(0, at) + token.slice(at + 1);
          fc.pre(tampered !== token);
          await rejection(verifier.verify(tampered, NOW));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects re-signed payload changes made without the secret (bit flips in the decoded parts)', async () => {
    const token = await signJwtHs256({ sub: 'user_42', exp: NOW + 3600 }, SECRET);
    const parts = token.split('.') as [string, string, string];
    const verifier = createHs256Verifier({ secret: SECRET });
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (which, pos, bit) => {
          const bytes = decodeBase64Url(parts[which]!)!;
          fc.pre(bytes.length > 0);
          const i = pos % bytes.length;
          bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
          const copy = [...parts];
          copy[which] = encodeBase64Url(bytes);
          await rejection(verifier.verify(copy.join('.'), NOW));
        },
      ),
      { numRuns: 200 },
    );
  });
});
