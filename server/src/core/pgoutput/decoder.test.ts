import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNCHANGED_DATUM } from '../change.ts';
import { POSTGRES_EPOCH_OFFSET_US } from './constants.ts';
import { createPgoutputDecoder, decodePgoutputMessage } from './decoder.ts';
import { isPgoutputDecodeError, PgoutputDecodeError } from './errors.ts';
import type { PgoutputMessage, RelationColumn, TupleData, TupleValue } from './messages.ts';
import { ByteWriter, encodePgoutputMessage } from './test-encoder.ts';

const w = (): ByteWriter => new ByteWriter();
const ch = (c: string): number => c.charCodeAt(0);

function decodeError(bytes: Uint8Array, inStream = false): PgoutputDecodeError {
  try {
    decodePgoutputMessage(bytes, { inStream });
  } catch (error) {
    if (error instanceof PgoutputDecodeError) return error;
    throw error;
  }
  throw new Error(`decoded without error: ${Array.from(bytes).join(',')}`);
}

describe('decodePgoutputMessage: hand-built messages', () => {
  it('Begin: final LSN, commit time converted from the 2000 epoch to µs since 1970, xid', () => {
    const bytes = Uint8Array.from([
      ch('B'),
      ...[0x00, 0x00, 0x00, 0x01, 0x16, 0xb3, 0xa2, 0xc8],
      ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      ...[0x00, 0x00, 0x04, 0xd2],
    ]);
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'begin',
      finalLsn: 0x1_16b3_a2c8n,
      commitTimeUs: 946_684_800_000_000n,
      xid: 1234,
    });
  });

  it('Begin: LSN and xid above 2^63 / 2^31 stay unsigned; timestamps before 2000 and -infinity convert exactly', () => {
    const bytes = w().char('B').u64(0xffff_ffff_ffff_fffen).u64(-1n).u32(0xffff_fffe).finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'begin',
      finalLsn: 0xffff_ffff_ffff_fffen,
      commitTimeUs: POSTGRES_EPOCH_OFFSET_US - 1n,
      xid: 0xffff_fffe,
    });
    const minusInfinity = w()
      .char('B')
      .u64(1n)
      .u64(-(2n ** 63n))
      .u32(1)
      .finish();
    expect(decodePgoutputMessage(minusInfinity)).toMatchObject({
      commitTimeUs: -(2n ** 63n) + POSTGRES_EPOCH_OFFSET_US,
    });
  });

  it('Commit', () => {
    const bytes = w().char('C').u8(0).u64(0x10n).u64(0x38n).u64(1_000_000n).finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'commit',
      flags: 0,
      commitLsn: 0x10n,
      endLsn: 0x38n,
      commitTimeUs: POSTGRES_EPOCH_OFFSET_US + 1_000_000n,
    });
  });

  it('Origin', () => {
    const bytes = w().char('O').u64(77n).cstring('node_a').finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({ type: 'origin', originLsn: 77n, name: 'node_a' });
  });

  it('Relation: columns with key flag, type OID, typmod; empty namespace is pg_catalog', () => {
    const bytes = w()
      .char('R')
      .u32(16384)
      .cstring('public')
      .cstring('tâches')
      .char('d')
      .i16(2)
      .u8(1)
      .cstring('id')
      .u32(23)
      .u32(-1)
      .u8(0)
      .cstring('title')
      .u32(1043)
      .u32(124)
      .finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'relation',
      relationOid: 16384,
      namespace: 'public',
      name: 'tâches',
      replicaIdentity: 'd',
      columns: [
        { flags: 1, isKey: true, name: 'id', typeOid: 23, typeModifier: -1 },
        { flags: 0, isKey: false, name: 'title', typeOid: 1043, typeModifier: 124 },
      ],
    });
    const catalog = w().char('R').u32(1).cstring('').cstring('pg_x').char('f').i16(0).finish();
    expect(decodePgoutputMessage(catalog)).toMatchObject({ namespace: 'pg_catalog', replicaIdentity: 'f' });
  });

  it('Type', () => {
    const bytes = w().char('Y').u32(16390).cstring('public').cstring('mood').finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'type',
      typeOid: 16390,
      namespace: 'public',
      name: 'mood',
    });
  });

  it("Insert with every tuple kind: 't' text (UTF-8), 'n' null, 'u' unchanged, 'b' binary", () => {
    const bytes = w()
      .char('I')
      .u32(16384)
      .char('N')
      .i16(4)
      .char('t')
      .u32(5)
      .raw([0x68, 0xc3, 0xa9, 0x6c, 0x6f]) // "hélo"
      .char('n')
      .char('u')
      .char('b')
      .u32(3)
      .raw([0, 255, 7])
      .finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'insert',
      relationOid: 16384,
      newTuple: ['hélo', null, UNCHANGED_DATUM, Uint8Array.from([0, 255, 7])],
    });
  });

  it('Insert: a leading byte-order mark is data and is kept', () => {
    const bytes = w()
      .char('I')
      .u32(1)
      .char('N')
      .i16(1)
      .char('t')
      .u32(4)
      .raw([0xef, 0xbb, 0xbf, 0x41])
      .finish();
    expect(decodePgoutputMessage(bytes)).toMatchObject({ newTuple: ['\uFEFFA'] });
  });

  it('Insert: empty text and zero columns', () => {
    const bytes = w().char('I').u32(1).char('N').i16(1).char('t').u32(0).finish();
    expect(decodePgoutputMessage(bytes)).toMatchObject({ newTuple: [''] });
    const none = w().char('I').u32(1).char('N').i16(0).finish();
    expect(decodePgoutputMessage(none)).toMatchObject({ newTuple: [] });
  });

  it("Update without old tuple, with 'K' key and with 'O' full old row", () => {
    const tuple = (value: string) =>
      w().i16(1).char('t').u32(value.length).raw(new TextEncoder().encode(value));
    const plain = w().char('U').u32(9).char('N').raw(tuple('new').finish()).finish();
    expect(decodePgoutputMessage(plain)).toStrictEqual({ type: 'update', relationOid: 9, newTuple: ['new'] });
    const key = w().char('U').u32(9).char('K').raw(tuple('k').finish()).char('N').raw(tuple('n').finish());
    expect(decodePgoutputMessage(key.finish())).toStrictEqual({
      type: 'update',
      relationOid: 9,
      old: { kind: 'key', tuple: ['k'] },
      newTuple: ['n'],
    });
    const full = w().char('U').u32(9).char('O').raw(tuple('o').finish()).char('N').raw(tuple('n').finish());
    expect(decodePgoutputMessage(full.finish())).toMatchObject({ old: { kind: 'full', tuple: ['o'] } });
  });

  it("Delete with 'K' and 'O'", () => {
    const key = w().char('D').u32(5).char('K').i16(2).char('t').u32(1).char('1').char('n').finish();
    expect(decodePgoutputMessage(key)).toStrictEqual({
      type: 'delete',
      relationOid: 5,
      old: { kind: 'key', tuple: ['1', null] },
    });
    const full = w().char('D').u32(5).char('O').i16(1).char('n').finish();
    expect(decodePgoutputMessage(full)).toMatchObject({ old: { kind: 'full', tuple: [null] } });
  });

  it('Truncate: options bits and relation OIDs', () => {
    const bytes = w().char('T').u32(2).u8(3).u32(100).u32(0xffff_ffff).finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'truncate',
      options: 3,
      cascade: true,
      restartIdentity: true,
      relationOids: [100, 0xffff_ffff],
    });
    const plain = w().char('T').u32(1).u8(0).u32(100).finish();
    expect(decodePgoutputMessage(plain)).toMatchObject({ cascade: false, restartIdentity: false });
  });

  it('Message: transactional flag, LSN, prefix, content bytes', () => {
    const bytes = w().char('M').u8(1).u64(0x99n).cstring('vibestack').u32(3).raw([1, 2, 3]).finish();
    expect(decodePgoutputMessage(bytes)).toStrictEqual({
      type: 'message',
      flags: 1,
      transactional: true,
      lsn: 0x99n,
      prefix: 'vibestack',
      content: Uint8Array.from([1, 2, 3]),
    });
    const loose = w().char('M').u8(0).u64(1n).cstring('').u32(0).finish();
    expect(decodePgoutputMessage(loose)).toMatchObject({ transactional: false, content: new Uint8Array() });
  });

  it('Stream Start / Stop / Commit / Abort (v2) and the v4 abort with LSN and time', () => {
    expect(decodePgoutputMessage(w().char('S').u32(700).u8(1).finish())).toStrictEqual({
      type: 'stream-start',
      xid: 700,
      firstSegment: true,
    });
    expect(decodePgoutputMessage(w().char('S').u32(700).u8(0).finish())).toMatchObject({
      firstSegment: false,
    });
    expect(decodePgoutputMessage(Uint8Array.of(ch('E')))).toStrictEqual({ type: 'stream-stop' });
    expect(
      decodePgoutputMessage(w().char('c').u32(700).u8(0).u64(5n).u64(6n).u64(7n).finish()),
    ).toStrictEqual({
      type: 'stream-commit',
      xid: 700,
      flags: 0,
      commitLsn: 5n,
      endLsn: 6n,
      commitTimeUs: POSTGRES_EPOCH_OFFSET_US + 7n,
    });
    expect(decodePgoutputMessage(w().char('A').u32(700).u32(701).finish())).toStrictEqual({
      type: 'stream-abort',
      xid: 700,
      subxid: 701,
    });
    expect(decodePgoutputMessage(w().char('A').u32(700).u32(700).u64(9n).u64(0n).finish())).toStrictEqual({
      type: 'stream-abort',
      xid: 700,
      subxid: 700,
      abortLsn: 9n,
      abortTimeUs: POSTGRES_EPOCH_OFFSET_US,
    });
  });

  it('data messages carry an xid inside a stream block only', () => {
    const inside = w().char('I').u32(42).u32(16384).char('N').i16(0).finish();
    expect(decodePgoutputMessage(inside, { inStream: true })).toStrictEqual({
      type: 'insert',
      xid: 42,
      relationOid: 16384,
      newTuple: [],
    });
    // Outside a stream the same bytes are a different (and here malformed) message.
    expect(decodeError(inside).code).toBe('invalid-value');
    const message = w().char('M').u32(42).u8(1).u64(1n).cstring('p').u32(0).finish();
    expect(decodePgoutputMessage(message, { inStream: true })).toMatchObject({ xid: 42, prefix: 'p' });
  });

  it('createPgoutputDecoder tracks Stream Start / Stop', () => {
    const decoder = createPgoutputDecoder();
    const insertIn = w().char('I').u32(42).u32(7).char('N').i16(0).finish();
    const insertOut = w().char('I').u32(7).char('N').i16(0).finish();
    expect(decoder.inStream).toBe(false);
    decoder.decode(w().char('S').u32(42).u8(1).finish());
    expect(decoder.inStream).toBe(true);
    expect(decoder.decode(insertIn)).toMatchObject({ xid: 42, relationOid: 7 });
    decoder.decode(Uint8Array.of(ch('E')));
    expect(decoder.inStream).toBe(false);
    expect(decoder.decode(insertOut)).toStrictEqual({ type: 'insert', relationOid: 7, newTuple: [] });
  });

  it('decodes from a view into a larger buffer (byteOffset ≠ 0)', () => {
    const message = w().char('O').u64(1n).cstring('x').finish();
    const big = new Uint8Array(message.length + 10);
    big.set(message, 5);
    expect(decodePgoutputMessage(big.subarray(5, 5 + message.length))).toMatchObject({ name: 'x' });
  });
});

describe('decodePgoutputMessage: malformed input', () => {
  it('empty buffer and unknown tag', () => {
    expect(decodeError(new Uint8Array())).toMatchObject({ code: 'truncated', offset: 0 });
    expect(decodeError(Uint8Array.of(ch('Z')))).toMatchObject({ code: 'invalid-value', offset: 0 });
  });

  it('reports the offset of the failing field', () => {
    // Begin cut inside the timestamp: the LSN was read, the timestamp starts at 9.
    expect(decodeError(w().char('B').u64(1n).u32(0).finish())).toMatchObject({
      code: 'truncated',
      offset: 9,
    });
    // Unknown tuple kind at offset 8 (tag 1 + oid 4 + 'N' 1 + count 2).
    const bad = w().char('I').u32(1).char('N').i16(1).char('x').finish();
    expect(decodeError(bad)).toMatchObject({ code: 'invalid-value', offset: 8 });
    expect(decodeError(w().char('O').u64(1n).cstring('x').u8(0).finish())).toMatchObject({
      code: 'trailing-bytes',
      offset: 11,
    });
  });

  it('rejects invalid values: replica identity, tuple tags, negative lengths, stream flag', () => {
    expect(decodeError(w().char('R').u32(1).cstring('s').cstring('t').char('x').i16(0).finish()).code).toBe(
      'invalid-value',
    );
    expect(decodeError(w().char('I').u32(1).char('K').i16(0).finish()).code).toBe('invalid-value');
    expect(decodeError(w().char('U').u32(1).char('K').i16(0).char('O').i16(0).finish()).code).toBe(
      'invalid-value',
    );
    expect(decodeError(w().char('D').u32(1).char('N').i16(0).finish()).code).toBe('invalid-value');
    expect(decodeError(w().char('I').u32(1).char('N').i16(1).char('t').u32(-1).finish()).code).toBe(
      'invalid-value',
    );
    expect(decodeError(w().char('I').u32(1).char('N').i16(-1).finish()).code).toBe('invalid-value');
    expect(decodeError(w().char('T').u32(-5).u8(0).finish()).code).toBe('invalid-value');
    expect(decodeError(w().char('S').u32(1).u8(2).finish()).code).toBe('invalid-value');
  });

  it('rejects invalid UTF-8 in text values and names', () => {
    const text = w().char('I').u32(1).char('N').i16(1).char('t').u32(2).raw([0xc3, 0x28]).finish();
    expect(decodeError(text)).toMatchObject({ code: 'invalid-utf8', offset: 13 });
    expect(decodeError(w().char('O').u64(1n).raw([0xff, 0]).finish()).code).toBe('invalid-utf8');
  });

  it('rejects huge counts before allocating', () => {
    expect(decodeError(w().char('T').u32(0x7fff_ffff).u8(0).finish()).code).toBe('truncated');
    expect(decodeError(w().char('I').u32(1).char('N').i16(0x7fff).finish()).code).toBe('truncated');
    expect(decodeError(w().char('I').u32(1).char('N').i16(1).char('t').u32(0x7fff_ffff).finish()).code).toBe(
      'truncated',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------------------------

// fast-check may build null-prototype records; decoded messages are plain objects (toStrictEqual tells them apart).
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const lsn = fc.bigInt(0n, 2n ** 64n - 1n);
const timestampUs = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((pg) => pg + POSTGRES_EPOCH_OFFSET_US);
const name = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));
const namespace = name.filter((s) => s !== '');
const optionalXid = fc.option(u32, { nil: undefined });
const tupleValue: fc.Arbitrary<TupleValue> = fc.oneof(
  fc.constant(null),
  fc.constant(UNCHANGED_DATUM),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.uint8Array({ maxLength: 20 }),
);
const tuple: fc.Arbitrary<TupleData> = fc.array(tupleValue, { maxLength: 12 });
const column: fc.Arbitrary<RelationColumn> = fc
  .record({
    flags: fc.integer({ min: 0, max: 255 }),
    name,
    typeOid: u32,
    typeModifier: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  })
  .map((c) => ({
    flags: c.flags,
    isKey: (c.flags & 1) !== 0,
    name: c.name,
    typeOid: c.typeOid,
    typeModifier: c.typeModifier,
  }));
const oldTuple = record({ kind: fc.constantFrom('key' as const, 'full' as const), tuple });

function withOptionalXid<T extends object>(arb: fc.Arbitrary<T>): fc.Arbitrary<T & { xid?: number }> {
  return fc
    .tuple(arb, optionalXid)
    .map(([message, xid]) => (xid === undefined ? message : { ...message, xid }));
}

const message: fc.Arbitrary<PgoutputMessage> = fc.oneof(
  record({ type: fc.constant('begin' as const), finalLsn: lsn, commitTimeUs: timestampUs, xid: u32 }),
  record({
    type: fc.constant('commit' as const),
    flags: fc.integer({ min: 0, max: 255 }),
    commitLsn: lsn,
    endLsn: lsn,
    commitTimeUs: timestampUs,
  }),
  record({ type: fc.constant('origin' as const), originLsn: lsn, name }),
  withOptionalXid(
    record({
      type: fc.constant('relation' as const),
      relationOid: u32,
      namespace,
      name,
      replicaIdentity: fc.constantFrom('d' as const, 'n' as const, 'f' as const, 'i' as const),
      columns: fc.array(column, { maxLength: 10 }),
    }),
  ),
  withOptionalXid(record({ type: fc.constant('type' as const), typeOid: u32, namespace, name })),
  withOptionalXid(record({ type: fc.constant('insert' as const), relationOid: u32, newTuple: tuple })),
  withOptionalXid(
    fc.record(
      { type: fc.constant('update' as const), relationOid: u32, old: oldTuple, newTuple: tuple },
      { requiredKeys: ['type', 'relationOid', 'newTuple'], noNullPrototype: true },
    ),
  ),
  withOptionalXid(record({ type: fc.constant('delete' as const), relationOid: u32, old: oldTuple })),
  withOptionalXid(
    record({ options: fc.integer({ min: 0, max: 255 }), relationOids: fc.array(u32, { maxLength: 8 }) }).map(
      ({ options, relationOids }) => ({
        type: 'truncate' as const,
        options,
        cascade: (options & 1) !== 0,
        restartIdentity: (options & 2) !== 0,
        relationOids,
      }),
    ),
  ),
  withOptionalXid(
    fc
      .record({
        flags: fc.integer({ min: 0, max: 255 }),
        lsn,
        prefix: name,
        content: fc.uint8Array({ maxLength: 64 }),
      })
      .map((m) => ({ type: 'message' as const, transactional: (m.flags & 1) !== 0, ...m })),
  ),
  record({ type: fc.constant('stream-start' as const), xid: u32, firstSegment: fc.boolean() }),
  fc.constant({ type: 'stream-stop' as const }),
  record({
    type: fc.constant('stream-commit' as const),
    xid: u32,
    flags: fc.integer({ min: 0, max: 255 }),
    commitLsn: lsn,
    endLsn: lsn,
    commitTimeUs: timestampUs,
  }),
  fc.oneof(
    record({ type: fc.constant('stream-abort' as const), xid: u32, subxid: u32 }),
    record({
      type: fc.constant('stream-abort' as const),
      xid: u32,
      subxid: u32,
      abortLsn: lsn,
      abortTimeUs: timestampUs,
    }),
  ),
);

const inStreamOf = (m: PgoutputMessage): boolean => 'xid' in m && m.xid !== undefined && isDataMessage(m);
const isDataMessage = (m: PgoutputMessage): boolean =>
  ['relation', 'type', 'insert', 'update', 'delete', 'truncate', 'message'].includes(m.type);

/** Decodes random bytes: returns normally or throws a PgoutputDecodeError, nothing else. */
function decodeOrDecodeError(bytes: Uint8Array, inStream: boolean): void {
  try {
    decodePgoutputMessage(bytes, { inStream });
  } catch (error) {
    if (!isPgoutputDecodeError(error)) throw error;
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(bytes.length);
  }
}

const TAGS = 'BCORYIUDTMSEcA'.split('').map(ch);

describe('decodePgoutputMessage: properties', () => {
  it('decode(encode(m)) = m for every message type', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodePgoutputMessage(encodePgoutputMessage(m), { inStream: inStreamOf(m) })).toStrictEqual(m);
      }),
      { numRuns: 3000 },
    );
  });

  it('every strict prefix of a valid message throws PgoutputDecodeError', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodePgoutputMessage(m);
        const inStream = inStreamOf(m);
        for (let cut = 0; cut < bytes.length; cut++) {
          // A v4 Stream Abort cut after the subxid is a complete v2 Stream Abort.
          if (m.type === 'stream-abort' && cut === 9) continue;
          expect(() => decodePgoutputMessage(bytes.subarray(0, cut), { inStream })).toThrow(
            PgoutputDecodeError,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a valid message followed by extra bytes throws PgoutputDecodeError', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ minLength: 1, maxLength: 4 }), (m, extra) => {
        const bytes = encodePgoutputMessage(m);
        const longer = new Uint8Array(bytes.length + extra.length);
        longer.set(bytes);
        longer.set(extra, bytes.length);
        // 16 extra bytes would turn a v2 Stream Abort into a v4 one; at most 4 never do.
        expect(() => decodePgoutputMessage(longer, { inStream: inStreamOf(m) })).toThrow(PgoutputDecodeError);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes decode or throw PgoutputDecodeError, never anything else', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .tuple(fc.constantFrom(...TAGS), fc.uint8Array({ maxLength: 96 }))
        .map(([tag, rest]) => Uint8Array.of(tag, ...rest)),
    );
    fc.assert(
      fc.property(bytes, fc.boolean(), (b, inStream) => decodeOrDecodeError(b, inStream)),
      { numRuns: 20_000 },
    );
  });

  it('valid messages with a mutated byte decode or throw PgoutputDecodeError', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, delta) => {
        const bytes = encodePgoutputMessage(m);
        const i = at % bytes.length;
        bytes[i] = (bytes[i]! + delta) & 0xff;
        decodeOrDecodeError(bytes, inStreamOf(m));
      }),
      { numRuns: 5000 },
    );
  });
});
