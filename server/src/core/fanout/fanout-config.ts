/** Defaults and validation of {@link FanoutNodeOptions}. */

/** Default lease of a subscription at a leaf, ms; a SyncDO renews at a third of it. */
export const DEFAULT_LEASE_MS = 30_000;
/** Default quiet time after which the root sends a beacon (the head) down the tree, ms. */
export const DEFAULT_BEACON_INTERVAL_MS = 5_000;
/**
 * Default time after which a leaf assumes its push of a head has reached its subscribers, ms: a renewal answer
 * from a subscriber the leaf pushes to carries only heads at least this old (see `FanoutNode.onRenew`).
 */
export const DEFAULT_SETTLE_MS = 1_000;
/** Default most pushes one node sends per batch (used to plan the tree). */
export const DEFAULT_MAX_DEGREE = 100;

/** Options of a {@link FanoutNode}. */
export interface FanoutNodeOptions {
  /** How long a leaf keeps a subscriber after its last renewal, ms; default {@link DEFAULT_LEASE_MS}. */
  readonly leaseMs?: number;
  /** The root's beacon period while no batch is published, ms; default {@link DEFAULT_BEACON_INTERVAL_MS}. */
  readonly beaconIntervalMs?: number;
  /** How long a leaf waits before it reports a pushed head in renewal answers, ms; default {@link DEFAULT_SETTLE_MS}. */
  readonly settleMs?: number;
}

/** Options with every default filled in. */
export type ResolvedFanoutNodeOptions = Required<FanoutNodeOptions>;

/** Fills in defaults. @throws RangeError unless the durations are integers, all but `settleMs` positive. */
export function resolveFanoutNodeOptions(options: FanoutNodeOptions = {}): ResolvedFanoutNodeOptions {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const beaconIntervalMs = options.beaconIntervalMs ?? DEFAULT_BEACON_INTERVAL_MS;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  for (const [name, value] of [
    ['leaseMs', leaseMs],
    ['beaconIntervalMs', beaconIntervalMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be ≥ 1 ms, got ${value}`);
  }
  if (!Number.isInteger(settleMs) || settleMs < 0)
    throw new RangeError(`settleMs must be ≥ 0 ms, got ${settleMs}`);
  return { leaseMs, beaconIntervalMs, settleMs };
}
