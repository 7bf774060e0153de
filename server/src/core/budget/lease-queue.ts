/**
 * A bounded number of leases handed out first come, first served: the database connections initial syncs may
 * hold at once. Without it, a thousand clients syncing for the first time each try to open a connection, Postgres
 * forks a backend for every attempt only to refuse it ("too many clients"), and the clients retry in waves — the
 * herd converges in minutes, and the application's own connections are refused meanwhile. With it, at most
 * `capacity` snapshots read at once and the others wait their turn, connected, without touching Postgres.
 *
 * Sans-IO: times come in as arguments; a grant is a callback. A holder that vanished without releasing (a crashed
 * Durable Object) loses its lease `leaseMs` after its last renewal.
 */

/** How a request ended. */
export type LeaseOutcome = 'granted' | 'superseded';

interface Waiter {
  readonly name: string;
  readonly done: (outcome: LeaseOutcome) => void;
}

/** The state of the queue, for health reports. */
export interface LeaseQueueStats {
  readonly holders: number;
  readonly waiting: number;
  readonly capacity: number;
}

/** See the module comment. */
export class LeaseQueue {
  readonly #capacity: number;
  readonly #leaseMs: number;
  /** Holder name → when its lease lapses (ms). */
  readonly #holders = new Map<string, number>();
  #waiting: Waiter[] = [];

  constructor(capacity: number, leaseMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.#capacity = capacity;
    this.#leaseMs = leaseMs;
  }

  /**
   * Asks for a lease for `name`; `done('granted')` is called once it holds one (at once when one is free, or when
   * `name` already holds one). A second request of the same name while the first waits supersedes it: the first
   * ends with `done('superseded')`.
   */
  request(name: string, now: number, done: (outcome: LeaseOutcome) => void): void {
    this.expire(now);
    if (this.#holders.has(name)) {
      this.#holders.set(name, now + this.#leaseMs);
      done('granted');
      return;
    }
    const earlier = this.#waiting.find((w) => w.name === name);
    if (earlier !== undefined) {
      this.#waiting = this.#waiting.filter((w) => w !== earlier);
      earlier.done('superseded');
    }
    this.#waiting.push({ name, done });
    this.#grant(now);
  }

  /** Extends `name`'s lease (while its snapshot still reads). No-op for a name without one. */
  renew(name: string, now: number): void {
    if (this.#holders.has(name)) this.#holders.set(name, now + this.#leaseMs);
  }

  /** Gives `name`'s lease back, or withdraws its request. */
  release(name: string, now: number): void {
    this.#holders.delete(name);
    const waiting = this.#waiting.find((w) => w.name === name);
    if (waiting !== undefined) {
      this.#waiting = this.#waiting.filter((w) => w !== waiting);
      waiting.done('superseded');
    }
    this.#grant(now);
  }

  /** Takes back leases not renewed in time, and grants them to waiters. */
  expire(now: number): void {
    for (const [name, until] of this.#holders) if (until <= now) this.#holders.delete(name);
    this.#grant(now);
  }

  stats(): LeaseQueueStats {
    return { holders: this.#holders.size, waiting: this.#waiting.length, capacity: this.#capacity };
  }

  #grant(now: number): void {
    while (this.#holders.size < this.#capacity && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      this.#holders.set(next.name, now + this.#leaseMs);
      next.done('granted');
    }
  }
}
