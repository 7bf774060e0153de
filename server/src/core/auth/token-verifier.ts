/**
 * Token verification behind one interface, so that the session shell does not care where keys come from.
 * v1 ships HS256 with a shared secret; JWKS (RS256/ES256) plugs in as another {@link KeyResolver}: WebCrypto
 * verifies `RSASSA-PKCS1-v1_5` and `ECDSA` (JOSE's raw r‖s signature form) with the same `crypto.subtle.verify`.
 */

import { checkClaims, checkClockSkew, DEFAULT_CLOCK_SKEW_SECONDS, type JwtClaims } from './jwt-claims.ts';
import { decodeJwt, type JwtHeader, unauthenticated } from './jwt-decode.ts';

/** The JWS algorithms this server can verify. Add `RS256`/`ES256` here together with their parameters. */
export type JwtAlgorithm = 'HS256';

/** WebCrypto parameters of each algorithm, for `importKey` and `verify`. */
export const JWT_ALGORITHMS: Readonly<
  Record<
    JwtAlgorithm,
    { readonly import: { readonly name: string; readonly hash: string }; readonly verify: string }
  >
> = {
  HS256: { import: { name: 'HMAC', hash: 'SHA-256' }, verify: 'HMAC' },
};

/** A WebCrypto key (spelled this way because Node's types have no global `CryptoKey`). */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** A key that may verify tokens of exactly one algorithm (so a token cannot choose how it is checked). */
export interface VerificationKey {
  readonly algorithm: JwtAlgorithm;
  readonly key: WebCryptoKey;
}

/**
 * Finds the key for a token's header (e.g. by `kid` in a JWKS). Returns `undefined` when no key fits; the
 * token is then rejected.
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
      if (!Object.hasOwn(JWT_ALGORITHMS, alg)) {
        throw unauthenticated(`algorithm ${JSON.stringify(alg)} is not accepted`);
      }
      const key = await options.resolveKey(jwt.header);
      // A key is bound to one algorithm: the header may not pick another one (RFC 8725 §3.1).
      if (key === undefined || key.algorithm !== alg) {
        throw unauthenticated(`no key accepts algorithm ${JSON.stringify(alg)}`);
      }
      // crypto.subtle.verify compares in constant time.
      const ok = await crypto.subtle.verify(
        JWT_ALGORITHMS[key.algorithm].verify,
        key.key,
        jwt.signature,
        jwt.signingInput,
      );
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
