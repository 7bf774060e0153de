import { describe, expect, it } from 'vitest';
import { createCachedProbe } from './cached-probe.ts';

describe('createCachedProbe', () => {
  it('runs the probe at most once per period, and shares a run in flight', async () => {
    let clock = 0;
    let runs = 0;
    let release = (): void => undefined;
    const probe = createCachedProbe(
      2_000,
      () =>
        new Promise<number>((resolve) => {
          runs++;
          release = () => resolve(runs);
        }),
      () => clock,
    );
    const concurrent = [probe.get(), probe.get(), probe.get()];
    release();
    expect(await Promise.all(concurrent)).toEqual([1, 1, 1]);
    clock = 1_999;
    expect(await probe.get()).toBe(1);
    clock = 2_000;
    const next = probe.get();
    release();
    expect(await next).toBe(2);
    expect(runs).toBe(2);
  });

  it('does not keep a failed run', async () => {
    let fail = true;
    const probe = createCachedProbe(
      2_000,
      async () => {
        if (fail) throw new Error('down');
        return 'up';
      },
      () => 0,
    );
    await expect(probe.get()).rejects.toThrow('down');
    fail = false;
    expect(await probe.get()).toBe('up');
  });
});
