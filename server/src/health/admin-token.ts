import { HEADERS } from '../constants.ts';

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/**
 * Whether an `Authorization` header value is `Bearer <token>`. Both sides are hashed (SHA-256) and the digests
 * compared in constant time, so neither the token's content nor its length shows in the timing. `false` when no
 * token is configured.
 *
 * @example
 * const detailed = config.dev || (await presentsToken(c.req.header('Authorization'), config.healthToken));
 */
export async function presentsToken(
  authorization: string | undefined,
  token: string | undefined,
): Promise<boolean> {
  if (!token || !authorization?.startsWith(HEADERS.bearerPrefix)) return false;
  const [presented, expected] = await Promise.all([
    sha256(authorization.slice(HEADERS.bearerPrefix.length)),
    sha256(token),
  ]);
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= (presented[i] ?? 0) ^ (expected[i] ?? 0);
  return difference === 0;
}
