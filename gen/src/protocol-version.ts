/**
 * The version of the `vibestack.sync.v1` wire protocol that this code speaks, and the oldest one it still
 * accepts. Clients offer every version they speak in `Hello.protocol_versions`; the server picks the highest
 * version both speak (docs/protocol.md §12).
 *
 * Additive changes (a new field, a new oneof case, a new enum value that old peers may ignore) do not change
 * the version. Anything an old peer would misread does: bump `PROTOCOL_VERSION`, add a line below, and keep
 * serving old clients until `MIN_SUPPORTED_PROTOCOL_VERSION` moves.
 *
 * `buf breaking` (FILE) compares `proto/` with the previous commit of main in `npm test`. Before 1.0 a
 * deliberate wire break is allowed only when the same commit adds a line to this history that starts with
 * `// v<N> BREAKING:` — `scripts/check-breaking.mjs` enforces it.
 *
 * History:
 * // v1 (2026-11-25): initial protocol — handshake, relations, snapshot, transactions, acks/progress,
 * //   credit flow control, heartbeats, mutations with HLC and per-mutation results, ErrorCode + close codes.
 */
export const PROTOCOL_VERSION = 1;

/** The oldest protocol version this code still speaks. */
export const MIN_SUPPORTED_PROTOCOL_VERSION = 1;

/** Every protocol version this code speaks, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = Object.freeze(
  Array.from(
    { length: PROTOCOL_VERSION - MIN_SUPPORTED_PROTOCOL_VERSION + 1 },
    (_, i) => PROTOCOL_VERSION - i,
  ),
);

/**
 * Picks the protocol version for a connection: the highest version in `offered` that is also in `supported`,
 * or `undefined` when there is none.
 */
export function negotiateProtocolVersion(
  offered: readonly number[],
  supported: readonly number[] = SUPPORTED_PROTOCOL_VERSIONS,
): number | undefined {
  let best: number | undefined;
  for (const v of offered) {
    if (supported.includes(v) && (best === undefined || v > best)) best = v;
  }
  return best;
}
