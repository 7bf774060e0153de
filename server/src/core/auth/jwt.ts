/**
 * One-call HS256 verification and signing: `verifyJwt` for a single check, `signJwtHs256` for the dev token
 * route and tests. A long-lived server uses `createHs256Verifier` (imports the key once).
 */

import { encodeBase64Url } from './base64url.ts';
import type { ClaimChecks, JwtClaims } from './jwt-claims.ts';
import { createHs256Verifier, importHs256Key } from './token-verifier.ts';

/** Options of {@link verifyJwt}. */
export interface VerifyJwtOptions extends ClaimChecks {
  /** The HS256 shared secret: UTF-8 text or raw bytes. */
  readonly secret: string | Uint8Array;
}

/**
 * Verifies an HS256 JWT and returns its claims. Rejects `alg: none` and every other algorithm, bad signatures,
 * expired (`exp`) or not-yet-valid (`nbf`) tokens beyond the leeway, a wrong `aud`/`iss` when configured, and
 * tokens without a string `sub`.
 * @throws SyncError UNAUTHENTICATED with a specific message.
 *
 * @example
 * const claims = await verifyJwt(token, { secret: 'dev-secret', now: Math.floor(Date.now() / 1000) });
 * claims.sub; // the user id
 */
export function verifyJwt(token: string, options: VerifyJwtOptions): Promise<JwtClaims> {
  const { secret, now, ...checks } = options;
  return createHs256Verifier({ secret, ...checks }).verify(token, now);
}

const textEncoder = new TextEncoder();

/**
 * Signs claims as an HS256 JWT (`{"alg":"HS256","typ":"JWT"}`).
 *
 * @example
 * const token = await signJwtHs256({ sub: 'user_42', exp: nowSeconds + 3600 }, 'dev-secret');
 */
export async function signJwtHs256(
  claims: Readonly<Record<string, unknown>>,
  secret: string | Uint8Array,
): Promise<string> {
  const header = encodeBase64Url(textEncoder.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const payload = encodeBase64Url(textEncoder.encode(JSON.stringify(claims)));
  const key = await importHs256Key(secret);
  const signature = await crypto.subtle.sign('HMAC', key, textEncoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${encodeBase64Url(new Uint8Array(signature))}`;
}
