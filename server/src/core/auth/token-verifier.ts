/**
 * Token verification behind one interface, so that the session shell does not care where keys come from:
 * HS256 with a shared secret, and RS256 / ES256 / EdDSA with public keys (a JWKS, `jwks-key-set.ts`). Every
 * algorithm is WebCrypto's own: `RSASSA-PKCS1-v1_5`, `ECDSA` (whose signature form is JOSE's raw r‖s) and
 * `Ed25519` verify with the same `crypto.subtle.verify`, in workerd and in Node alike.
 */

import { checkClaims, checkClockSkew, DEFAULT_CLOCK_SKEW_SECONDS, type JwtClaims } from './jwt-claims.ts';
import { decodeJwt, type JwtHeader, unauthenticated } from './jwt-decode.ts';

/** The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) this server can verify. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

/** WebCrypto parameters of one algorithm: for `importKey` and for `verify`. */
export interface WebCryptoAlgorithm {
  readonly import:
    | { readonly name: 'HMAC' | 'RSASSA-PKCS1-v1_5'; readonly hash: 'SHA-256' }
    | { readonly name: 'ECDSA'; readonly namedCurve: 'P-256' }
    | { readonly name: 'Ed25519' };
  readonly verify:
    | { readonly name: 'HMAC' | 'RSASSA-PKCS1-v1_5' | 'Ed25519' }
    | { readonly name: 'ECDSA'; readonly hash: 'SHA-256' };
}

/** WebCrypto parameters of each algorithm. */
export const JWT_ALGORITHMS: Readonly<Record<JwtAlgorithm, WebCryptoAlgorithm>> = {
  HS256: { import: { name: 'HMAC', hash: 'SHA-256' }, verify: { name: 'HMAC' } },
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};

/** Whether `alg` is one of {@link JWT_ALGORITHMS} (case-sensitive, as RFC 7515 §4.1.1 says). */
export function isJwtAlgorithm(alg: string): alg is JwtAlgorithm {
  return Object.hasOwn(JWT_ALGORITHMS, alg);
}

/** A WebCrypto key (spelled this way because Node's types have no global `CryptoKey`). */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** A key that may verify tokens of exactly one algorithm (so a token cannot choose how it is checked). */
export interface VerificationKey {
  readonly algorithm: JwtAlgorithm;
  readonly key: WebCryptoKey;
}

/**
 * Finds the key for a token's header (e.g. by `kid` in a JWKS). Returns `undefined` when no key fits; the
 * token is then rejected. It may also throw a SyncError of its own: UNAUTHENTICATED with a more precise
 * message, or UNAVAILABLE when the keys cannot be had right now (a JWKS endpoint that does not answer).
 */
export type KeyResolver = (
  header: JwtHeader,
) => Promise<VerificationKey | undefined> | VerificationKey | undefined;

/** Verifies bearer tokens. The one thing the session shell calls for `Hello.auth_token`. */
export interface TokenVerifier {
  /**
   * Verifies a compact JWS and checks its claims.
   * @param nowSeconds the current time, seconds since 1970-01-01 UTC.
   * @throws SyncError UNAUTHENTICATED with a message saying what is wrong.
   */
  verify(token: string, nowSeconds: number): Promise<JwtClaims>;
}

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  readonly resolveKey: KeyResolver;
  /** Leeway on `exp`/`nbf`, seconds, 0–60; default 30. */
  readonly clockSkewSeconds?: number;
  readonly audience?: string;
  readonly issuer?: string;
}

/** A verifier over any key source. */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const clockSkewSeconds = checkClockSkew(options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);
  return {
    async verify(token, nowSeconds) {
      const jwt = decodeJwt(token);
      const alg = jwt.header.alg;
      if (alg === 'none') throw unauthenticated('unsigned tokens (alg "none") are not accepted');
      if (!isJwtAlgorithm(alg)) {
        throw unauthenticated(`algorithm ${JSON.stringify(alg)} is not accepted`);
      }
      const key = await options.resolveKey(jwt.header);
      // A key is bound to one algorithm: the header may not pick another one (RFC 8725 §3.1).
      if (key === undefined || key.algorithm !== alg) {
        throw unauthenticated(`no key accepts algorithm ${JSON.stringify(alg)}`);
      }
      // crypto.subtle.verify compares in constant time. A signature of the wrong length is `false` in one
      // runtime and an exception in another: both are a bad signature.
      const ok = await crypto.subtle
        .verify(JWT_ALGORITHMS[key.algorithm].verify, key.key, jwt.signature, jwt.signingInput)
        .catch(() => false);
      if (!ok) throw unauthenticated('bad signature');
      return checkClaims(jwt.payload, {
        now: nowSeconds,
        clockSkewSeconds,
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      });
    },
  };
}

const textEncoder = new TextEncoder();

/** Imports an HS256 secret (UTF-8 text or raw bytes) as a WebCrypto HMAC key for signing and verifying. */
export async function importHs256Key(secret: string | Uint8Array): Promise<WebCryptoKey> {
  const raw = typeof secret === 'string' ? textEncoder.encode(secret) : new Uint8Array(secret);
  if (raw.length === 0) throw new RangeError('the HS256 secret is empty');
  return crypto.subtle.importKey('raw', raw, JWT_ALGORITHMS.HS256.import, false, ['sign', 'verify']);
}

/** Options of {@link createHs256Verifier}. */
export interface Hs256VerifierOptions extends Omit<JwtVerifierOptions, 'resolveKey'> {
  /** The shared secret: UTF-8 text or raw bytes. */
  readonly secret: string | Uint8Array;
}

/**
 * A verifier for HS256 tokens signed with one shared secret. The key is imported once.
 *
 * @example
 * const verifier = createHs256Verifier({ secret: env.JWT_SECRET });
 * const claims = await verifier.verify(hello.authToken, Date.now() / 1000);
 */
export function createHs256Verifier(options: Hs256VerifierOptions): TokenVerifier {
  const { secret, ...rest } = options;
  let key: Promise<VerificationKey> | undefined;
  return createJwtVerifier({
    ...rest,
    resolveKey: () => {
      key ??= importHs256Key(secret).then((k) => ({ algorithm: 'HS256', key: k }));
      return key;
    },
  });
}
