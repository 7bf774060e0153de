/**
 * The Worker's token verifier, built from the configuration: HS256 with `JWT_SECRET`, RS256 / ES256 / EdDSA
 * with the keys of `JWKS_URL`, either or both; `JWT_ISSUER` / `JWT_AUDIENCE` checked on every token. The
 * token's `alg` picks the key source, and each key verifies only its own algorithm (RFC 8725 §3.1). This is
 * the shell around `core/auth`: it fetches the JWKS.
 */

import { ErrorCode, SyncError } from '@vibestack/proto';
import type { ServerConfig } from '../config/server-config.ts';
import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_BYTES } from '../constants.ts';
import {
  createJwksKeySet,
  createJwtVerifier,
  importHs256Key,
  type JwksKeySet,
  type TokenVerifier,
  type VerificationKey,
} from '../core/auth/index.ts';

/** The settings {@link createTokenVerifier} reads. */
export type TokenVerifierConfig = Pick<ServerConfig, 'jwtSecret' | 'jwksUrl' | 'jwtIssuer' | 'jwtAudience'>;

/**
 * One cached key set per JWKS URL for the whole isolate, so the Durable Objects that share an isolate share
 * the keys and the reload cooldown (in production an isolate runs one object at a time, and a successor object
 * reuses the cache; locally every object shares it).
 */
const keySets = new Map<string, JwksKeySet>();

/**
 * GETs a JWKS: at most {@link JWKS_FETCH_TIMEOUT_MS}, at most {@link JWKS_MAX_BYTES}, no redirects (a
 * redirect could lead anywhere; configure the final URL).
 */
async function fetchJwks(url: string): Promise<unknown> {
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS),
  });
  const tooLarge = () => new RangeError(`the JWKS is larger than ${JWKS_MAX_BYTES} bytes`);
  if (!response.ok) {
    await response.body?.cancel();
    const location = response.headers.get('location');
    throw new Error(`HTTP ${response.status}${location === null ? '' : ` (a redirect to ${location})`}`);
  }
  if (Number(response.headers.get('content-length') ?? 0) > JWKS_MAX_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const body = await response.arrayBuffer();
  if (body.byteLength > JWKS_MAX_BYTES) throw tooLarge();
  return JSON.parse(new TextDecoder().decode(body));
}

function sharedKeySet(url: string): JwksKeySet {
  let keySet = keySets.get(url);
  if (keySet === undefined) {
    keySet = createJwksKeySet({
      load: () => fetchJwks(url),
      log: (message) => console.warn(`[auth] ${message}`),
    });
    keySets.set(url, keySet);
  }
  return keySet;
}

/**
 * The verifier for `Hello.auth_token` (docs/protocol.md §4.3). With neither `JWT_SECRET` nor `JWKS_URL` it
 * refuses every token, saying so.
 *
 * @example
 * const verifier = createTokenVerifier(loadServerConfig(env));
 * const claims = await verifier.verify(hello.authToken, Date.now() / 1000);
 */
export function createTokenVerifier(config: TokenVerifierConfig): TokenVerifier {
  const { jwtSecret, jwksUrl } = config;
  if (jwtSecret === undefined && jwksUrl === undefined) {
    return {
      verify: () =>
        Promise.reject(
          new SyncError(ErrorCode.UNAUTHENTICATED, 'the server has neither JWT_SECRET nor JWKS_URL set'),
        ),
    };
  }
  const jwks = jwksUrl === undefined ? undefined : sharedKeySet(jwksUrl);
  let hs256: Promise<VerificationKey> | undefined;
  return createJwtVerifier({
    resolveKey: (header) => {
      if (header.alg !== 'HS256') return jwks?.resolve(header);
      if (jwtSecret === undefined) return undefined;
      hs256 ??= importHs256Key(jwtSecret).then((key) => ({ algorithm: 'HS256', key }));
      return hs256;
    },
    ...(config.jwtIssuer === undefined ? {} : { issuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { audience: config.jwtAudience }),
  });
}
