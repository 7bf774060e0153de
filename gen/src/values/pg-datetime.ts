/**
 * Postgres `date`, `timestamp` and `timestamptz` in their binary-format integers (days / microseconds since
 * 2000-01-01, the Postgres epoch) and their ISO text form (DateStyle=ISO, TimeZone=UTC). Proleptic Gregorian
 * calendar, astronomical year 0 = 1 BC, as Postgres.
 */

/** `-infinity` / `infinity` for timestamps (Postgres's DT_NOBEGIN / DT_NOEND). */
export const TIMESTAMP_NEG_INFINITY = -(2n ** 63n);
export const TIMESTAMP_POS_INFINITY = 2n ** 63n - 1n;
/** `-infinity` / `infinity` for dates (Postgres's DATEVAL_NOBEGIN / DATEVAL_NOEND). */
export const DATE_NEG_INFINITY = -(2 ** 31);
export const DATE_POS_INFINITY = 2 ** 31 - 1;

const US_PER_DAY = 86_400_000_000n;
/** Days from 0000-03-01 (the civil algorithm's epoch) to 2000-01-01. */
const EPOCH_SHIFT_DAYS = 730_425;
/** Julian day 0 (4714-11-24 BC) as days since 2000-01-01: Postgres's lower bound for dates and timestamps. */
export const MIN_PG_DAY = -2_451_545;
/** First day past the supported timestamp range (294277-01-01). */
const TIMESTAMP_END_DAY = 106_751_983;
/** First day past the supported date range (5874898-01-01). */
const DATE_END_DAY = 2_145_031_949;
/** Lowest / first-past-the-end timestamps in microseconds since 2000-01-01. */
export const MIN_PG_TIMESTAMP = BigInt(MIN_PG_DAY) * US_PER_DAY;
export const END_PG_TIMESTAMP = BigInt(TIMESTAMP_END_DAY) * US_PER_DAY;
export const MAX_PG_DATE = DATE_END_DAY - 1;

/** Days since 2000-01-01 of a proleptic Gregorian date (astronomical years). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - EPOCH_SHIFT_DAYS;
}

/** The proleptic Gregorian date of a day count since 2000-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + EPOCH_SHIFT_DAYS;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(n: number, width: number): string {
  return n.toString().padStart(width, '0');
}

/** `YYYY-MM-DD[ BC]`, the ISO date part Postgres prints (years below 1 shown as `n BC`). */
function formatCivil(days: number): { date: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  return { date: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

const DATE_PART = '(\\d{4,})-(\\d{1,2})-(\\d{1,2})';
const DATE_TEXT = new RegExp(`^${DATE_PART}( BC)?$`);
const TIMESTAMP_TEXT = new RegExp(
  `^${DATE_PART}[ T](\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,6}))?(?:([+-])(\\d{2})(?::?(\\d{2}))?(?::?(\\d{2}))?)?( BC)?$`,
);

function civilDays(yearText: string, monthText: string, dayText: string, bc: boolean): number | undefined {
  const shown = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  if (shown < 1 || month < 1 || month > 12) return undefined;
  const year = bc ? 1 - shown : shown;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

/** Parses a Postgres ISO date. @returns days since 2000-01-01 (infinity sentinels included) or `undefined`. */
export function parsePgDate(text: string): number | undefined {
  if (text === 'infinity') return DATE_POS_INFINITY;
  if (text === '-infinity') return DATE_NEG_INFINITY;
  const m = DATE_TEXT.exec(text);
  if (!m) return undefined;
  const days = civilDays(m[1]!, m[2]!, m[3]!, m[4] !== undefined);
  return days === undefined || days < MIN_PG_DAY || days > MAX_PG_DATE ? undefined : days;
}

/** Formats days since 2000-01-01 as Postgres prints a `date` (DateStyle=ISO). */
export function formatPgDate(days: number): string {
  if (days === DATE_POS_INFINITY) return 'infinity';
  if (days === DATE_NEG_INFINITY) return '-infinity';
  const { date, bc } = formatCivil(days);
  return bc ? `${date} BC` : date;
}

/**
 * Parses a Postgres ISO timestamp. With `withTimeZone`, an offset (`+00`, `+05:30`, `-03:00:15`) is applied to
 * give UTC; without it, an offset is rejected.
 * @returns microseconds since 2000-01-01 (infinity sentinels included) or `undefined`.
 */
export function parsePgTimestamp(text: string, withTimeZone: boolean): bigint | undefined {
  if (text === 'infinity') return TIMESTAMP_POS_INFINITY;
  if (text === '-infinity') return TIMESTAMP_NEG_INFINITY;
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os, bc] = m;
  if (sign !== undefined && !withTimeZone) return undefined;
  const days = civilDays(y!, mo!, d!, bc !== undefined);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (days === undefined || hour > 24 || minute > 59 || second > 59) return undefined;
  let us =
    BigInt(days) * US_PER_DAY +
    BigInt(((hour * 60 + minute) * 60 + second) * 1_000_000) +
    BigInt((frac ?? '').padEnd(6, '0') || '0');
  if (sign !== undefined) {
    const offsetSeconds = (Number(oh) * 60 + Number(om ?? 0)) * 60 + Number(os ?? 0);
    us -= BigInt((sign === '-' ? -offsetSeconds : offsetSeconds) * 1_000_000);
  }
  return us < MIN_PG_TIMESTAMP || us >= END_PG_TIMESTAMP ? undefined : us;
}

/**
 * Formats microseconds since 2000-01-01 as Postgres prints a `timestamp` (or, `withTimeZone`, a
 * `timestamptz` in TimeZone=UTC: with a `+00` offset).
 */
export function formatPgTimestamp(us: bigint, withTimeZone: boolean): string {
  if (us === TIMESTAMP_POS_INFINITY) return 'infinity';
  if (us === TIMESTAMP_NEG_INFINITY) return '-infinity';
  let days = us / US_PER_DAY;
  let rem = us % US_PER_DAY;
  if (rem < 0n) {
    rem += US_PER_DAY;
    days -= 1n;
  }
  const { date, bc } = formatCivil(Number(days));
  const micros = Number(rem % 1_000_000n);
  const secs = Number(rem / 1_000_000n);
  const time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  const frac = micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`;
  return `${date} ${time}${frac}${withTimeZone ? '+00' : ''}${bc ? ' BC' : ''}`;
}

/** True when `us` is a finite timestamp Postgres can store, or one of the infinity sentinels. */
export function isPgTimestamp(us: bigint): boolean {
  return (
    us === TIMESTAMP_POS_INFINITY ||
    us === TIMESTAMP_NEG_INFINITY ||
    (us >= MIN_PG_TIMESTAMP && us < END_PG_TIMESTAMP)
  );
}

/** True when `days` is a date Postgres can store, or one of the infinity sentinels. */
export function isPgDate(days: number): boolean {
  return (
    days === DATE_POS_INFINITY ||
    days === DATE_NEG_INFINITY ||
    (Number.isInteger(days) && days >= MIN_PG_DAY && days <= MAX_PG_DATE)
  );
}
