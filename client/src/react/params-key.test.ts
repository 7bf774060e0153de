/** Parameter keys: equal exactly for equal values, whatever the array or object identity. */

import { describe, expect, it } from 'vitest';
import { paramsKey } from './params-key.ts';

describe('paramsKey', () => {
  it('is equal for fresh arrays and objects of the same values', () => {
    const make = () => [1, 'a', null, true, 2n, new Date(0), new Uint8Array([1, 2]), [3, { x: [4] }]];
    expect(paramsKey(make())).toBe(paramsKey(make()));
    expect(paramsKey(undefined)).toBe(paramsKey([]));
  });

  it('tells apart values that JSON would not', () => {
    const distinct: unknown[][] = [
      [1],
      ['1'],
      [1n],
      [null],
      [undefined],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [new Date(0)],
      [new Date(0).toISOString()],
      [new Date(1)],
      [new Date(Number.NaN)],
      [new Uint8Array([1, 2])],
      [new Uint8Array([1, 3])],
      [[1, 2]],
      ['1,2'],
      [{ a: 1 }],
      [{ a: 2 }],
      [{ b: 1 }],
      [1, 2],
      [2, 1],
    ];
    expect(new Set(distinct.map(paramsKey)).size).toBe(distinct.length);
  });
});
