import { ErrorCode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { generateTestKey, type TestKey } from '../../testing/jwt-keys.ts';
import { syncErrorOf } from '../../testing/sync-error-of.ts';
import {
  createJwksKeySet,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_AGE_MS,
  type JwksKeySetOptions,
} from './jwks-key-set.ts';
import type { JwtHeader } from './jwt-decode.ts';

const rsa = generateTestKey('RS256', 'rsa-1');
const ec = generateTestKey('ES256', 'ec-1');
const ed = generateTestKey('EdDSA', 'ed-1');
const rsa2 = generateTestKey('RS256', 'rsa-2');

/** A provider whose served keys and availability the test changes, and a clock the test moves. */
function provider(initial: readonly TestKey[]) {
  const state = { keys: initial as readonly unknown[], up: true, requests: 0, time: 1_000_000 };
  const options: JwksKeySetOptions = {
    now: () => state.time,
    load: async () => {
      state.requests++;
      if (!state.up) throw new Error('HTTP 503');
      return { keys: state.keys.map((k) => (k as TestKey).jwk ?? k) };
    },
  };
  return { state, options };
}

const header = (key: TestKey, extra: Partial<JwtHeader> = {}): JwtHeader => ({
  alg: key.alg,
  kid: key.kid,
  ...extra,
});

describe('createJwksKeySet', () => {
  it('loads lazily, picks keys by kid and alg, and serves them from the cache until they are old', async () => {
    const { state, options } = provider([rsa, ec, ed]);
    const jwks = createJwksKeySet(options);
    expect(state.requests).toBe(0);
    for (const k of [rsa, ec, ed]) {
      expect((await jwks.resolve(header(k)))?.algorithm).toBe(k.alg);
    }
    expect(state.requests).toBe(1);
    expect(jwks.stats).toEqual({ loads: 1, failures: 0, keys: 3 });
    state.time += DEFAULT_JWKS_MAX_AGE_MS - 1;
    await jwks.resolve(header(rsa));
    expect(state.requests).toBe(1);
    state.time += 1;
    await jwks.resolve(header(rsa));
    expect(state.requests).toBe(2);
  });

  it('never resolves HS256 or unknown algorithms, and never a key under another algorithm', async () => {
    const { state, options } = provider([rsa, ec, ed, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' } as never]);
    const jwks = createJwksKeySet(options);
    expect(await jwks.resolve({ alg: 'HS256', kid: 'hmac' })).toBeUndefined();
    expect(await jwks.resolve({ alg: 'none', kid: rsa.kid })).toBeUndefined();
    expect(state.requests).toBe(0);
    const e = await syncErrorOf(jwks.resolve(header(rsa, { alg: 'ES256' })));
    expect(e.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(e.rawMessage).toBe('the JWKS has no ES256 key with kid "rsa-1"');
    expect((await syncErrorOf(jwks.resolve({ alg: 'RS256', kid: 5 as never }))).rawMessage).toMatch(/"kid"/);
  });

  it('a token without kid matches only when exactly one key has its algorithm', async () => {
    const { options } = provider([rsa, rsa2, ec]);
    const jwks = createJwksKeySet(options);
    expect((await jwks.resolve({ alg: 'ES256' }))?.algorithm).toBe('ES256');
    expect((await syncErrorOf(jwks.resolve({ alg: 'RS256' }))).rawMessage).toMatch(/has no "kid"/);
  });

  it('loads again for an unknown kid (a rotation), at most once per cooldown', async () => {
    const { state, options } = provider([rsa]);
    const jwks = createJwksKeySet(options);
    await jwks.resolve(header(rsa));
    // A rotation after the cooldown: the new kid is found by loading again.
    state.keys = [rsa, rsa2];
    state.time += DEFAULT_JWKS_COOLDOWN_MS;
    expect((await jwks.resolve(header(rsa2)))?.algorithm).toBe('RS256');
    expect(state.requests).toBe(2);
    // A flood of unknown kids: one load per cooldown, every token refused as UNAUTHENTICATED.
    state.time += DEFAULT_JWKS_COOLDOWN_MS;
    const flood = await Promise.all(
      Array.from({ length: 50 }, (_, i) => syncErrorOf(jwks.resolve({ alg: 'RS256', kid: `forged-${i}` }))),
    );
    expect(new Set(flood.map((e) => e.code))).toEqual(new Set([ErrorCode.UNAUTHENTICATED]));
    expect(state.requests).toBe(3);
    state.time += DEFAULT_JWKS_COOLDOWN_MS - 1;
    await syncErrorOf(jwks.resolve({ alg: 'RS256', kid: 'forged-again' }));
    expect(state.requests).toBe(3);
    // A key removed from the set is gone after the next load.
    state.keys = [rsa2];
    state.time += 1;
    await syncErrorOf(jwks.resolve({ alg: 'RS256', kid: 'forged-again' }));
    expect(state.requests).toBe(4);
    expect((await syncErrorOf(jwks.resolve(header(rsa)))).code).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it('concurrent tokens share one load', async () => {
    const { state, options } = provider([rsa, ec, ed]);
    const jwks = createJwksKeySet(options);
    const keys = await Promise.all([rsa, ec, ed, rsa, ec, ed].map((k) => jwks.resolve(header(k))));
    expect(keys.every((k) => k !== undefined)).toBe(true);
    expect(state.requests).toBe(1);
  });

  it('a failed load is UNAVAILABLE with a retry hint, is not retried within the cooldown, and keeps cached keys', async () => {
    const { state, options } = provider([rsa]);
    const logged: string[] = [];
    const jwks = createJwksKeySet({ ...options, log: (l) => logged.push(l) });
    state.up = false;
    const first = await syncErrorOf(jwks.resolve(header(rsa)));
    expect(first.code).toBe(ErrorCode.UNAVAILABLE);
    expect(first.rawMessage).toBe('the JWKS could not be loaded (HTTP 503)');
    expect(first.retryAfterMs).toBe(DEFAULT_JWKS_COOLDOWN_MS);
    expect(logged).toEqual(['loading the JWKS failed: HTTP 503']);
    state.time += 10_000;
    const second = await syncErrorOf(jwks.resolve(header(rsa)));
    expect(second.retryAfterMs).toBe(DEFAULT_JWKS_COOLDOWN_MS - 10_000);
    expect(state.requests).toBe(1);
    // Back up: the next load after the cooldown succeeds.
    state.up = true;
    state.time += 20_000;
    expect(await jwks.resolve(header(rsa))).toBeDefined();
    expect(state.requests).toBe(2);
    // Down again when the cache is old: the cached keys still verify, an unknown kid is UNAVAILABLE (the
    // server cannot tell whether it is a new key).
    state.up = false;
    state.time += DEFAULT_JWKS_MAX_AGE_MS;
    expect(await jwks.resolve(header(rsa))).toBeDefined();
    expect((await syncErrorOf(jwks.resolve(header(rsa2)))).code).toBe(ErrorCode.UNAVAILABLE);
    expect(state.requests).toBe(3);
    expect(jwks.stats).toEqual({ loads: 3, failures: 2, keys: 1 });
  });

  it('treats a document without a "keys" array as a failed load, and logs the keys it skips', async () => {
    const logged: string[] = [];
    for (const document of [null, 'keys', { keys: {} }, []]) {
      const jwks = createJwksKeySet({ load: async () => document, log: (l) => logged.push(l) });
      expect((await syncErrorOf(jwks.resolve(header(rsa)))).code).toBe(ErrorCode.UNAVAILABLE);
    }
    expect(logged.every((l) => l.includes('not a JSON object with a "keys" array'))).toBe(true);
    logged.length = 0;
    const jwks = createJwksKeySet({
      load: async () => ({ keys: [rsa.jwk, { kty: 'oct', kid: 'h', k: 'AA' }, { ...ec.jwk, crv: 'P-521' }] }),
      log: (l) => logged.push(l),
    });
    expect(await jwks.resolve(header(rsa))).toBeDefined();
    expect(logged).toEqual([
      'JWKS key h is not used: key type "oct" is not used for tokens',
      'JWKS key ec-1 is not used: curve "P-521" is not supported (P-256 is)',
    ]);
  });
});
