/**
 * The registered claims VibeStack reads (RFC 7519 §4.1) and their checks: `sub` is the user id, `exp`/`nbf`
 * bound the token's lifetime with a little clock leeway, `aud`/`iss` are checked when configured.
 */

import { unauthenticated } from './jwt-decode.ts';

/** The most clock leeway a server may allow on `exp` and `nbf`, in seconds (docs/protocol.md §4.3). */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** The default leeway on `exp` and `nbf`, in seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/** The claims of a verified token. `sub` is the user id; every other claim is kept for scope rules. */
export interface JwtClaims {
  /** The user id: a non-empty string. */
  readonly sub: string;
  /** Expiry, seconds since 1970-01-01 UTC. */
  readonly exp?: number;
  /** Not valid before, seconds since 1970-01-01 UTC. */
  readonly nbf?: number;
  readonly iat?: number;
  readonly iss?: string;
  readonly aud?: string | readonly string[];
  readonly [name: string]: unknown;
}

/** What the claims are checked against. */
export interface ClaimChecks {
  /** The current time, seconds since 1970-01-01 UTC. */
  readonly now: number;
  /** Leeway on `exp` and `nbf`, seconds, 0–60; default 30. */
  readonly clockSkewSeconds?: number;
  /** When set, `aud` must be (or contain) this value. */
  readonly audience?: string;
  /** When set, `iss` must equal this value. */
  readonly issuer?: string;
}

/** @throws RangeError unless `seconds` is an allowed leeway. */
export function checkClockSkew(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_CLOCK_SKEW_SECONDS) {
    throw new RangeError(`clockSkewSeconds must be within 0–${MAX_CLOCK_SKEW_SECONDS}, got ${seconds}`);
  }
  return seconds;
}

function numericDate(payload: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const v = payload[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw unauthenticated(`malformed token: "${name}" is not a NumericDate`);
  }
  return v;
}

/**
 * Checks a decoded payload and returns it as claims.
 * @throws SyncError UNAUTHENTICATED: missing/empty `sub`, expired, not yet valid, wrong `aud` or `iss`.
 */
export function checkClaims(payload: Readonly<Record<string, unknown>>, checks: ClaimChecks): JwtClaims {
  const skew = checkClockSkew(checks.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0) {
    throw unauthenticated('the token has no "sub" claim (a non-empty string)');
  }
  const exp = numericDate(payload, 'exp');
  if (exp !== undefined && checks.now >= exp + skew) {
    throw unauthenticated(`the token expired at ${exp} (now ${checks.now}, leeway ${skew} s)`);
  }
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && checks.now + skew < nbf) {
    throw unauthenticated(`the token is not valid before ${nbf} (now ${checks.now}, leeway ${skew} s)`);
  }
  if (checks.audience !== undefined) {
    const aud = payload.aud;
    const ok =
      typeof aud === 'string' ? aud === checks.audience : Array.isArray(aud) && aud.includes(checks.audience);
    if (!ok) throw unauthenticated(`the token is not meant for audience ${JSON.stringify(checks.audience)}`);
  }
  if (checks.issuer !== undefined && payload.iss !== checks.issuer) {
    throw unauthenticated(`the token was not issued by ${JSON.stringify(checks.issuer)}`);
  }
  return payload as JwtClaims;
}
