/**
 * Postgres array literals (`{1,2,NULL}`, `{{"a b",c},{d,e}}`, `[0:1]={x,y}`) to and from a flat, row-major
 * list of element texts with dimensions and lower bounds — the shape of `ArrayValue` on the wire.
 */

import { MAX_ARRAY_DIMENSIONS } from '../constants.ts';

/** An array as flat element texts (NULL elements are `null`), dimensions and lower bounds. */
export interface PgArrayText {
  elements: (string | null)[];
  /** Length of each dimension, outermost first; empty for an empty array. */
  dims: number[];
  /** Lower bound of each dimension; same length as `dims`. */
  lowerBounds: number[];
}

const DECORATION = /^((?:\[-?\d+:-?\d+\])+)=/;
const SPACE = /[ \t\n\r\v\f]/;

/**
 * Parses an array literal as Postgres prints it (delimiter `,`).
 * @returns `undefined` when the text is not a well-formed, rectangular array literal.
 */
export function parsePgArray(text: string): PgArrayText | undefined {
  let pos = 0;
  let declared: { dims: number[]; lowerBounds: number[] } | undefined;
  const deco = DECORATION.exec(text);
  if (deco) {
    const bounds = [...deco[1]!.matchAll(/\[(-?\d+):(-?\d+)\]/g)].map((b) => [Number(b[1]), Number(b[2])]);
    declared = {
      lowerBounds: bounds.map(([lo]) => lo!),
      dims: bounds.map(([lo, hi]) => hi! - lo! + 1),
    };
    if (declared.dims.some((d) => d < 1)) return undefined;
    pos = deco[0].length;
  }
  const elements: (string | null)[] = [];
  const dims: number[] = [];
  const counts: number[] = [];
  let leafDepth: number | undefined;

  const fail = (): undefined => undefined;
  const skipSpace = (): void => {
    while (pos < text.length && SPACE.test(text[pos]!)) pos++;
  };

  // Recursive descent over nested braces; `depth` is the current dimension.
  const parseLevel = (depth: number): boolean => {
    if (text[pos] !== '{') return false;
    if (depth >= MAX_ARRAY_DIMENSIONS) return false;
    pos++;
    let count = 0;
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return depth === 0 && elements.length === 0 ? recordEmpty() : false;
    }
    for (;;) {
      skipSpace();
      if (text[pos] === '{') {
        if (leafDepth !== undefined && depth >= leafDepth) return false;
        if (!parseLevel(depth + 1)) return false;
      } else {
        if (leafDepth === undefined) leafDepth = depth;
        if (leafDepth !== depth) return false;
        const el = parseElement();
        if (el === false) return false;
        elements.push(el);
      }
      count++;
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        break;
      }
      return false;
    }
    if (dims[depth] === undefined) {
      dims[depth] = count;
    } else if (dims[depth] !== count) {
      return false;
    }
    counts[depth] = (counts[depth] ?? 0) + 1;
    return true;
  };

  let empty = false;
  const recordEmpty = (): boolean => {
    empty = true;
    return true;
  };

  const parseElement = (): string | null | false => {
    if (text[pos] === '"') {
      pos++;
      let s = '';
      while (pos < text.length && text[pos] !== '"') {
        if (text[pos] === '\\') pos++;
        if (pos >= text.length) return false;
        s += text[pos++];
      }
      if (text[pos] !== '"') return false;
      pos++;
      return s;
    }
    let s = '';
    let escaped = false;
    while (pos < text.length && !',{}"'.includes(text[pos]!)) {
      if (text[pos] === '\\') {
        pos++;
        if (pos >= text.length) return false;
        escaped = true;
      }
      s += text[pos++];
    }
    // Unquoted elements lose surrounding white space (but keep escaped characters).
    const trimmed = escaped ? s : s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
    if (trimmed.length === 0) return false;
    if (!escaped && trimmed.toUpperCase() === 'NULL') return null;
    return trimmed;
  };

  if (!parseLevel(0)) return fail();
  skipSpace();
  if (pos !== text.length) return fail();
  if (empty) {
    return declared ? fail() : { elements: [], dims: [], lowerBounds: [] };
  }
  // Every sub-array at each depth must exist the same number of times (rectangular).
  let expected = 1;
  for (let d = 0; d < dims.length; d++) {
    if (counts[d] !== expected) return fail();
    expected *= dims[d]!;
  }
  if (declared) {
    if (declared.dims.length !== dims.length || declared.dims.some((d, i) => d !== dims[i])) return fail();
    return { elements, dims, lowerBounds: declared.lowerBounds };
  }
  return { elements, dims, lowerBounds: dims.map(() => 1) };
}

/** Whether an element needs double quotes in Postgres's array output. */
function needsQuotes(s: string): boolean {
  if (s.length === 0 || s.toUpperCase() === 'NULL') return true;
  for (const ch of s) {
    if (ch === '"' || ch === '\\' || ch === '{' || ch === '}' || ch === ',' || SPACE.test(ch)) return true;
  }
  return false;
}

/** Formats an array literal exactly as Postgres's `array_out` prints it (delimiter `,`). */
export function formatPgArray(array: PgArrayText): string {
  const { elements, dims, lowerBounds } = array;
  if (dims.length === 0 || elements.length === 0) return '{}';
  const deco = lowerBounds.some((lb) => lb !== 1)
    ? `${dims.map((d, i) => `[${lowerBounds[i]}:${lowerBounds[i]! + d - 1}]`).join('')}=`
    : '';
  let next = 0;
  const level = (depth: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < dims[depth]!; i++) {
      if (depth + 1 < dims.length) {
        parts.push(level(depth + 1));
      } else {
        const el = elements[next++];
        if (el === null || el === undefined) parts.push('NULL');
        else parts.push(needsQuotes(el) ? `"${el.replace(/["\\]/g, '\\$&')}"` : el);
      }
    }
    return `{${parts.join(',')}}`;
  };
  return deco + level(0);
}
