/**
 * Decoding `bytea` values from their text output (`bytea_output = hex`: `\x` followed by two hex digits per
 * byte). The replication reader decodes every pgoutput message through it, so it uses the runtime's native
 * `Uint8Array.fromHex` where there is one (recent V8, workerd) and a table-driven loop elsewhere (Node 20).
 */

const NOT_HEX = -1;
const HEX_VALUE = (() => {
  const table = new Int8Array(128).fill(NOT_HEX);
  for (let i = 0; i < 10; i++) table[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[65 + i] = 10 + i;
    table[97 + i] = 10 + i;
  }
  return table;
})();

const hexValue = (code: number): number => (code < 128 ? HEX_VALUE[code]! : NOT_HEX);

/**
 * Decodes an even-length hex string (no prefix) without native help.
 * @throws RangeError on a character that is not a hex digit, or an odd length.
 */
export function decodeHexPortable(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError('odd number of hex digits');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const hi = hexValue(hex.charCodeAt(j));
    const lo = hexValue(hex.charCodeAt(j + 1));
    if (hi === NOT_HEX || lo === NOT_HEX) {
      throw new RangeError(`not a hex digit at offset ${j}: ${JSON.stringify(hex.slice(j, j + 2))}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** `Uint8Array.fromHex` (ES2025) when the runtime has it. */
const nativeFromHex = (Uint8Array as unknown as { fromHex?: (hex: string) => Uint8Array }).fromHex?.bind(
  Uint8Array,
);

/**
 * Parses `\x0a1b…` into bytes.
 * @throws RangeError when the text is not hex `bytea` output.
 */
export function parseByteaHex(text: string): Uint8Array {
  // 92 = '\', 120 = 'x'
  if (text.charCodeAt(0) !== 92 || text.charCodeAt(1) !== 120) {
    throw new RangeError(`not hex bytea text: ${JSON.stringify(text.slice(0, 16))}`);
  }
  const hex = text.slice(2);
  if (!nativeFromHex) return decodeHexPortable(hex);
  try {
    return nativeFromHex(hex);
  } catch (error) {
    throw new RangeError(`not hex bytea text: ${JSON.stringify(text.slice(0, 16))}`, { cause: error });
  }
}
