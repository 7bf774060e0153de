/**
 * The simulated network between the root, the shards and the subscribers. A message may be dropped, delayed by
 * a random time (which also reorders messages) and duplicated; once healed, it only delays a little. Reads of
 * the log are RPCs the shell retries until they succeed, so they are delayed but never lost. Test-only.
 */

import type { EventQueue } from './event-queue.ts';
import type { SeededRandom } from './seeded-random.ts';

/** How unreliable the network is while not healed. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly drop: number;
  /** Probability that a delivered message arrives a second time (with its own delay). */
  readonly duplicate: number;
  /** Delay bounds of a message, ms; messages overtake each other within them. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/** Delay bounds after healing, ms. */
const HEALED = { minDelayMs: 1, maxDelayMs: 3 };

/** Counters of what the network did. */
export interface NetworkStats {
  sent: number;
  dropped: number;
  duplicated: number;
}

/** A lossy, reordering, duplicating network on simulated time. */
export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, dropped: 0, duplicated: 0 };
  readonly #queue: EventQueue;
  readonly #random: SeededRandom;
  readonly #faults: NetworkFaults;
  #healed = false;

  constructor(queue: EventQueue, random: SeededRandom, faults: NetworkFaults) {
    this.#queue = queue;
    this.#random = random;
    this.#faults = faults;
  }

  /** From now on messages are neither lost nor duplicated, and arrive within a few ms. */
  heal(): void {
    this.#healed = true;
  }

  /** Sends a one-way message: `arrive(message)` runs on delivery (never, once or twice). */
  send<M>(arrive: (message: M) => void, message?: M): void {
    this.stats.sent++;
    if (!this.#healed && this.#random.chance(this.#faults.drop)) {
      this.stats.dropped++;
      return;
    }
    this.#queue.after(this.#delay(), arrive, message);
    if (!this.#healed && this.#random.chance(this.#faults.duplicate)) {
      this.stats.duplicated++;
      this.#queue.after(this.#delay(), arrive, message);
    }
  }

  /** A request/response call that is retried until it succeeds: `serve` runs at the callee, `done` back home. */
  call<R>(serve: () => R, done: (result: R) => void): void {
    this.#queue.after(this.#delay(), () => {
      const result = serve();
      this.#queue.after(this.#delay(), () => done(result));
    });
  }

  #delay(): number {
    const { minDelayMs, maxDelayMs } = this.#healed ? HEALED : this.#faults;
    return this.#random.int(minDelayMs, maxDelayMs);
  }
}
