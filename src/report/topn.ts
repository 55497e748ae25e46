/**
 * Counts per key in bounded memory: exact while there are at most
 * `capacity` distinct keys, then the Space-Saving algorithm (Metwally,
 * Agrawal, El Abbadi, 2005): a new key takes the place of the least counted
 * one and inherits its count as its possible error. Every key counted more
 * than total/capacity times is kept, and a count is never too low by more
 * than its `error`. A capture from a scan of a /16 has 65536 remote
 * addresses; the report must not hold them all.
 */
export interface Counted<K> {
  key: K;
  count: number;
  /** how much of `count` may belong to keys evicted before this one came (0: exact) */
  error: number;
}

interface Entry<K> extends Counted<K> {
  /** where it is in the heap */
  at: number;
}

export class TopCounter<K> {
  // a min-heap on count: the root is the one to evict
  private heap: Entry<K>[] = [];
  private entries = new Map<K, Entry<K>>();
  /** whether a key was ever evicted: counts are then upper bounds */
  approximate = false;
  total = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, not ${capacity}`);
  }

  /** Adds `n` to key's count; returns the key that had to make room, if one did. */
  add(key: K, n = 1): K | undefined {
    this.total += n;
    const known = this.entries.get(key);
    if (known) {
      known.count += n;
      this.down(known.at);
      return undefined;
    }
    if (this.heap.length < this.capacity) {
      const entry = { key, count: n, error: 0, at: this.heap.length };
      this.heap.push(entry);
      this.entries.set(key, entry);
      this.up(entry.at);
      return undefined;
    }
    this.approximate = true;
    const root = this.heap[0]!;
    const evicted = root.key;
    this.entries.delete(evicted);
    root.key = key;
    root.error = root.count;
    root.count += n;
    this.entries.set(key, root);
    this.down(0);
    return evicted;
  }

  get(key: K): Counted<K> | undefined {
    const e = this.entries.get(key);
    return e && { key: e.key, count: e.count, error: e.error };
  }

  get size(): number {
    return this.heap.length;
  }

  /** The `n` most counted, most first; ties by key, so output is stable. */
  top(n: number): Counted<K>[] {
    return [...this.heap]
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, n)
      .map((e) => ({ key: e.key, count: e.count, error: e.error }));
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.count <= h[i]!.count) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.count < h[m]!.count) m = l;
      if (r < h.length && h[r]!.count < h[m]!.count) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a]!;
    h[a] = h[b]!;
    h[b] = t;
    h[a]!.at = a;
    h[b]!.at = b;
  }
}
