/** Postgres `bytea` (hex output) and `uuid` text forms. */

const HEX = '0123456789abcdef';
const BYTEA_HEX = /^\\x((?:[0-9A-Fa-f]{2})*)$/;
const UUID_TEXT =
  /^\{?([0-9A-Fa-f]{8})-?([0-9A-Fa-f]{4})-?([0-9A-Fa-f]{4})-?([0-9A-Fa-f]{4})-?([0-9A-Fa-f]{12})\}?$/;

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/** Parses `\x0a1b…` (bytea_output=hex). @returns `undefined` when the text is not hex bytea. */
export function parsePgBytea(text: string): Uint8Array | undefined {
  const m = BYTEA_HEX.exec(text);
  return m ? hexToBytes(m[1]!) : undefined;
}

/** Formats bytes as Postgres prints `bytea` with bytea_output=hex. */
export function formatPgBytea(bytes: Uint8Array): string {
  return `\\x${bytesToHex(bytes)}`;
}

/** Parses any text form Postgres accepts for common UUIDs. @returns 16 bytes or `undefined`. */
export function parsePgUuid(text: string): Uint8Array | undefined {
  const m = UUID_TEXT.exec(text);
  return m ? hexToBytes(m.slice(1, 6).join('')) : undefined;
}

/** Formats 16 bytes as Postgres prints a `uuid` (lower-case, hyphenated). */
export function formatPgUuid(bytes: Uint8Array): string {
  const h = bytesToHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
