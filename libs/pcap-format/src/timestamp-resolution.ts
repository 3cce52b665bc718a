/**
 * Exact conversion of pcapng 64-bit timestamps (units of `if_tsresol`) into integer seconds and
 * nanoseconds, without BigInt and without allocating: the 64-bit count arrives as two 32-bit
 * halves and is divided by long division over 16-bit digits, which keeps every intermediate value
 * below 2^53 (divisors are at most 2^32).
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/ section 4.2 (`if_tsresol`)
 */

/** Finest power-of-10 resolution accepted: 10^-18 s (two divisions by at most 10^9). */
export const MAX_TSRESOL_DECIMAL_EXPONENT = 18;
/** Finest power-of-2 resolution accepted: 2^-32 s (keeps the divisor within long division). */
export const MAX_TSRESOL_BINARY_EXPONENT = 32;

const TWO_POW_32 = 4_294_967_296;
const DIGIT = 65_536;
/** 10^9 = 5^9 * 2^9; multiplying by 5^9 first keeps remainder * 10^9 / 2^p exact in a double. */
const FIVE_POW_9 = 1_953_125;

/** Module scratch written by {@link divide64}: no per-packet allocation. */
let quotientHigh = 0;
let quotientLow = 0;
let remainder = 0;

/** (high * 2^32 + low) / divisor for divisor in 1..2^32, into the scratch variables. */
function divide64(high: number, low: number, divisor: number): void {
  let r = 0;
  let cur = r * DIGIT + (high >>> 16);
  const q3 = Math.floor(cur / divisor);
  r = cur - q3 * divisor;
  cur = r * DIGIT + (high & 0xffff);
  const q2 = Math.floor(cur / divisor);
  r = cur - q2 * divisor;
  cur = r * DIGIT + (low >>> 16);
  const q1 = Math.floor(cur / divisor);
  r = cur - q1 * divisor;
  cur = r * DIGIT + (low & 0xffff);
  const q0 = Math.floor(cur / divisor);
  r = cur - q0 * divisor;
  // r < divisor at every step, so each quotient digit is < 2^16 and each half fits 32 bits.
  quotientHigh = q3 * DIGIT + q2;
  quotientLow = q1 * DIGIT + q0;
  remainder = r;
}

/**
 * Converts pcapng timestamps of one interface. `base`/`exponent` come from `if_tsresol`
 * (default 10^-6), `offsetSec` from `if_tsoffset`.
 */
export class TimestampResolution {
  /** 10 or 2. */
  base = 10;
  /** Resolution is base^-exponent seconds. */
  exponent = 6;
  /** `if_tsoffset` seconds added to every timestamp. */
  offsetSec = 0;
  /** Seconds of the last {@link TimestampResolution.convert} call. */
  sec = 0;
  /** Nanoseconds of the last {@link TimestampResolution.convert} call (truncated below 1 ns). */
  nsec = 0;

  /**
   * Sets the resolution from the raw `if_tsresol` byte.
   * @returns false when the resolution is finer than this reader supports
   */
  setFromOption(raw: number): boolean {
    const base = (raw & 0x80) !== 0 ? 2 : 10;
    const exponent = raw & 0x7f;
    if (base === 10 ? exponent > MAX_TSRESOL_DECIMAL_EXPONENT : exponent > MAX_TSRESOL_BINARY_EXPONENT) return false;
    this.base = base;
    this.exponent = exponent;
    return true;
  }

  /** Decimal digits needed to print one tick (6 for µs, 9 for ns, ceil(p*log10 2) for 2^-p). */
  get digits(): number {
    return this.base === 10 ? this.exponent : Math.ceil(this.exponent * Math.log10(2));
  }

  /** Converts a timestamp given as two unsigned 32-bit halves into {@link sec} / {@link nsec}. */
  convert(high: number, low: number): void {
    const e = this.exponent;
    if (this.base === 10) {
      if (e <= 9) {
        divide64(high, low, 10 ** e);
        this.sec = quotientHigh * TWO_POW_32 + quotientLow + this.offsetSec;
        this.nsec = remainder * 10 ** (9 - e);
      } else {
        divide64(high, low, 10 ** (e - 9)); // to whole nanoseconds, dropping sub-ns digits
        divide64(quotientHigh, quotientLow, 1e9);
        this.sec = quotientHigh * TWO_POW_32 + quotientLow + this.offsetSec;
        this.nsec = remainder;
      }
      return;
    }
    divide64(high, low, 2 ** e);
    this.sec = quotientHigh * TWO_POW_32 + quotientLow + this.offsetSec;
    // remainder < 2^32, so remainder * 5^9 < 2^53 and scaling by powers of two is exact.
    this.nsec = e >= 9 ? Math.floor((remainder * FIVE_POW_9) / 2 ** (e - 9)) : remainder * FIVE_POW_9 * 2 ** (9 - e);
  }
}
