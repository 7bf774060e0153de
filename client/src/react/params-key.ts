/**
 * A value key for query parameters, so a hook called with a fresh array of the same values on every render
 * (`useLiveQuery(sql, [id])`, `[new Date(x)]`) keeps its live query instead of re-subscribing on every render.
 * No React here: the hooks compare keys, this file only computes them.
 */

/** Parameter values as `JSON.stringify` cannot tell them apart (bigint, Date, bytes, undefined, NaN) get tags. */
function encode(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return { $bigint: value.toString() };
    case 'undefined':
      return { $undefined: true };
    case 'number':
      return Number.isFinite(value) ? value : { $number: String(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return null;
      if (value instanceof Date)
        return { $date: Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString() };
      if (ArrayBuffer.isView(value)) {
        const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        return { $bytes: Array.from(bytes).join(',') };
      }
      if (value instanceof ArrayBuffer) return { $bytes: Array.from(new Uint8Array(value)).join(',') };
      if (Array.isArray(value)) return value.map(encode);
      // A JSON parameter: its own enumerable properties, in their order (an inline literal keeps its order).
      return { $object: Object.entries(value).map(([k, v]) => [k, encode(v)]) };
    default:
      // Functions and symbols are no query parameters; PGlite will reject them, the key only has to be stable.
      return { $other: String(value) };
  }
}

/**
 * A string equal for two parameter lists exactly when they hold the same values: primitives by value and type
 * (`1` ≠ `'1'`, `1n` ≠ `1`), dates by instant, byte arrays by content, arrays and plain objects (JSON
 * parameters) recursively. `undefined` and `[]` give the same key (no parameters).
 */
export function paramsKey(params: readonly unknown[] | undefined): string {
  return params === undefined || params.length === 0 ? '[]' : JSON.stringify(params.map(encode));
}
