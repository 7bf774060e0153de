/** pgvector `vector` text form: `[1,2.5,-3e-05]`, float4 components. */

import { formatPgFloat4, parsePgFloat } from './pg-float.ts';

/** Parses a vector literal. @returns the components (float32-rounded) or `undefined`. */
export function parsePgVector(text: string): number[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return undefined;
  const body = t.slice(1, -1).trim();
  if (body === '') return [];
  const out: number[] = [];
  for (const part of body.split(',')) {
    const v = parsePgFloat(part, true);
    if (v === undefined || !Number.isFinite(v)) return undefined;
    out.push(v);
  }
  return out;
}

/** Formats components as pgvector prints a `vector` (shortest float4 text, comma-separated). */
export function formatPgVector(values: readonly number[]): string {
  return `[${values.map(formatPgFloat4).join(',')}]`;
}
