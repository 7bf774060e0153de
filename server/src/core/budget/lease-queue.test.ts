import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LeaseOutcome, LeaseQueue } from './lease-queue.ts';

function recorder() {
  const outcomes: [string, LeaseOutcome][] = [];
  return {
    outcomes,
    for: (name: string) => (o: LeaseOutcome) => outcomes.push([name, o]),
  };
}

describe('LeaseQueue', () => {
  it('grants up to its capacity at once, then in request order as leases come back', () => {
    const q = new LeaseQueue(2, 60_000);
    const r = recorder();
    for (const n of ['a', 'b', 'c', 'd']) q.request(n, 0, r.for(n));
    expect(r.outcomes).toEqual([
      ['a', 'granted'],
      ['b', 'granted'],
    ]);
    expect(q.stats()).toEqual({ holders: 2, waiting: 2, capacity: 2 });
    q.release('b', 10);
    q.release('a', 20);
    expect(r.outcomes.map(([n]) => n)).toEqual(['a', 'b', 'c', 'd']);
    expect(q.stats()).toEqual({ holders: 2, waiting: 0, capacity: 2 });
  });

  it('takes back a lease not renewed in time (a holder that vanished), and keeps a renewed one', () => {
    const q = new LeaseQueue(1, 1_000);
    const r = recorder();
    q.request('a', 0, r.for('a'));
    q.request('b', 0, r.for('b'));
    q.renew('a', 900);
    q.expire(1_500);
    expect(r.outcomes).toEqual([['a', 'granted']]);
    q.expire(1_900);
    expect(r.outcomes).toEqual([
      ['a', 'granted'],
      ['b', 'granted'],
    ]);
  });

  it('supersedes a waiting request of the same name, withdraws one on release, re-grants a holder', () => {
    const q = new LeaseQueue(1, 60_000);
    const r = recorder();
    q.request('a', 0, r.for('a'));
    q.request('b', 0, r.for('b1'));
    q.request('b', 0, r.for('b2'));
    q.request('c', 0, r.for('c'));
    q.release('c', 0);
    q.request('a', 0, r.for('a again'));
    expect(r.outcomes).toEqual([
      ['a', 'granted'],
      ['b1', 'superseded'],
      ['c', 'superseded'],
      ['a again', 'granted'],
    ]);
    q.release('a', 0);
    expect(r.outcomes.at(-1)).toEqual(['b2', 'granted']);
  });

  it('never holds more than its capacity, and grants every request exactly once or supersedes it (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), name: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('release' as const), name: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 600 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(op, { maxLength: 80 }), (capacity, ops) => {
        const q = new LeaseQueue(capacity, 1_000);
        let now = 0;
        let pending = 0;
        let ended = 0;
        for (const o of ops) {
          if (o.kind === 'tick') {
            now += o.ms;
            q.expire(now);
          } else if (o.kind === 'request') {
            pending++;
            q.request(String(o.name), now, () => {
              ended++;
            });
          } else q.release(String(o.name), now);
          const s = q.stats();
          expect(s.holders).toBeLessThanOrEqual(capacity);
          // Nobody waits while a lease is free.
          if (s.waiting > 0) expect(s.holders).toBe(capacity);
          expect(ended + s.waiting).toBe(pending);
        }
      }),
    );
  });
});
