/**
 * Output bytes written straight into one buffer kept from batch to batch.
 *
 * A line built as a JS string is a tree of a hundred small pieces; encoding
 * it to UTF-8 flattens that tree first, and that cost as much as building it
 * (bench/pipeline.mjs, bench/FINDINGS.md). Writing each piece's bytes where
 * it goes skips both the tree and the copy.
 */

/** Bytes a UTF-16 unit can take in UTF-8, at most. */
const UTF8_MAX = 3;

/** "00" to "99", ASCII */
const TWO_DIGITS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

/** Decimal digits of 0 <= n < 1e9. */
function digitCount(n: number): number {
  if (n < 1e4) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : 4;
  if (n < 1e6) return n < 1e5 ? 5 : 6;
  return n < 1e7 ? 7 : n < 1e8 ? 8 : 9;
}

/** A string as JSON.stringify writes it, without the quotes. */
export function jsonStringInner(s: string): string {
  const quoted = JSON.stringify(s);
  return quoted.slice(1, quoted.length - 1);
}

/*
 * Past this length a string is copied by Buffer#write (latin1), not a loop of
 * charCodeAt: a call costs ~35 ns, the loop ~1.7 ns a character, the native
 * copy ~0.03 (bench/FINDINGS.md). Summaries, fixes and command lines are
 * longer; member names and most values shorter.
 */
const NATIVE_COPY_MIN = 32;
/** What JSON.stringify would escape (controls, quote, backslash) or this writer leaves to it (not ASCII). */
const NOT_PLAIN = /[\x00-\x1f"\\\u0080-\uffff]/;

export class ByteWriter {
  private buf: Buffer;
  /** bytes written since the last clear() */
  length = 0;
  /** clear()s so far: what was written before the last one is gone */
  generation = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  clear(): void {
    this.length = 0;
    this.generation++;
  }

  /** What was written: a view, valid until the next write. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** A string known to be ASCII (JSON punctuation and member names, number digits). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    if (n >= NATIVE_COPY_MIN) {
      this.length += this.buf.write(s, this.length, 'latin1');
      return;
    }
    const b = this.buf;
    let o = this.length;
    for (let i = 0; i < n; i++) b[o++] = s.charCodeAt(i);
    this.length = o;
  }

  /** Any string, UTF-8 encoded. */
  utf8(s: string): void {
    this.room(UTF8_MAX * s.length);
    this.length += this.buf.write(s, this.length);
  }

  /** Bytes written at `start` to `end` again: valid while `generation` is the one they were written in. */
  repeat(start: number, end: number): void {
    const n = end - start;
    this.room(n);
    this.buf.copyWithin(this.length, start, end);
    this.length += n;
  }

  /**
   * Bytes encoded before (member names, heads, kernel paths), in one
   * TypedArray#set whatever their length: a byte loop for the short ones, as
   * this had, was slower even for a 6-byte name (bench/pipeline.mjs, 3 runs
   * each way alternated: 2.50-2.60 -> 2.36-2.42 µs a record).
   */
  copy(bytes: Uint8Array): void {
    const n = bytes.length;
    this.room(n);
    this.buf.set(bytes, this.length);
    this.length += n;
  }

  /** A JSON string, as JSON.stringify writes it. */
  jsonString(s: string): void {
    this.byte(0x22);
    this.jsonStringBody(s);
    this.byte(0x22);
  }

  /** A JSON string without its quotes: part of one. */
  jsonStringBody(s: string): void {
    const n = s.length;
    if (n >= NATIVE_COPY_MIN) {
      if (NOT_PLAIN.test(s)) {
        this.escaped(s);
        return;
      }
      this.room(n);
      this.length += this.buf.write(s, this.length, 'latin1');
      return;
    }
    this.room(n);
    const b = this.buf;
    let o = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // quote, backslash and control characters are escaped, the rest of
      // ASCII is itself; anything else takes the general path (what the
      // loop wrote is not counted: it is written over)
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        this.escaped(s);
        return;
      }
      b[o++] = c;
    }
    this.length = o;
  }

  private escaped(s: string): void {
    this.utf8(jsonStringInner(s));
  }

  jsonStringOrNull(s: string | null): void {
    if (s === null) this.ascii('null');
    else this.jsonString(s);
  }

  /** A JSON number, as JSON.stringify writes it (NaN and the infinities are null). */
  jsonNumber(v: number | null): void {
    if (v === null || !Number.isFinite(v)) {
      this.ascii('null');
      return;
    }
    if (v < 0 || v > Number.MAX_SAFE_INTEGER || Math.floor(v) !== v) {
      if (!this.millionths(v)) this.ascii(`${v}`);
      return;
    }
    // a non-negative integer, most numbers in a record: digits in place,
    // nine at a time in int arithmetic
    // (each below 2^31: | 0 hands padded() a small integer, never a heap
    // number, which deoptimized it and the writers it was inlined into)
    if (v < 1e9) {
      this.padded(v | 0, 0);
    } else {
      const high = Math.floor(v / 1e9);
      this.padded(high | 0, 0);
      this.padded((v - high * 1e9) | 0, 9);
    }
  }

  /**
   * A fraction that is a whole number of millionths, below 1e9 either way:
   * every ms_before (ns differences / 1e6). Its shortest round-trip form,
   * which JSON.stringify writes, is then that decimal (at most 15
   * significant digits: no other decimal that short is the same double),
   * in fixed notation (it is at least 1e-6). `${v}` took ~100 ns; this ~20.
   * False, having written nothing, for any other number.
   */
  private millionths(v: number): boolean {
    const negative = v < 0;
    const a = negative ? -v : v;
    if (!(a < 1e9)) return false;
    const m = Math.round(a * 1e6);
    if (m / 1e6 !== a) return false;
    if (negative) this.byte(0x2d);
    // integer arithmetic on exact doubles: m % 1e6 and the quotient are exact
    let frac = m % 1e6;
    this.padded(((m - frac) / 1e6) | 0, 0);
    if (frac === 0) return true; // a negative integer
    let width = 6;
    while (frac % 10 === 0) {
      frac /= 10;
      width--;
    }
    this.byte(0x2e);
    this.padded(frac | 0, width);
    return true;
  }

  /** A whole number 0 <= n < 1e9 in decimal, zero-padded to `width` digits (at most 9). */
  padded(n: number, width: number): void {
    let count = digitCount(n);
    if (count < width) count = width;
    this.room(count);
    const b = this.buf;
    let p = this.length + count;
    this.length = p;
    // two digits a division (jsonNumber 21 -> 19 ns a number: bench/FINDINGS.md)
    for (; count >= 2; count -= 2) {
      const q = (n / 100) | 0;
      const at = (n - q * 100) * 2;
      b[--p] = TWO_DIGITS[at + 1]!;
      b[--p] = TWO_DIGITS[at]!;
      n = q;
    }
    if (count === 1) b[--p] = 0x30 + n;
  }
}
