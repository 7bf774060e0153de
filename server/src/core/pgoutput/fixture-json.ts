/**
 * TEST-ONLY: the JSON form of decoded messages in `fixtures/*.json`, and the fixture file layout. bigint →
 * `{"$bigint":"…"}`, bytes → `{"$hex":"…"}`, the unchanged-TOAST marker → `{"$unchanged":true}`.
 */

import { UNCHANGED_DATUM } from '../change.ts';

/** A JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** One recorded message: its raw bytes and its expected decode. */
export interface FixtureMessage {
  /** Whether it was read inside a stream block (its data messages carry an xid). */
  readonly inStream: boolean;
  readonly hex: string;
  readonly expected: Json;
}

/** A fixture file: recorded pgoutput messages of one workload. */
export interface FixtureFile {
  readonly description: string;
  /** The peek options the messages were read with. */
  readonly options: readonly string[];
  readonly messages: readonly FixtureMessage[];
  /** Message count per type and the total number of bytes, to check replays against. */
  readonly summary: { readonly bytes: number; readonly counts: Readonly<Record<string, number>> };
}

export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

export function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The JSON form of a decoded value (messages, tuples, events). */
export function toJson(value: unknown): Json {
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'string'
  ) {
    return value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value === UNCHANGED_DATUM) return { $unchanged: true };
  if (value instanceof Uint8Array) return { $hex: bytesToHex(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = toJson(entry);
    return out;
  }
  throw new TypeError(`no JSON form for ${typeof value}`);
}
