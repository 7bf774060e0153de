/**
 * Every value type of docs/protocol.md §7 through the apply layer into a real PGlite: the column gets the
 * right Postgres type, and the value read back (as Postgres text, re-encoded for the wire) is the value sent —
 * on the transaction path (upserts over unnest) and on the snapshot path (COPY into staging, then the swap).
 */

import { create } from '@bufbuild/protobuf';
import type { PGlite } from '@electric-sql/pglite';
import {
  ArrayValueSchema,
  encodeTextValue,
  type Relation,
  type Row,
  RowSchema,
  type Value,
  ValueEncoding,
  ValueSchema,
  VectorValueSchema,
  valueTypeOfColumn,
} from '@vibestack/proto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseOf,
  nativeOf,
  pgDate,
  pgFloat4,
  pgFloat8,
  pgText,
  pgTimestamp,
  SCALAR_TYPES,
} from '../../../gen/src/testing/arbitraries.ts';
import type { ApplyWork, TextRow } from '../core/client-types.ts';
import { checkFullRow, describeRelation, fullRow } from '../core/relations.ts';
import { binaryCopyPlan } from './copy-binary.ts';
import type { SyncStore } from './sync-store.ts';
import { col, freshPGlite, openStore, relation, rowsOf } from './testing/pglite.ts';

let db: PGlite;
let store: SyncStore;
beforeAll(async () => {
  db = await freshPGlite();
  store = await openStore(db);
});
afterAll(() => db.close());

const NULL: Value = create(ValueSchema, { kind: { case: 'null', value: true } });
const int = (n: number | bigint): Value['kind'] => ({ case: 'intValue', value: BigInt(n) });
const ts = (value: bigint): Value['kind'] => ({ case: 'timestampValue', value });
const uuid = (value: Uint8Array): Value['kind'] => ({ case: 'uuidValue', value });
const bytes = (value: Uint8Array): Value['kind'] => ({ case: 'bytesValue', value });
const text = (value: string): Value['kind'] => ({ case: 'textValue', value });
/** numeric as Postgres prints it: specials, zeros with a scale, trailing zeros, long whole and fraction parts. */
const numericText = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '0', '0.000', '10000', '0.0001', '-99999999.99990000'),
  fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,40})$/),
      fc.option(fc.stringMatching(/^[0-9]{1,30}$/), { nil: undefined }),
    )
    .map(([negative, whole, fraction]) => {
      const zero = whole === '0' && !/[1-9]/.test(fraction ?? '');
      return `${negative && !zero ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`;
    }),
);
/** JSON text Postgres accepts as json and jsonb (jsonb refuses the \u0000 escape). */
const jsonText = fc.json({ maxDepth: 2 }).filter((s) => !s.includes('\\u0000'));

/** `types`: a key, then every scalar type and an array of each, and a vector (stored as text without pgvector). */
const scalarColumns = SCALAR_TYPES.flatMap(({ pgType, type }, i) => [
  col(`s${i}`, pgType, type.encoding, {
    baseTypeOid:
      type.encoding === ValueEncoding.FLOAT
        ? type.single
          ? 700
          : 701
        : type.encoding === ValueEncoding.TIMESTAMP
          ? type.withTimeZone
            ? 1184
            : 1114
          : 0,
  }),
  col(`a${i}`, `${pgType}[]`, ValueEncoding.ARRAY, {
    elementEncoding: type.encoding,
    elementTypeOid:
      type.encoding === ValueEncoding.FLOAT
        ? type.single
          ? 700
          : 701
        : type.encoding === ValueEncoding.TIMESTAMP
          ? type.withTimeZone
            ? 1184
            : 1114
          : 0,
  }),
]);
const TYPES: Relation = relation(1, 'types', [
  col('id', 'bigint', ValueEncoding.INT, { nullable: false, baseTypeOid: 20 }),
  ...scalarColumns,
  col('v', 'public.vector', ValueEncoding.VECTOR),
]);
const known = describeRelation(TYPES);
const names = TYPES.columns.map((c) => c.name);

const wire = (kind: Value['kind']): Value => create(ValueSchema, { kind });
const scalarValue = (i: number) =>
  fc
    .option(nativeOf(SCALAR_TYPES[i]!.type), { nil: undefined })
    .map((n) =>
      n === undefined ? NULL : wire({ case: caseOf(SCALAR_TYPES[i]!.type), value: n } as Value['kind']),
    );
const arrayValue = (i: number) =>
  fc
    .option(fc.array(scalarValue(i), { maxLength: 3 }), { nil: undefined })
    .map((elements) =>
      elements === undefined
        ? NULL
        : wire({ case: 'arrayValue', value: create(ArrayValueSchema, { elements }) }),
    );
const vectorValue = fc
  .array(fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround), { minLength: 1, maxLength: 4 })
  .map((values) => wire({ case: 'vectorValue', value: create(VectorValueSchema, { values }) }));

const rowArb = (id: number): fc.Arbitrary<Row> =>
  fc
    .tuple(...SCALAR_TYPES.flatMap((_, i) => [scalarValue(i), arrayValue(i)]), vectorValue)
    .map((values) =>
      create(RowSchema, { values: [wire({ case: 'intValue', value: BigInt(id) }), ...values] }),
    );
const rowsArb = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rowArb(i + 1))));

/** The rows as the wire would carry them back: each column's text re-encoded. */
async function readBack(): Promise<Value[][]> {
  const rows = await rowsOf(db, 'public', 'types', names);
  return rows.map((r) => TYPES.columns.map((c) => encodeTextValue(valueTypeOfColumn(c), r[c.name] ?? null)));
}

let lsn = 100n;
async function applyBoth(rows: readonly Row[]): Promise<void> {
  const text: TextRow[] = rows.map((r) => fullRow(known, r));
  const insert: ApplyWork = {
    kind: 'transactions',
    transactions: [
      { commitLsn: ++lsn, changes: text.map((row) => ({ op: 'insert', relation: TYPES, row })) },
    ],
    lsn,
  };
  await store.apply({
    kind: 'transactions',
    transactions: [{ commitLsn: ++lsn, changes: [{ op: 'truncate', relations: [TYPES] }] }],
    lsn,
  });
  await store.apply(insert);
}

describe('values into PGlite (§7)', () => {
  it('creates each column with its Postgres type (vector as text without pgvector)', async () => {
    await applyBoth([]);
    const { rows } = await db.query<{ name: string; type: string; expected: string | null }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, format_type(to_regtype(d.t), NULL) AS expected
         FROM pg_attribute a JOIN unnest($1::text[], $2::text[]) AS d(n, t) ON d.n = a.attname
        WHERE a.attrelid = 'public.types'::regclass`,
      [names, TYPES.columns.map((c) => c.typeName)],
    );
    expect(rows).toHaveLength(names.length);
    for (const r of rows) expect([r.name, r.type]).toEqual([r.name, r.expected ?? 'text']);
  });

  it('round-trips random values of every encoding on the transaction and the snapshot path', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, async (rows) => {
        await applyBoth(rows);
        expect(await readBack()).toEqual(rows.map((r) => r.values));
        await store.apply({ kind: 'snapshot-begin', snapshotId: 's' });
        await store.apply({
          kind: 'snapshot-chunks',
          snapshotId: 's',
          chunks: [{ relation: TYPES, rows: rows.map((r) => checkFullRow(known, r)) }],
          cursor: new Uint8Array([1]),
        });
        await store.apply({
          kind: 'snapshot-commit',
          snapshotId: 's',
          lsn: ++lsn,
          tables: [TYPES],
          rowCounts: [BigInt(rows.length)],
        });
        expect(await readBack()).toEqual(rows.map((r) => r.values));
      }),
      { numRuns: 15 },
    );
  });

  it('stores text-encoded types, enums, domains and multi-dimensional arrays as Postgres prints them', async () => {
    const cases: [string, string, Parameters<typeof col>[3]?][] = [
      ['numeric(12,2)', '12.50'],
      ['numeric', 'NaN'],
      ['interval', '1 year 2 mons 3 days 04:05:06'],
      ['time without time zone', '04:05:06.789'],
      ['time with time zone', '04:05:06+02'],
      ['json', '{"b": 1,"a":[2]}'],
      ['jsonb', '{"a": 1, "bb": [true, null]}'],
      ['inet', '192.168.0.1/24'],
      ['cidr', '10.0.0.0/8'],
      ['macaddr', '08:00:2b:01:02:03'],
      ['money', '$1,234.50'],
      ['int4range', '[1,5)'],
      ['tstzrange', '["2024-01-01 00:00:00+00","2024-01-02 00:00:00+00")'],
      ['bit(3)', '101'],
      ['bit varying', '1101'],
      ['tsvector', "'a' 'b'"],
      ['pg_lsn', '16/B374D848'],
      ['point', '(1,2)'],
      ['box[]', '{(1,1),(0,0);(2,2),(1,1)}'],
      ['character varying(10)', 'a\'b"c\\d'],
      ['character(3)', 'ab '],
      ['"char"', 'x'],
      ['citext_missing_type', 'kept as text'],
      ['public.mood', 'b', { enumLabels: ['a', 'b', 'c'] }],
    ];
    const columns = cases.map(([t, , extra], i) => col(`c${i}`, t, ValueEncoding.TEXT, extra ?? {}));
    const arrays: [string, string, ValueEncoding, number][] = [
      ['integer[]', '{{1,2},{3,4}}', ValueEncoding.INT, 23],
      ['integer[]', '[0:1]={7,8}', ValueEncoding.INT, 23],
      ['text[]', '{a,"",NULL,"NULL","b,c","d\\"e"}', ValueEncoding.TEXT, 25],
      ['public.mood[]', '{a,c}', ValueEncoding.TEXT, 0],
    ];
    for (const [i, [t, , element, oid]] of arrays.entries()) {
      columns.push(
        col(`x${i}`, t, ValueEncoding.ARRAY, {
          elementEncoding: element,
          elementTypeOid: oid,
          ...(t.startsWith('public.mood') ? { enumLabels: ['a', 'b', 'c'] } : {}),
        }),
      );
    }
    columns.push(
      col('dom', 'public.posint', ValueEncoding.INT, { baseTypeName: 'integer', baseTypeOid: 23 }),
    );
    const rel = relation(2, 'texts', [
      col('id', 'bigint', ValueEncoding.INT, { baseTypeOid: 20 }),
      ...columns,
    ]);
    const texts = ['1', ...cases.map(([, v]) => v), ...arrays.map(([, v]) => v), '42'];
    const values = rel.columns.map((c, i) => encodeTextValue(valueTypeOfColumn(c), texts[i]!));
    const row = fullRow(describeRelation(rel), create(RowSchema, { values }));
    await store.apply({
      kind: 'transactions',
      transactions: [{ commitLsn: ++lsn, changes: [{ op: 'insert', relation: rel, row }] }],
      lsn,
    });
    const [back] = await rowsOf(
      db,
      'public',
      'texts',
      rel.columns.map((c) => c.name),
    );
    expect(rel.columns.map((c) => back![c.name])).toEqual(texts);
    const { rows } = await db.query<{ t: string }>(
      `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.texts'::regclass AND attname IN ('c23', 'dom', 'c22') ORDER BY attname`,
    );
    expect(rows.map((r) => r.t)).toEqual(['text', 'mood', 'integer']);
  });
});

describe('the binary COPY path of snapshots', () => {
  // Every (encoding, type) with a binary form; `bin` is staged in binary, `txt` (the same types, but described
  // with base_type_oid 0) through COPY text. Both must store exactly the same values.
  const SIMPLE: [string, string, ValueEncoding, number, fc.Arbitrary<Value['kind']>][] = [
    ['b', 'boolean', ValueEncoding.BOOL, 16, fc.boolean().map((value) => ({ case: 'boolValue', value }))],
    ['i2', 'smallint', ValueEncoding.INT, 21, fc.integer({ min: -32768, max: 32767 }).map(int)],
    ['i4', 'integer', ValueEncoding.INT, 23, fc.integer().map(int)],
    ['i8', 'bigint', ValueEncoding.INT, 20, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int)],
    ['o', 'oid', ValueEncoding.INT, 26, fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map(int)],
    ['f4', 'real', ValueEncoding.FLOAT, 700, pgFloat4.map((value) => ({ case: 'floatValue', value }))],
    [
      'f8',
      'double precision',
      ValueEncoding.FLOAT,
      701,
      pgFloat8.map((value) => ({ case: 'floatValue', value })),
    ],
    ['ts', 'timestamp', ValueEncoding.TIMESTAMP, 1114, pgTimestamp.map(ts)],
    ['tz', 'timestamp with time zone', ValueEncoding.TIMESTAMP, 1184, pgTimestamp.map(ts)],
    ['d', 'date', ValueEncoding.DATE, 1082, pgDate.map((value) => ({ case: 'dateValue', value }))],
    ['u', 'uuid', ValueEncoding.UUID, 2950, fc.uint8Array({ minLength: 16, maxLength: 16 }).map(uuid)],
    ['by', 'bytea', ValueEncoding.BYTES, 17, fc.uint8Array({ maxLength: 40 }).map(bytes)],
    ['t', 'text', ValueEncoding.TEXT, 25, pgText.map(text)],
    [
      'vc',
      'character varying(30)',
      ValueEncoding.TEXT,
      1043,
      pgText.filter((s) => [...s].length <= 30).map(text),
    ],
    ['bp', 'character(4)', ValueEncoding.TEXT, 1042, pgText.filter((s) => [...s].length <= 4).map(text)],
    ['j', 'json', ValueEncoding.TEXT, 114, jsonText.map(text)],
    ['jb', 'jsonb', ValueEncoding.TEXT, 3802, jsonText.map(text)],
    ['num', 'numeric', ValueEncoding.TEXT, 1700, numericText.map(text)],
  ];
  // Arrays of some of them: [name, type, array OID, element encoding, element OID, element values].
  const ARRAYS: [string, string, number, ValueEncoding, number, fc.Arbitrary<Value['kind']>][] = [
    ['ai4', 'integer[]', 1007, ValueEncoding.INT, 23, fc.integer().map(int)],
    ['at', 'text[]', 1009, ValueEncoding.TEXT, 25, pgText.map(text)],
    ['atz', 'timestamp with time zone[]', 1185, ValueEncoding.TIMESTAMP, 1184, pgTimestamp.map(ts)],
    [
      'au',
      'uuid[]',
      2951,
      ValueEncoding.UUID,
      2950,
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map(uuid),
    ],
    [
      'af4',
      'real[]',
      1021,
      ValueEncoding.FLOAT,
      700,
      pgFloat4.map((value) => ({ case: 'floatValue', value })),
    ],
    [
      'ab',
      'boolean[]',
      1000,
      ValueEncoding.BOOL,
      16,
      fc.boolean().map((value) => ({ case: 'boolValue', value })),
    ],
    ['aby', 'bytea[]', 1001, ValueEncoding.BYTES, 17, fc.uint8Array({ maxLength: 8 }).map(bytes)],
    ['ajb', 'jsonb[]', 3807, ValueEncoding.TEXT, 3802, jsonText.map(text)],
    ['anum', 'numeric[]', 1231, ValueEncoding.TEXT, 1700, numericText.map(text)],
  ];
  /** Arrays of `element`: one-dimensional (maybe empty), or two-dimensional with a lower bound; NULLs inside. */
  const arrayOf = (element: fc.Arbitrary<Value['kind']>): fc.Arbitrary<Value['kind']> => {
    const elements = (n: number) =>
      fc
        .array(fc.option(element, { nil: undefined }), { minLength: n, maxLength: n })
        .map((ks) => ks.map((k) => (k === undefined ? NULL : wire(k))));
    return fc.oneof(
      fc
        .integer({ min: 0, max: 4 })
        .chain(elements)
        .map((els) => ({ case: 'arrayValue' as const, value: create(ArrayValueSchema, { elements: els }) })),
      fc
        .tuple(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: -2, max: 3 }),
        )
        .chain(([a, b, lb]) =>
          elements(a * b).map((els) => ({
            case: 'arrayValue' as const,
            value: create(ArrayValueSchema, {
              elements: els,
              dims: [a, b],
              lowerBounds: lb === 1 ? [] : [lb, 1],
            }),
          })),
        ),
    );
  };
  const describeAs = (id: number, name: string, binary: boolean) =>
    relation(id, name, [
      col('id', 'bigint', ValueEncoding.INT, { nullable: false, baseTypeOid: binary ? 20 : 0 }),
      ...SIMPLE.map(([n, t, encoding, oid]) => col(n, t, encoding, { baseTypeOid: binary ? oid : 0 })),
      ...ARRAYS.map(([n, t, oid, elementEncoding, elementTypeOid]) =>
        col(n, t, ValueEncoding.ARRAY, { baseTypeOid: binary ? oid : 0, elementEncoding, elementTypeOid }),
      ),
    ]);
  const BIN = describeAs(10, 'bin', true);
  const TXT = describeAs(11, 'txt', false);
  const columnNames = BIN.columns.map((c) => c.name);
  const simpleRows = fc
    .array(
      fc.tuple(
        ...SIMPLE.map(([, , , , kind]) => fc.option(kind, { nil: undefined })),
        ...ARRAYS.map(([, , , , , element]) => fc.option(arrayOf(element), { nil: undefined })),
      ),
      {
        minLength: 1,
        maxLength: 8,
      },
    )
    .map((rows) =>
      rows.map((values, i) =>
        create(RowSchema, {
          values: [wire(int(i + 1)), ...values.map((k) => (k === undefined ? NULL : wire(k)))],
        }),
      ),
    );

  async function snapshot(rel: Relation, rows: readonly Row[]): Promise<void> {
    const checked = rows.map((r) => checkFullRow(describeRelation(rel), r));
    await store.apply({ kind: 'snapshot-begin', snapshotId: rel.name });
    // Two chunks in one group: one COPY of both.
    await store.apply({
      kind: 'snapshot-chunks',
      snapshotId: rel.name,
      chunks: [
        { relation: rel, rows: checked.slice(0, 2) },
        { relation: rel, rows: checked.slice(2) },
      ],
      cursor: new Uint8Array([1]),
    });
    await store.apply({
      kind: 'snapshot-commit',
      snapshotId: rel.name,
      lsn: ++lsn,
      tables: [rel],
      rowCounts: [BigInt(rows.length)],
    });
  }

  it('takes the binary path only where every local column type is the described base type', async () => {
    await snapshot(BIN, []);
    await snapshot(TXT, []);
    const oidsOf = async (table: string) =>
      (
        await db.query<{ oid: string }>(
          `SELECT atttypid::text AS oid FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          [table],
        )
      ).rows.map((r) => Number(r.oid));
    expect(binaryCopyPlan(BIN.columns, await oidsOf('public.bin'))).toBeDefined();
    expect(binaryCopyPlan(TXT.columns, await oidsOf('public.txt'))).toBeUndefined();
    expect(binaryCopyPlan(TYPES.columns, await oidsOf('public.types'))).toBeUndefined();
  });

  it('falls back to COPY text for a numeric written in a form Postgres does not print', async () => {
    const values = BIN.columns.map((c) =>
      c.name === 'id' ? wire(int(1)) : c.name === 'num' ? wire(text('1.5e3')) : NULL,
    );
    await snapshot(BIN, [create(RowSchema, { values })]);
    expect((await rowsOf(db, 'public', 'bin', ['id', 'num']))[0]).toEqual({ id: '1', num: '1500' });
  });

  it('stores exactly what COPY text stores, for random values of every binary type', async () => {
    await fc.assert(
      fc.asyncProperty(simpleRows, async (rows) => {
        // (A snapshot is the whole synced state: staging `txt` empties `bin`.)
        await snapshot(BIN, rows);
        const bin = await rowsOf(db, 'public', 'bin', columnNames);
        await snapshot(TXT, rows);
        expect(bin).toHaveLength(rows.length);
        expect(bin).toEqual(await rowsOf(db, 'public', 'txt', columnNames));
        // And the value sent: each column's text re-encoded gives the wire value back (jsonb normalises).
        const back = bin.map((r) =>
          BIN.columns.map((c) => encodeTextValue(valueTypeOfColumn(c), r[c.name] ?? null)),
        );
        const sent = rows.map((r) => r.values);
        for (const [i, row] of back.entries()) {
          for (const [j, v] of row.entries()) {
            // jsonb normalises its text; char(n) pads.
            if (['jb', 'bp', 'ajb'].includes(BIN.columns[j]!.name)) continue;
            expect([j, v], BIN.columns[j]!.name).toEqual([j, sent[i]![j]]);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
