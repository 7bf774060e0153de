/**
 * Log sequence numbers: unsigned 64-bit positions in the Postgres WAL. On the wire they are `uint64`
 * (bigint in TypeScript); people read them in Postgres's `X/Y` form (high and low 32 bits in hex).
 */

/** A Postgres LSN as an unsigned 64-bit bigint. `0n` means "none" (Postgres's InvalidXLogRecPtr). */
export type Lsn = bigint;

/** The "no LSN" value: a client without synced state resumes from it. */
export const LSN_NONE: Lsn = 0n;

/** The largest LSN. */
export const LSN_MAX: Lsn = 0xffff_ffff_ffff_ffffn;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/**
 * Parses Postgres's `X/Y` text form (e.g. `16/B374D848`).
 * @throws RangeError when the text is not an LSN.
 */
export function parseLsn(text: string): Lsn {
  const m = LSN_TEXT.exec(text);
  if (!m) throw new RangeError(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Formats an LSN in Postgres's `X/Y` form (upper-case hex, no padding), as `pg_current_wal_lsn()` prints it. */
export function formatLsn(lsn: Lsn): string {
  assertLsn(lsn);
  const hi = (lsn >> 32n).toString(16).toUpperCase();
  const lo = (lsn & 0xffff_ffffn).toString(16).toUpperCase();
  return `${hi}/${lo}`;
}

/** True when `value` is a bigint in the unsigned 64-bit range. */
export function isLsn(value: unknown): value is Lsn {
  return typeof value === 'bigint' && value >= 0n && value <= LSN_MAX;
}

/** @throws RangeError unless `value` is a valid LSN. */
export function assertLsn(value: unknown): asserts value is Lsn {
  if (!isLsn(value)) throw new RangeError(`not an LSN: ${String(value)}`);
}

/** Compares two LSNs: negative, zero or positive (usable with `Array.prototype.sort`). */
export function compareLsn(a: Lsn, b: Lsn): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The larger of two LSNs. */
export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}
