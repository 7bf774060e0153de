/**
 * A probe whose answer is reused for a while: however many `/health` requests arrive, the database is asked at
 * most once per period, and concurrent requests share one probe in flight.
 */

/** A cached probe; see {@link createCachedProbe}. */
export interface CachedProbe<T> {
  /** The last answer when it is younger than the period, otherwise a new one (shared while it runs). */
  get(): Promise<T>;
}

/**
 * Wraps `probe` so that it runs at most once per `ttlMs` (counted from when a run started). A failed run is not
 * cached: the next call tries again.
 *
 * @param now clock in milliseconds (default `Date.now`), for tests.
 * @example
 * const health = createCachedProbe(HEALTH_CACHE_MS, () => probeDatabase(open, slot));
 * const answer = await health.get();
 */
export function createCachedProbe<T>(
  ttlMs: number,
  probe: () => Promise<T>,
  now: () => number = Date.now,
): CachedProbe<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return {
    get(): Promise<T> {
      const at = now();
      if (last && at - last.at < ttlMs) return last.value;
      const value = probe();
      const entry = { at, value };
      last = entry;
      value.catch(() => {
        if (last === entry) last = undefined;
      });
      return value;
    },
  };
}
