/**
 * Simulated time for the fan-out simulation: callbacks scheduled at whole milliseconds, run in time order and,
 * within one millisecond, in the order they were scheduled. Buckets per millisecond instead of a heap, because
 * the simulation schedules millions of events over a few seconds of simulated time. Test-only.
 */

/** A discrete-event clock. */
export class EventQueue {
  #now = 0;
  /** Per millisecond: callbacks and their arguments, interleaved (no closure per event). */
  readonly #buckets = new Map<number, unknown[]>();

  /** The current simulated time, ms. */
  get now(): number {
    return this.#now;
  }

  /** Runs `fn(arg)` `delayMs` (≥ 0, rounded down) from now; 0 runs it later in the current millisecond. */
  after<A>(delayMs: number, fn: (arg: A) => void, arg?: A): void {
    const at = this.#now + Math.max(0, Math.floor(delayMs));
    const bucket = this.#buckets.get(at);
    if (bucket === undefined) this.#buckets.set(at, [fn, arg]);
    else bucket.push(fn, arg);
  }

  /** Runs every event up to and including `until` (ms); `stop` is checked after each millisecond. */
  runUntil(until: number, stop: () => boolean = () => false): void {
    for (; this.#now <= until; this.#now++) {
      const bucket = this.#buckets.get(this.#now);
      if (bucket !== undefined) {
        // Events scheduled for the current millisecond while it runs are appended and run too.
        for (let i = 0; i < bucket.length; i += 2) (bucket[i] as (arg: unknown) => void)(bucket[i + 1]);
        this.#buckets.delete(this.#now);
      }
      if (stop()) return;
    }
    this.#now = until;
  }

  /** True when nothing is scheduled. */
  get idle(): boolean {
    return this.#buckets.size === 0;
  }
}
