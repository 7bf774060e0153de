/**
 * A remote JSON Web Key Set (RFC 7517 §5) as a {@link KeyResolver}: the public keys of an identity provider
 * (Auth0, Clerk, Supabase, Neon Auth, …), picked by the token's `kid` and `alg`, cached, and loaded again when a
 * token names a key the cache does not have (the provider rotated its keys) — at most once per cooldown, so a
 * flood of tokens with made-up `kid`s costs the provider one request per cooldown, not one per token.
 *
 * Sans-IO: the loader and the clock are passed in. Keys come only from the configured key set, never from the
 * token (`jku`, `x5u` and `jwk` headers are ignored, RFC 8725 §3.10), and HS256 never resolves here: a JWKS is
 * public, so its keys must never serve as HMAC secrets.
 */

import { ErrorCode, SyncError } from '@vibestack/proto';
import { importJwk, type JwkKey } from './jwk.ts';
import { type JwtHeader, unauthenticated } from './jwt-decode.ts';
import { isJwtAlgorithm, type JwtAlgorithm, type VerificationKey } from './token-verifier.ts';

/** How long a loaded key set is used before it is loaded again, ms (10 min). */
export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;

/** The least time between two loads of the key set, ms (30 s); also how long a failed load is not retried. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;

/** Options of {@link createJwksKeySet}. */
export interface JwksKeySetOptions {
  /**
   * Loads the key set document (the parsed JSON). Rejects when it cannot: network error, timeout, HTTP error,
   * not JSON. The key set is public, so this is a plain GET of the provider's `…/.well-known/jwks.json`.
   */
  readonly load: () => Promise<unknown>;
  /** The clock, ms since 1970; default `Date.now`. */
  readonly now?: () => number;
  /** Default {@link DEFAULT_JWKS_MAX_AGE_MS}. */
  readonly maxAgeMs?: number;
  /** Default {@link DEFAULT_JWKS_COOLDOWN_MS}. */
  readonly cooldownMs?: number;
  /** Receives a line for each failed load and each key of the set that is not used (with the reason). */
  readonly log?: (message: string) => void;
}

/** Counters of a {@link JwksKeySet}, for diagnostics and tests. */
export interface JwksKeySetStats {
  /** Loads started. */
  readonly loads: number;
  /** Loads that failed. */
  readonly failures: number;
  /** Usable keys held now. */
  readonly keys: number;
}

/** A cached remote key set. */
export interface JwksKeySet {
  /**
   * The key for a token header: the key whose `kid` and algorithm match (a token without `kid` matches when
   * exactly one key has its algorithm). Resolves `undefined` for HS256 and algorithms this server does not
   * verify.
   * @throws SyncError UNAUTHENTICATED when the key set (loaded within the cooldown) has no such key;
   *   UNAVAILABLE, with `retryAfterMs` until the next load may start, when the key set could not be loaded and
   *   the key is not among those cached: the fault is the server's (or its provider's), so the client retries
   *   later with the same token instead of asking for new ones (docs/protocol.md §9.1).
   */
  resolve(header: JwtHeader): Promise<VerificationKey | undefined>;
  readonly stats: JwksKeySetStats;
}

/**
 * Creates a key set over a loader. Nothing is loaded until the first token needs a key.
 *
 * @example
 * const jwks = createJwksKeySet({ load: async () => (await fetch(url)).json() });
 * const verifier = createJwtVerifier({ resolveKey: (h) => jwks.resolve(h), issuer, audience });
 */
export function createJwksKeySet(options: JwksKeySetOptions): JwksKeySet {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  let keys: readonly JwkKey[] | undefined;
  let loadedAt = Number.NEGATIVE_INFINITY;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** Why the latest load failed; cleared by a successful one. */
  let failure: string | undefined;
  let inFlight: Promise<void> | undefined;
  let loads = 0;
  let failures = 0;

  const load = async (): Promise<void> => {
    loads++;
    try {
      const document = await options.load();
      const list = (document as { keys?: unknown } | null)?.keys;
      if (typeof document !== 'object' || !Array.isArray(list)) {
        throw new TypeError('the document is not a JSON object with a "keys" array');
      }
      const imported = await Promise.all(list.map(importJwk));
      const usable: JwkKey[] = [];
      for (const result of imported) {
        if (result.ok) usable.push(result.key);
        else options.log?.(`JWKS key ${result.kid ?? '(no kid)'} is not used: ${result.reason}`);
      }
      keys = usable;
      loadedAt = now();
      failure = undefined;
    } catch (error) {
      failures++;
      failure = error instanceof Error ? error.message : String(error);
      options.log?.(`loading the JWKS failed: ${failure}`);
    }
  };

  /**
   * Loads the key set unless a load started less than a cooldown ago; joins a load in progress. Resolves
   * `true` when a load ended meanwhile (its outcome is in `keys` / `failure`).
   */
  const refresh = async (): Promise<boolean> => {
    if (inFlight === undefined) {
      const at = now();
      if (at < lastAttemptAt + cooldownMs) return false;
      lastAttemptAt = at;
      inFlight = load().finally(() => {
        inFlight = undefined;
      });
    }
    await inFlight;
    return true;
  };

  const find = (kid: string | undefined, alg: JwtAlgorithm): VerificationKey | undefined => {
    const all = keys ?? [];
    if (kid !== undefined) return all.find((k) => k.kid === kid && k.key.algorithm === alg)?.key;
    const candidates = all.filter((k) => k.key.algorithm === alg);
    return candidates.length === 1 ? candidates[0]!.key : undefined;
  };

  return {
    async resolve(header) {
      const { alg, kid } = header;
      if (!isJwtAlgorithm(alg) || alg === 'HS256') return undefined;
      if (kid !== undefined && typeof kid !== 'string') {
        throw unauthenticated('malformed token: "kid" is not a string');
      }
      if (keys === undefined || now() >= loadedAt + maxAgeMs) await refresh();
      let key = find(kid, alg);
      // Not among the cached keys: the provider may have rotated its keys since the last load.
      if (key === undefined && (await refresh())) key = find(kid, alg);
      if (key !== undefined) return key;
      if (failure !== undefined) {
        throw new SyncError(ErrorCode.UNAVAILABLE, `the JWKS could not be loaded (${failure})`, {
          retryAfterMs: Math.max(1_000, Math.ceil(lastAttemptAt + cooldownMs - now())),
        });
      }
      throw unauthenticated(
        kid === undefined
          ? `the token has no "kid" and the JWKS does not have exactly one ${alg} key`
          : `the JWKS has no ${alg} key with kid ${JSON.stringify(kid)}`,
      );
    },
    get stats() {
      return { loads, failures, keys: keys?.length ?? 0 };
    },
  };
}
