import { formatPgArray, PgOid } from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compactJson,
  createTypeMapper,
  type PgTypeRow,
  rowsToJson,
  type ValueMapping,
  valueToJson,
} from './json-values.ts';

const STRING: ValueMapping = { kind: 'string' };
const INTEGER: ValueMapping = { kind: 'integer' };
const FLOAT: ValueMapping = { kind: 'float' };
const arrayOf = (element: ValueMapping): ValueMapping => ({ kind: 'array', element });

describe('valueToJson', () => {
  it('keeps int8 and numeric as strings, digit for digit', () => {
    expect(valueToJson('9223372036854775807', STRING)).toBe('"9223372036854775807"');
    expect(valueToJson('-9007199254740993', STRING)).toBe('"-9007199254740993"');
    expect(valueToJson('12345678901234567890.000000000000000001', STRING)).toBe(
      '"12345678901234567890.000000000000000001"',
    );
    expect(valueToJson('NaN', STRING)).toBe('"NaN"');
  });

  it('writes int2/int4/oid and finite floats as JSON numbers, verbatim', () => {
    expect(valueToJson('-2147483648', INTEGER)).toBe('-2147483648');
    expect(valueToJson('4294967295', INTEGER)).toBe('4294967295');
    expect(valueToJson('1.5e+300', FLOAT)).toBe('1.5e+300');
    expect(valueToJson('1e-05', FLOAT)).toBe('1e-05');
    expect(valueToJson('-0', FLOAT)).toBe('-0');
    expect(valueToJson('0.1', FLOAT)).toBe('0.1');
  });

  it('writes non-finite floats as strings', () => {
    for (const special of ['NaN', 'Infinity', '-Infinity']) {
      expect(valueToJson(special, FLOAT)).toBe(JSON.stringify(special));
    }
  });

  it('maps booleans, NULL and strings', () => {
    expect(valueToJson('t', { kind: 'boolean' })).toBe('true');
    expect(valueToJson('f', { kind: 'boolean' })).toBe('false');
    expect(valueToJson(null, INTEGER)).toBe('null');
    expect(valueToJson('\\x00ff', STRING)).toBe('"\\\\x00ff"');
    expect(valueToJson('2026-01-01 00:00:00+00', STRING)).toBe('"2026-01-01 00:00:00+00"');
    expect(valueToJson('quote " and \n newline', STRING)).toBe(JSON.stringify('quote " and \n newline'));
  });

  it('embeds json and jsonb documents, numbers verbatim, whitespace outside strings removed', () => {
    const json = { kind: 'json' } as const;
    expect(valueToJson('{"n": 12345678901234567890, "s": "a  b\\" c"}', json)).toBe(
      '{"n":12345678901234567890,"s":"a  b\\" c"}',
    );
    expect(valueToJson('[1,\n  2]', json)).toBe('[1,2]');
    expect(valueToJson('"text"', json)).toBe('"text"');
  });

  it('writes one-based arrays as nested JSON arrays of mapped elements', () => {
    expect(valueToJson('{1,2,NULL}', arrayOf(INTEGER))).toBe('[1,2,null]');
    expect(valueToJson('{{1,2},{3,4}}', arrayOf(INTEGER))).toBe('[[1,2],[3,4]]');
    expect(valueToJson('{9223372036854775807}', arrayOf(STRING))).toBe('["9223372036854775807"]');
    expect(valueToJson('{"a b","c\\"d",NULL,"NULL"}', arrayOf(STRING))).toBe('["a b","c\\"d",null,"NULL"]');
    expect(valueToJson('{NaN,1.5}', arrayOf(FLOAT))).toBe('["NaN",1.5]');
    expect(valueToJson('{"{\\"a\\": 1}"}', arrayOf({ kind: 'json' }))).toBe('[{"a":1}]');
    expect(valueToJson('{}', arrayOf(INTEGER))).toBe('[]');
  });

  it('keeps arrays with other lower bounds, and unparsable ones, as strings', () => {
    expect(valueToJson('[0:1]={1,2}', arrayOf(INTEGER))).toBe('"[0:1]={1,2}"');
    expect(valueToJson('1 2 3', arrayOf(INTEGER))).toBe('"1 2 3"'); // int2vector
  });

  it('round-trips any int8 or numeric text through JSON.parse', () => {
    const digits = fc.stringMatching(/^-?(0|[1-9]\d{0,40})(\.\d{1,40})?$/);
    fc.assert(fc.property(digits, (text) => JSON.parse(valueToJson(text, STRING)) === text));
  });

  it('round-trips text arrays element for element', () => {
    const element = fc.option(fc.string({ unit: 'grapheme' }), { nil: null });
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 8 }), (elements) => {
        const text = formatPgArray({ elements, dims: [elements.length], lowerBounds: [1] });
        expect(JSON.parse(valueToJson(text, arrayOf(STRING)))).toEqual(elements);
      }),
    );
  });

  it('compacts any JSON document without changing it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const pretty = JSON.stringify(value, null, 2);
        expect(JSON.parse(compactJson(pretty))).toEqual(JSON.parse(pretty));
        expect(compactJson(pretty)).toBe(JSON.stringify(JSON.parse(pretty)));
      }),
    );
  });
});

describe('createTypeMapper', () => {
  const row = (oid: number, extra: Partial<PgTypeRow> = {}): PgTypeRow => ({
    oid,
    typtype: 'b',
    typcategory: 'N',
    typelem: 0,
    typdelim: ',',
    typbasetype: 0,
    ...extra,
  });
  const types: PgTypeRow[] = [
    row(PgOid.int4),
    row(PgOid.int8),
    row(PgOid.int4Array, { typcategory: 'A', typelem: PgOid.int4 }),
    row(PgOid.int8Array, { typcategory: 'A', typelem: PgOid.int8 }),
    row(603, { typdelim: ';' }), // box
    row(1020, { typcategory: 'A', typelem: 603 }), // box[]
    row(90001, { typtype: 'd', typbasetype: PgOid.int4 }), // domain over int4
    row(90002, { typcategory: 'A', typelem: 90001 }), // array of the domain
    row(90003, { typtype: 'd', typbasetype: 90003 }), // a (broken) self-referencing domain
    row(90004, { typtype: 'e', typcategory: 'E' }), // an enum
  ];
  const mapper = createTypeMapper(types);

  it('maps built-in scalars by OID and everything unknown to strings', () => {
    expect(mapper(PgOid.int4)).toEqual(INTEGER);
    expect(mapper(PgOid.bool)).toEqual({ kind: 'boolean' });
    expect(mapper(PgOid.float8)).toEqual(FLOAT);
    expect(mapper(PgOid.jsonb)).toEqual({ kind: 'json' });
    expect(mapper(PgOid.int8)).toEqual(STRING);
    expect(mapper(PgOid.numeric)).toEqual(STRING);
    expect(mapper(90004)).toEqual(STRING);
    expect(mapper(123456)).toEqual(STRING);
  });

  it('follows arrays and domains', () => {
    expect(mapper(PgOid.int4Array)).toEqual(arrayOf(INTEGER));
    expect(mapper(PgOid.int8Array)).toEqual(arrayOf(STRING));
    expect(mapper(90001)).toEqual(INTEGER);
    expect(mapper(90002)).toEqual(arrayOf(INTEGER));
    expect(mapper(90003)).toEqual(STRING);
    expect(mapper(1020)).toEqual(STRING); // `;`-delimited array text stays as it is
  });
});

describe('rowsToJson', () => {
  it('writes an array of row objects, one per line, in column order', () => {
    const columns = [
      { name: 'id', mapping: INTEGER },
      { name: 'big', mapping: STRING },
      { name: 'tags', mapping: arrayOf(STRING) },
    ];
    const text = rowsToJson(columns, [
      ['1', '9007199254740993', '{a,b}'],
      ['2', null, null],
    ]);
    expect(text).toBe(
      '[\n{"id":1,"big":"9007199254740993","tags":["a","b"]},\n{"id":2,"big":null,"tags":null}\n]',
    );
    expect(JSON.parse(text)).toEqual([
      { id: 1, big: '9007199254740993', tags: ['a', 'b'] },
      { id: 2, big: null, tags: null },
    ]);
    expect(rowsToJson(columns, [])).toBe('[]');
  });
});
