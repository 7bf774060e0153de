/**
 * Postgres `real` / `double precision` text form (extra_float_digits ≥ 1, the default since Postgres 12):
 * the shortest decimal that reads back to the same binary value, in fixed notation when the decimal exponent
 * is in [-4, P) and in scientific notation (`1e+15`, `1.5e-05`) otherwise, with P = 15 for double and 6 for
 * real. `NaN`, `Infinity`, `-Infinity`; `-0` keeps its sign.
 */

const FLOAT8_FIXED_MAX_EXPONENT = 15;
const FLOAT4_FIXED_MAX_EXPONENT = 6;
const FLOAT_TEXT = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|infinity|inf|nan)\s*$/i;

/**
 * Parses the text of a float. `single` rounds to the nearest float32 (so a `real` value is exact).
 * @returns `undefined` when the text is not a float.
 */
export function parsePgFloat(text: string, single: boolean): number | undefined {
  if (!FLOAT_TEXT.test(text)) return undefined;
  const t = text.trim().toLowerCase();
  let v: number;
  if (t === 'nan' || t === '+nan' || t === '-nan') v = Number.NaN;
  else if (/^[+]?inf(inity)?$/.test(t)) v = Number.POSITIVE_INFINITY;
  else if (/^-inf(inity)?$/.test(t)) v = Number.NEGATIVE_INFINITY;
  else v = Number(t);
  return single ? Math.fround(v) : v;
}

/** Formats a double as Postgres prints `double precision`. */
export function formatPgFloat8(v: number): string {
  const special = formatSpecial(v);
  if (special !== undefined) return special;
  // toExponential() without an argument yields the shortest round-trip digits — but JavaScript accepts a
  // decimal exactly halfway between two doubles (it reads back by round-half-even), Postgres does not.
  let exp = v.toExponential();
  for (let p = exp.replace(/^-|\.|e.*$/g, '').length + 1; isFloat64Midpoint(v, exp) && p <= 17; p++) {
    exp = v.toExponential(p - 1);
  }
  return layout(exp, FLOAT8_FIXED_MAX_EXPONENT);
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** Whether the decimal `expForm` lies exactly halfway between `v` and one of its neighbouring doubles. */
function isFloat64Midpoint(v: number, expForm: string): boolean {
  const [mantissa = '', expText = '0'] = expForm.split('e');
  const digits = mantissa.replace('-', '').replace('.', '');
  const n = BigInt(digits);
  const k = Number(expText) - (digits.length - 1);
  f64[0] = Math.abs(v);
  const bits = u64[0]!;
  const biased = Number(bits >> 52n);
  const frac = bits & 0xf_ffff_ffff_ffffn;
  const m = biased === 0 ? frac : frac | 0x10_0000_0000_0000n;
  const e = biased === 0 ? -1074 : biased - 1075;
  // n·10^k = (2m ± 1)·2^(e-1)  ⇔  2n·10^k·2^-e = 2m ± 1, in integers.
  const lhs = 2n * n * 10n ** BigInt(Math.max(k, 0)) * 2n ** BigInt(Math.max(-e, 0));
  const scale = 10n ** BigInt(Math.max(-k, 0)) * 2n ** BigInt(Math.max(e, 0));
  return lhs === (2n * m + 1n) * scale || lhs === (2n * m - 1n) * scale;
}

/**
 * True when a double can be stored in a `real`: NaN, the infinities, zero, or a finite value that neither
 * overflows float32 nor underflows to zero (Postgres rejects those as out of range for type real).
 */
export function isPgFloat4(v: number): boolean {
  if (!Number.isFinite(v) || v === 0) return true;
  const f = Math.fround(v);
  return Number.isFinite(f) && f !== 0;
}

/** Formats a float32 value (given as a double) as Postgres prints `real`. */
export function formatPgFloat4(v: number): string {
  const special = formatSpecial(v);
  if (special !== undefined) return special;
  const f = Math.fround(v);
  const [below, above] = float32Midpoints(f);
  let exp = '';
  for (let p = 1; p <= 9; p++) {
    exp = halfEven(f, f.toExponential(p - 1));
    const d = Number(exp);
    // Postgres's shortest float4 output never picks a decimal that lies exactly halfway between two floats,
    // even when round-half-even would read it back correctly.
    if (Math.fround(d) === f && d !== below && d !== above) break;
  }
  return layout(exp, FLOAT4_FIXED_MAX_EXPONENT);
}

/**
 * `toExponential` breaks an exact tie between two p-digit decimals upwards; Postgres (Ryu) picks the even one.
 * A float32 is m·2^e exactly, so the tie test is exact integer arithmetic.
 */
function halfEven(f: number, expForm: string): string {
  const [mantissa = '', expText = '0'] = expForm.split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const n = BigInt(digits);
  if (n % 2n === 0n) return expForm;
  const k = Number(expText) - (digits.length - 1);
  f32[0] = Math.abs(f);
  const bits = u32[0]!;
  const biased = (bits >>> 23) & 0xff;
  const m = BigInt(biased === 0 ? bits & 0x7fffff : (bits & 0x7fffff) | 0x800000);
  const e = biased === 0 ? -149 : biased - 150;
  // Tie: |f| = (n - 1/2)·10^k  ⇔  2m·2^e = (2n - 1)·10^k.
  const lhs = 2n * m * 2n ** BigInt(Math.max(e, 0)) * 10n ** BigInt(Math.max(-k, 0));
  const rhs = (2n * n - 1n) * 10n ** BigInt(Math.max(k, 0)) * 2n ** BigInt(Math.max(-e, 0));
  if (lhs !== rhs) return expForm;
  const down = (n - 1n).toString().padStart(digits.length, '0');
  // n - 1 can lose a digit only when n = 10^j + 1 (odd), e.g. 11 → 10: the layout keeps the exponent anyway.
  const body = down.length > 1 ? `${down[0]}.${down.slice(1)}` : down;
  return `${negative ? '-' : ''}${body}e${expText}`;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The exact midpoints (as doubles) between a finite, non-zero float32 and its two neighbours. */
function float32Midpoints(f: number): [number, number] {
  f32[0] = f;
  const bits = u32[0]!;
  u32[0] = bits - 1;
  const toward0 = f32[0]!;
  u32[0] = bits + 1;
  const away0 = f32[0]!;
  return [(f + toward0) / 2, (f + away0) / 2];
}

function formatSpecial(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return undefined;
}

/** Lays out `d.ddde±x` (JS exponential form) the way Postgres's shortest-decimal output does. */
function layout(expForm: string, fixedMaxExponent: number): string {
  const [mantissa = '', expText = '0'] = expForm.split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const exponent = Number(expText);
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= fixedMaxExponent) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${digits[0]}${frac}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}
