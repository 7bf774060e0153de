import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../gen/vibestack/sync/v1/error_pb.ts';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import type { Value } from '../gen/vibestack/sync/v1/value_pb.ts';
import { ArrayValueSchema, ValueSchema, VectorValueSchema } from '../gen/vibestack/sync/v1/value_pb.ts';
import { isSyncError } from '../sync-error.ts';
import { caseOf, nativeOf, SCALAR_TYPES } from '../testing/arbitraries.ts';
import {
  checkValue,
  decodeValueText,
  encodeTextValue,
  NULL_VALUE,
  UNCHANGED,
  UNCHANGED_VALUE,
} from './value-codec.ts';
import type { ScalarValueType, ValueType } from './value-type.ts';

const VECTOR: ScalarValueType = { encoding: ValueEncoding.VECTOR };
const ALL_SCALARS = [...SCALAR_TYPES.map((s) => s.type), VECTOR];

function wire(v: Value): Value {
  return fromBinary(ValueSchema, toBinary(ValueSchema, v));
}

function scalarValue(type: ScalarValueType, native: unknown): Value {
  if (type.encoding === ValueEncoding.VECTOR) {
    return create(ValueSchema, {
      kind: { case: 'vectorValue', value: create(VectorValueSchema, { values: native as number[] }) },
    });
  }
  return create(ValueSchema, { kind: { case: caseOf(type), value: native } as Value['kind'] });
}

function arrayValue(element: ScalarValueType): fc.Arbitrary<Value> {
  const el = fc.oneof(
    { weight: 1, arbitrary: fc.constant(NULL_VALUE) },
    { weight: 5, arbitrary: nativeOf(element).map((n) => scalarValue(element, n)) },
  );
  const oneDim = fc
    .array(el, { maxLength: 6 })
    .map((elements) => ({ elements, dims: [] as number[], lowerBounds: [] as number[] }));
  const multi = fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      fc.integer({ min: -3, max: 3 }),
    )
    .chain(([dims, customBounds, lb]) =>
      fc
        .array(el, { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) })
        .map((elements) => ({
          elements,
          dims: dims.length === 1 && !customBounds ? [] : dims,
          lowerBounds: customBounds ? dims.map(() => lb) : [],
        })),
    )
    // A single dimension with explicit lower bounds 1 is normalised away by the encoder; keep canonical forms.
    .map((a) =>
      a.lowerBounds.length > 0 && a.lowerBounds.every((b) => b === 1)
        ? { ...a, lowerBounds: [], dims: a.dims.length === 1 ? [] : a.dims }
        : a,
    );
  return fc
    .oneof(oneDim, multi)
    .map((a) => create(ValueSchema, { kind: { case: 'arrayValue', value: create(ArrayValueSchema, a) } }));
}

/** Value equality that treats NaN as equal to NaN and keeps -0 distinct from 0. */
function sameValue(a: Value, b: Value): boolean {
  return Object.is(JSON.stringify(a, replacer), JSON.stringify(b, replacer));
}
function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number')
    return Object.is(v, -0)
      ? '-0'
      : Number.isNaN(v)
        ? 'NaN'
        : v === Infinity
          ? 'Inf'
          : v === -Infinity
            ? '-Inf'
            : v;
  if (v instanceof Uint8Array) return Array.from(v);
  return v;
}

describe('value codec round trip (wire value → Postgres text → wire value)', () => {
  for (const type of ALL_SCALARS) {
    const name = `${ValueEncoding[type.encoding]}${'single' in type ? (type.single ? '4' : '8') : ''}${'withTimeZone' in type ? (type.withTimeZone ? 'tz' : '') : ''}`;
    it(`${name} survives decode → encode exactly, also through the binary wire format`, () => {
      fc.assert(
        fc.property(nativeOf(type), (native) => {
          const v = wire(scalarValue(type, native));
          const text = decodeValueText(type, v);
          expect(typeof text).toBe('string');
          const back = wire(encodeTextValue(type, text as string));
          expect(sameValue(back, v)).toBe(true);
          // And text → value → text is stable (the text is canonical).
          expect(decodeValueText(type, back)).toBe(text);
        }),
        { numRuns: 500 },
      );
    });

    it(`${name} arrays survive decode → encode exactly, with NULL elements, dimensions and bounds`, () => {
      const arrType: ValueType = { encoding: ValueEncoding.ARRAY, element: type };
      fc.assert(
        fc.property(arrayValue(type), (v0) => {
          const v = wire(v0);
          const text = decodeValueText(arrType, v) as string;
          const back = wire(encodeTextValue(arrType, text));
          expect(sameValue(back, v)).toBe(true);
          expect(decodeValueText(arrType, back)).toBe(text);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('keeps NULL distinct from empty text, empty bytes and an empty array', () => {
    const text: ValueType = { encoding: ValueEncoding.TEXT };
    const arr: ValueType = { encoding: ValueEncoding.ARRAY, element: text };
    expect(decodeValueText(text, wire(encodeTextValue(text, null)))).toBeNull();
    expect(decodeValueText(text, wire(encodeTextValue(text, '')))).toBe('');
    expect(decodeValueText(arr, wire(encodeTextValue(arr, '{}')))).toBe('{}');
    expect(decodeValueText(arr, wire(encodeTextValue(arr, '{NULL,"NULL",""}')))).toBe('{NULL,"NULL",""}');
    const bytes: ValueType = { encoding: ValueEncoding.BYTES };
    expect(decodeValueText(bytes, wire(encodeTextValue(bytes, '\\x')))).toBe('\\x');
    expect(toBinary(ValueSchema, NULL_VALUE)).not.toEqual(toBinary(ValueSchema, encodeTextValue(text, '')));
  });

  it('returns the unchanged-column marker for any type', () => {
    for (const type of ALL_SCALARS) expect(decodeValueText(type, wire(UNCHANGED_VALUE))).toBe(UNCHANGED);
  });
});

describe('value codec: Postgres text forms', () => {
  const cases: [ValueType, string][] = [
    [{ encoding: ValueEncoding.INT }, '-9223372036854775808'],
    [{ encoding: ValueEncoding.INT }, '9223372036854775807'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '1e+15'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '100000000000000'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '0.0001'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '1e-05'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '1.7976931348623157e+308'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '-0'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, 'NaN'],
    [{ encoding: ValueEncoding.FLOAT, single: false }, '-Infinity'],
    [{ encoding: ValueEncoding.FLOAT, single: true }, '0.1'],
    [{ encoding: ValueEncoding.FLOAT, single: true }, '1e+06'],
    [{ encoding: ValueEncoding.FLOAT, single: true }, '3.4028235e+38'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }, '2024-02-29 23:59:59.999999+00'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }, '4714-11-24 00:00:00+00 BC'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }, '294276-12-31 23:59:59.999999'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }, '0001-01-01 00:00:00.5 BC'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }, 'infinity'],
    [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }, '-infinity'],
    [{ encoding: ValueEncoding.DATE }, '2000-01-01'],
    [{ encoding: ValueEncoding.DATE }, '5874897-12-31'],
    [{ encoding: ValueEncoding.DATE }, '4714-11-24 BC'],
    [{ encoding: ValueEncoding.UUID }, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    [{ encoding: ValueEncoding.BYTES }, '\\xdeadbeef00'],
    [{ encoding: ValueEncoding.VECTOR }, '[1,2.5,-3e-05]'],
    [
      { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.TEXT } },
      '{{"a b",NULL},{"\\"q\\"","\\\\"}}',
    ],
    [{ encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.INT } }, '[0:2]={1,2,3}'],
    [{ encoding: ValueEncoding.TEXT }, '{"a": [1, 2.50, null]}'],
  ];
  for (const [type, text] of cases) {
    it(`${ValueEncoding[type.encoding]} ${text}`, () => {
      expect(decodeValueText(type, wire(encodeTextValue(type, text)))).toBe(text);
    });
  }

  it('reads the non-canonical inputs Postgres accepts', () => {
    const tz: ValueType = { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true };
    expect(decodeValueText(tz, encodeTextValue(tz, '2024-01-01T05:30:00+05:30'))).toBe(
      '2024-01-01 00:00:00+00',
    );
    const uuid: ValueType = { encoding: ValueEncoding.UUID };
    expect(decodeValueText(uuid, encodeTextValue(uuid, '{A0EEBC999C0B4EF8BB6D6BB9BD380A11}'))).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    );
    const bool: ValueType = { encoding: ValueEncoding.BOOL };
    expect(decodeValueText(bool, encodeTextValue(bool, 'yes'))).toBe('t');
  });

  it('rejects text that is not a value of the type with INVALID_VALUE', () => {
    const bad: [ValueType, string][] = [
      [{ encoding: ValueEncoding.INT }, '9223372036854775808'],
      [{ encoding: ValueEncoding.INT }, '1.5'],
      [{ encoding: ValueEncoding.BOOL }, 'maybe'],
      [{ encoding: ValueEncoding.UUID }, 'not-a-uuid'],
      [{ encoding: ValueEncoding.BYTES }, '\\x0'],
      [{ encoding: ValueEncoding.DATE }, '2023-02-29'],
      [{ encoding: ValueEncoding.DATE }, '4714-11-23 BC'],
      [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }, '2024-01-01 00:00:00+00'],
      [{ encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }, '294277-01-01 00:00:00'],
      [{ encoding: ValueEncoding.FLOAT, single: false }, '1,5'],
      [{ encoding: ValueEncoding.VECTOR }, '[1,NaN]'],
      [{ encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.INT } }, '{{1,2},{3}}'],
      [{ encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.INT } }, '{1,x}'],
      [{ encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.INT } }, '{1,2'],
    ];
    for (const [type, text] of bad) {
      let error: unknown;
      try {
        encodeTextValue(type, text);
      } catch (e) {
        error = e;
      }
      expect(isSyncError(error) && error.code === ErrorCode.INVALID_VALUE, `${text} must be rejected`).toBe(
        true,
      );
    }
  });

  it('rejects a wire value of the wrong case with INVALID_VALUE', () => {
    const int: ValueType = { encoding: ValueEncoding.INT };
    const text = create(ValueSchema, { kind: { case: 'textValue', value: '1' } });
    expect(() => decodeValueText(int, text)).toThrow(/INVALID_VALUE/);
    const uuid: ValueType = { encoding: ValueEncoding.UUID };
    expect(() =>
      decodeValueText(uuid, create(ValueSchema, { kind: { case: 'uuidValue', value: new Uint8Array(3) } })),
    ).toThrow(/INVALID_VALUE/);
    expect(() => decodeValueText(int, create(ValueSchema, {}))).toThrow(/INVALID_VALUE/);
  });

  it('rejects a finite double a real cannot hold (overflow, or underflow to zero) with INVALID_VALUE', () => {
    const real: ValueType = { encoding: ValueEncoding.FLOAT, single: true };
    const float = (value: number) => create(ValueSchema, { kind: { case: 'floatValue', value } });
    for (const bad of [3.5e38, -3.4028235677973366e38, 1e-50, -1e-46]) {
      expect(() => decodeValueText(real, float(bad)), String(bad)).toThrow(/INVALID_VALUE/);
    }
    for (const good of [3.4028234663852886e38, 1.401298464324817e-45, 0, -0, Infinity, Number.NaN]) {
      expect(decodeValueText(real, float(good)), String(good)).toBeTypeOf('string');
    }
  });
});

describe('checkValue', () => {
  const ALL_TYPES: ValueType[] = [
    ...ALL_SCALARS,
    ...ALL_SCALARS.map((element) => ({ encoding: ValueEncoding.ARRAY, element }) as ValueType),
  ];
  // Any value of any case, including out-of-range timestamps and dates and UUIDs of the wrong length.
  const anyValue: fc.Arbitrary<Value> = fc.oneof(
    fc.constantFrom(...ALL_SCALARS).chain((t) => nativeOf(t).map((n) => scalarValue(t, n))),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .map((value) => create(ValueSchema, { kind: { case: 'timestampValue', value } })),
    fc.integer().map((value) => create(ValueSchema, { kind: { case: 'dateValue', value } })),
    fc
      .uint8Array({ maxLength: 20 })
      .map((value) => create(ValueSchema, { kind: { case: 'uuidValue', value } })),
    fc.constantFrom(NULL_VALUE, UNCHANGED_VALUE, create(ValueSchema, {})),
    fc.constantFrom(...ALL_SCALARS).chain((t) => arrayValue(t)),
  );
  const outcome = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return isSyncError(e) ? `SyncError ${e.code}` : `other ${String(e)}`;
    }
  };

  it('throws for exactly the values decodeValueText throws for, with the same code', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_TYPES), anyValue, (type, v) => {
        expect(outcome(() => checkValue(type, v))).toBe(outcome(() => decodeValueText(type, v)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('float4 text: ties between two shortest decimals go to the even one, as in Postgres', () => {
  const real: ValueType = { encoding: ValueEncoding.FLOAT, single: true };
  for (const [text, expected] of [
    ['392278.125', '392278.12'],
    ['392278.12', '392278.12'],
    ['0.375', '0.375'],
    ['2.5', '2.5'],
  ] as const) {
    it(`${text} → ${expected}`, () => {
      expect(decodeValueText(real, encodeTextValue(real, text))).toBe(expected);
    });
  }
});

describe('float8 text: a shortest decimal exactly halfway between two doubles is not used, as in Postgres', () => {
  const double: ValueType = { encoding: ValueEncoding.FLOAT, single: false };
  it('4.0681940663093216e+16 keeps 17 digits', () => {
    expect(decodeValueText(double, encodeTextValue(double, '4.0681940663093216e+16'))).toBe(
      '4.0681940663093216e+16',
    );
  });
});
