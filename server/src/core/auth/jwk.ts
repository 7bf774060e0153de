/**
 * Public keys from JSON Web Keys (RFC 7517) for verifying tokens: RSA for RS256, EC P-256 for ES256 and OKP
 * Ed25519 for EdDSA (RFC 8037). Each key is bound to exactly one algorithm (RFC 8725 §3.1): the JWK's `alg`
 * when it names one, otherwise the only algorithm this server pairs with its key type and curve. Symmetric
 * (`oct`) keys, keys not meant for signatures and RSA keys below 2048 bits are never taken from a key set.
 */

import { JWT_ALGORITHMS, type JwtAlgorithm, type VerificationKey } from './token-verifier.ts';

/** The shortest RSA modulus accepted, in bits (RFC 7518 §3.3 requires at least 2048). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** A usable key of a key set. */
export interface JwkKey {
  /** The JWK's `kid`, when it has one. */
  readonly kid: string | undefined;
  readonly key: VerificationKey;
}

/** The outcome of {@link importJwk}: a key, or why the JWK is not used. */
export type JwkImport =
  | { readonly ok: true; readonly key: JwkKey }
  | { readonly ok: false; readonly kid: string | undefined; readonly reason: string };

/** Which algorithm a key type (and curve) verifies, and the JWK members that make up its public key. */
const KEY_TYPES: Readonly<
  Record<string, { readonly alg: JwtAlgorithm; readonly crv?: string; readonly members: readonly string[] }>
> = {
  RSA: { alg: 'RS256', members: ['n', 'e'] },
  EC: { alg: 'ES256', crv: 'P-256', members: ['crv', 'x', 'y'] },
  OKP: { alg: 'EdDSA', crv: 'Ed25519', members: ['crv', 'x'] },
};

function skip(kid: string | undefined, reason: string): JwkImport {
  return { ok: false, kid, reason };
}

/**
 * Imports one JWK of a key set for `verify`. Only the public members are imported (a private `d` is ignored).
 * Never throws: a JWK this server cannot or must not use comes back with the reason.
 */
export async function importJwk(jwk: unknown): Promise<JwkImport> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    return skip(undefined, 'not a JSON object');
  }
  const j = jwk as Readonly<Record<string, unknown>>;
  if (j.kid !== undefined && typeof j.kid !== 'string') return skip(undefined, '"kid" is not a string');
  const kid = j.kid;
  if (j.use !== undefined && j.use !== 'sig')
    return skip(kid, `"use" is ${JSON.stringify(j.use)}, not "sig"`);
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) {
    return skip(kid, '"key_ops" does not include "verify"');
  }
  const type = typeof j.kty === 'string' && Object.hasOwn(KEY_TYPES, j.kty) ? KEY_TYPES[j.kty] : undefined;
  if (type === undefined) return skip(kid, `key type ${JSON.stringify(j.kty)} is not used for tokens`);
  if (type.crv !== undefined && j.crv !== type.crv) {
    return skip(kid, `curve ${JSON.stringify(j.crv)} is not supported (${type.crv} is)`);
  }
  if (j.alg !== undefined && j.alg !== type.alg) {
    return skip(kid, `algorithm ${JSON.stringify(j.alg)} is not supported for ${String(j.kty)} keys`);
  }
  const publicJwk: { kty: string; [member: string]: string } = { kty: j.kty as string };
  for (const member of type.members) {
    const value = j[member];
    if (typeof value !== 'string') return skip(kid, `"${member}" is missing`);
    publicJwk[member] = value;
  }
  let key: VerificationKey['key'];
  try {
    key = await crypto.subtle.importKey('jwk', publicJwk, JWT_ALGORITHMS[type.alg].import, false, ['verify']);
  } catch (error) {
    return skip(kid, `the key does not import: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (type.alg === 'RS256') {
    const bits = (key.algorithm as { readonly modulusLength?: number }).modulusLength ?? 0;
    if (bits < MIN_RSA_MODULUS_BITS) {
      return skip(kid, `an RSA modulus of ${bits} bits is too short (at least ${MIN_RSA_MODULUS_BITS})`);
    }
  }
  return { ok: true, key: { kid, key: { algorithm: type.alg, key } } };
}
