/**
 * Resets over time in at most `maxBuckets` buckets (a screenful), whatever the span, in
 * one pass: buckets start at 1 ms and widen when the events no longer fit.
 * Each width divides the next one, so a wider bucket is an exact sum of
 * narrower ones, and buckets start at whole multiples of their width
 * (08:18:10, 08:18:20...), which is what a person expects to read.
 */

/** ms; each one a whole multiple of the one before */
const WIDTHS_MS = [
  1, 2, 10, 20, 100, 200, 1_000, 2_000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000, 3_600_000, 7_200_000,
  21_600_000, 43_200_000, 86_400_000,
];

function widthAt(i: number): number {
  const last = WIDTHS_MS.length - 1;
  return i <= last ? WIDTHS_MS[i]! : WIDTHS_MS[last]! * 2 ** (i - last);
}

export interface Bucket {
  /** ms since the epoch */
  startMs: number;
  count: number;
}

export class TimeHistogram {
  private widthIndex = 0;
  // bucket number (start / width) → count; at most maxBuckets entries
  private counts = new Map<number, number>();
  private lo = Infinity;
  private hi = -Infinity;

  constructor(readonly maxBuckets = 24) {
    if (!(maxBuckets >= 2)) throw new RangeError(`maxBuckets must be at least 2, not ${maxBuckets}`);
  }

  get widthMs(): number {
    return widthAt(this.widthIndex);
  }

  add(ms: number, n = 1): void {
    if (!Number.isFinite(ms)) return;
    let k = Math.floor(ms / this.widthMs);
    while (Math.max(this.hi, k) - Math.min(this.lo, k) >= this.maxBuckets) {
      this.widen();
      k = Math.floor(ms / this.widthMs);
    }
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
    if (k < this.lo) this.lo = k;
    if (k > this.hi) this.hi = k;
  }

  /** From the first bucket with a reset to the last, empty ones included. */
  buckets(): Bucket[] {
    const out: Bucket[] = [];
    for (let k = this.lo; k <= this.hi; k++) out.push({ startMs: k * this.widthMs, count: this.counts.get(k) ?? 0 });
    return out;
  }

  private widen(): void {
    const ratio = widthAt(this.widthIndex + 1) / this.widthMs;
    this.widthIndex++;
    const merged = new Map<number, number>();
    for (const [k, n] of this.counts) {
      const k2 = Math.floor(k / ratio);
      merged.set(k2, (merged.get(k2) ?? 0) + n);
    }
    this.counts = merged;
    this.lo = Math.floor(this.lo / ratio);
    this.hi = Math.floor(this.hi / ratio);
  }
}
