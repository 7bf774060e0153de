/**
 * Authentication of `Hello.auth_token` (docs/protocol.md §4.3): JWT verification behind {@link TokenVerifier},
 * HS256 with a shared secret and RS256 / ES256 / EdDSA with the keys of a remote JWKS.
 */

export type { JwkImport, JwkKey } from './jwk.ts';
export { importJwk, MIN_RSA_MODULUS_BITS } from './jwk.ts';
export type { JwksKeySet, JwksKeySetOptions, JwksKeySetStats } from './jwks-key-set.ts';
export { createJwksKeySet, DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS } from './jwks-key-set.ts';
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
  WebCryptoAlgorithm,
  WebCryptoKey,
} from './token-verifier.ts';
export {
  createHs256Verifier,
  createJwtVerifier,
  importHs256Key,
  isJwtAlgorithm,
  JWT_ALGORITHMS,
} from './token-verifier.ts';
