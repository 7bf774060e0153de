/**
 * The value codec against a real Postgres: for random values of every type, the text the codec produces is
 * byte for byte the text Postgres prints for the same value, and Postgres's own output encodes back to the
 * same wire value. (pgvector is not in embedded Postgres: `vector` is covered by the unit tests.)
 */

import { create } from '@bufbuild/protobuf';
import { createTestDatabase, type TestDatabase } from '@vibestack/server/dev';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXT_VALUE_SESSION_SETTINGS } from '../constants.ts';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import { type Value, ValueSchema } from '../gen/vibestack/sync/v1/value_pb.ts';
import { caseOf, nativeOf, pgText, SCALAR_TYPES } from '../testing/arbitraries.ts';
import { formatPgArray } from './pg-array.ts';
import { decodeValueText, encodeTextValue } from './value-codec.ts';
import type { ValueType } from './value-type.ts';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  // Every column comes back as the raw text Postgres's output function produced (what pgoutput sends).
  client = new pg.Client({
    connectionString: db.url,
    types: { getTypeParser: () => (text: string) => text },
  });
  await client.connect();
  for (const [name, value] of Object.entries(TEXT_VALUE_SESSION_SETTINGS)) {
    await client.query('SELECT set_config($1, $2, false)', [name, value]);
  }
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Round-trips texts through Postgres's input and output functions of `pgType`, in one query. */
async function viaPostgres(pgType: string, texts: (string | null)[]): Promise<(string | null)[]> {
  // pgType comes from the fixed list in this file, never from input.
  const { rows } = await client.query<{ t: string | null }>(
    `SELECT x::${pgType} AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i`,
    [texts],
  );
  return rows.map((r) => r.t);
}

function wireValue(type: ValueType, native: unknown): Value {
  return create(ValueSchema, { kind: { case: caseOf(type), value: native } as Value['kind'] });
}

describe('value codec against real Postgres', () => {
  for (const { pgType, type } of SCALAR_TYPES) {
    it(`${pgType}: our text equals Postgres's text, and Postgres's text encodes back to the same value`, async () => {
      const natives = fc.sample(nativeOf(type), { seed: 7, numRuns: 400 });
      const ours = natives.map((n) => decodeValueText(type, wireValue(type, n)) as string);
      const theirs = await viaPostgres(pgType, ours);
      expect(theirs).toEqual(ours);
      for (const [i, text] of theirs.entries()) {
        expect(decodeValueText(type, encodeTextValue(type, text))).toBe(ours[i]);
      }
    });
  }

  it('arrays: our array literals equal Postgres array output, any nesting, quoting, NULLs and bounds', async () => {
    const arrays = fc.sample(
      fc
        .tuple(
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: -2, max: 2 }),
        )
        .chain(([dims, lb]) => {
          const n = dims.reduce((a, b) => a * b, 1);
          return fc
            .array(fc.option(pgText, { nil: null, freq: 5 }), { minLength: n, maxLength: n })
            .map((elements) => ({ elements, dims, lowerBounds: dims.map(() => lb) }));
        }),
      { seed: 11, numRuns: 300 },
    );
    const ours = arrays.map(formatPgArray);
    expect(await viaPostgres('text[]', ours)).toEqual(ours);
    const arrType: ValueType = { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.TEXT } };
    for (const text of ours) expect(decodeValueText(arrType, encodeTextValue(arrType, text))).toBe(text);
  });

  const typedArrays: [string, ValueType][] = [
    ['bigint[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.INT } }],
    [
      'double precision[]',
      { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.FLOAT, single: false } },
    ],
    ['real[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.FLOAT, single: true } }],
    [
      'timestamptz[]',
      { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true } },
    ],
    ['date[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.DATE } }],
    ['uuid[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.UUID } }],
    ['bytea[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.BYTES } }],
    ['boolean[]', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.BOOL } }],
  ];
  for (const [pgType, type] of typedArrays) {
    it(`${pgType}: typed array output matches Postgres`, async () => {
      if (type.encoding !== ValueEncoding.ARRAY) throw new Error('array types only');
      const natives = fc.sample(
        fc.array(fc.option(nativeOf(type.element), { nil: null, freq: 6 }), { maxLength: 5 }),
        {
          seed: 3,
          numRuns: 150,
        },
      );
      const ours = natives.map((els) =>
        formatPgArray({
          elements: els.map((n) =>
            n === null ? null : (decodeValueText(type.element, wireValue(type.element, n)) as string),
          ),
          dims: els.length === 0 ? [] : [els.length],
          lowerBounds: els.length === 0 ? [] : [1],
        }),
      );
      const theirs = await viaPostgres(pgType, ours);
      expect(theirs).toEqual(ours);
      for (const text of ours) expect(decodeValueText(type, encodeTextValue(type, text))).toBe(text);
    });
  }

  it('values Postgres computes itself (not produced by our formatter) survive encode → decode', async () => {
    const { rows } = await client.query<{
      f8: string;
      f4: string;
      ts: string;
      tstz: string;
      d: string;
      n: string;
    }>(`
      SELECT (random() * 10 ^ (random() * 600 - 300))::float8::text AS f8,
             (random() * 10 ^ (random() * 70 - 35))::float4::text AS f4,
             (timestamp '4714-11-24 00:00:00 BC' + (random() * 109000000)::int * interval '1 day'
               + random() * interval '1 day')::text AS ts,
             (now() + (random() - 0.5) * interval '100000 days')::text AS tstz,
             (date '2000-01-01' + (random() * 4000000 - 2000000)::int)::text AS d,
             (i * 1234567890123)::bigint::text AS n
      FROM generate_series(1, 3000) AS i`);
    const types = {
      f8: { encoding: ValueEncoding.FLOAT, single: false },
      f4: { encoding: ValueEncoding.FLOAT, single: true },
      ts: { encoding: ValueEncoding.TIMESTAMP, withTimeZone: false },
      tstz: { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true },
      d: { encoding: ValueEncoding.DATE },
      n: { encoding: ValueEncoding.INT },
    } as const satisfies Record<string, ValueType>;
    for (const row of rows) {
      for (const [col, type] of Object.entries(types)) {
        const text = row[col as keyof typeof row];
        expect(decodeValueText(type, encodeTextValue(type, text)), `${col} ${text}`).toBe(text);
      }
    }
  });
});
