/**
 * The dev-only token route (`GET /dev/token?sub=…&ttl=…`, served with `VIBESTACK_DEV=1`): what it accepts and
 * the claims of the token it mints. The route itself is in `worker.ts`.
 */

import {
  DEV_TOKEN_DEFAULT_TTL_SECONDS,
  DEV_TOKEN_MAX_TTL_SECONDS,
  DEV_TOKEN_MIN_TTL_SECONDS,
  DEV_TOKEN_PARAMS,
} from '../constants.ts';

/** A parsed `ttl`: whole seconds, or what is wrong with it (for a 400 answer). */
export type DevTokenTtl =
  | { readonly ok: true; readonly seconds: number }
  | { readonly ok: false; readonly message: string };

/**
 * Parses the `ttl` query parameter: whole seconds within {@link DEV_TOKEN_MIN_TTL_SECONDS}–
 * {@link DEV_TOKEN_MAX_TTL_SECONDS}; absent means {@link DEV_TOKEN_DEFAULT_TTL_SECONDS}. Digits only, so no
 * sign, fraction, exponent or blank gets through.
 */
export function parseDevTokenTtl(text: string | undefined): DevTokenTtl {
  if (text === undefined) return { ok: true, seconds: DEV_TOKEN_DEFAULT_TTL_SECONDS };
  const seconds = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (seconds >= DEV_TOKEN_MIN_TTL_SECONDS && seconds <= DEV_TOKEN_MAX_TTL_SECONDS)
    return { ok: true, seconds };
  return {
    ok: false,
    message: `${DEV_TOKEN_PARAMS.ttl} must be a whole number of seconds within ${DEV_TOKEN_MIN_TTL_SECONDS}–${DEV_TOKEN_MAX_TTL_SECONDS} (${DEV_TOKEN_MAX_TTL_SECONDS / 86_400} days), got ${JSON.stringify(text.slice(0, 40))}`,
  };
}

/**
 * The claims of a dev token for user `sub`, valid from `nowSeconds` for `ttlSeconds`, with the configured
 * `iss` / `aud` so that the server accepts it when it checks them.
 */
export function devTokenClaims(
  sub: string,
  nowSeconds: number,
  ttlSeconds: number,
  config: { readonly jwtIssuer: string | undefined; readonly jwtAudience: string | undefined },
): Record<string, unknown> {
  return {
    sub,
    iat: nowSeconds,
    exp: nowSeconds + ttlSeconds,
    ...(config.jwtIssuer === undefined ? {} : { iss: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { aud: config.jwtAudience }),
  };
}
