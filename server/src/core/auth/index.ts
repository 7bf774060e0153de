/**
 * Authentication of `Hello.auth_token` (docs/protocol.md §4.3): JWT verification behind {@link TokenVerifier},
 * HS256 today, with a key-resolver seam for JWKS.
 */

export type { VerifyJwtOptions } from './jwt.ts';
export { signJwtHs256, verifyJwt } from './jwt.ts';
export type { ClaimChecks, JwtClaims } from './jwt-claims.ts';
export { checkClaims, DEFAULT_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS } from './jwt-claims.ts';
export type { DecodedJwt, JwtHeader } from './jwt-decode.ts';
export { decodeJwt } from './jwt-decode.ts';
export type {
  Hs256VerifierOptions,
  JwtAlgorithm,
  JwtVerifierOptions,
  KeyResolver,
  TokenVerifier,
  VerificationKey,
  WebCryptoKey,
} from './token-verifier.ts';
export { createHs256Verifier, createJwtVerifier, importHs256Key } from './token-verifier.ts';
