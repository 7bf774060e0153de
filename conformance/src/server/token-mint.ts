/**
 * The tokens of a run: HS256 JWTs for the case's user (`sub: conformance-user`), signed with the run's secret
 * and checked by the server's own verifier. Every token differs from every other token of the run — each has its
 * own `jti` — so that `fresh_token` hands the client a token it never had, and a resent token is told from a new
 * one (the standing check of §4.3).
 */

import { signJwtHs256 } from '../../../server/src/core/auth/index.ts';
import { TOKEN_LIFETIME_S } from '../constants.ts';
import { CONFORMANCE_CLAIMS } from './case-scope.ts';

/** See {@link createTokenMint}. */
export interface TokenMint {
  /** A new valid token, different from every token this mint issued before. */
  mint(): Promise<string>;
}

/** The claims of a token issued at `nowMs`: the case's user, `iat`, an hour's `exp`, and the given `jti`. */
export function conformanceClaims(nowMs: number, jti: string): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return { ...CONFORMANCE_CLAIMS, iat, exp: iat + TOKEN_LIFETIME_S, jti };
}

/**
 * Issues the tokens of one run, signed with `secret`.
 *
 * @example
 * const tokens = createTokenMint(secret);
 * const first = await tokens.mint();
 * const fresh = await tokens.mint(); // !== first
 */
export function createTokenMint(secret: Uint8Array, now: () => number = Date.now): TokenMint {
  let issued = 0;
  return {
    mint() {
      issued++;
      return signJwtHs256(conformanceClaims(now(), `conformance-${issued}`), secret);
    },
  };
}
