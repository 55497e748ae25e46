/**
 * A map that forgets its oldest entries past a size: rsttrace's user-space
 * tables (resets by cookie and 4-tuple, symbolized stacks) stay bounded under
 * any storm. Two generations rather than an exact LRU: new entries go to the
 * young map; when it holds half the size it becomes the old one and the
 * previous old one is dropped whole. No per-entry bookkeeping (an exact LRU on
 * a Map cost an iterator per insertion, in the per-event path); the newest
 * max/2 entries are always kept, never more than max in all.
 */
export class BoundedMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(readonly max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  /** entries held, a key set in both generations counted twice */
  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    return v !== undefined || this.young.has(key) ? v : this.old.get(key);
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  /**
   * Setting a key again makes it new. A copy left in the old generation is
   * shadowed by the young one and dropped with its generation (deleting it
   * here was a Map operation per insertion, in the per-event path).
   */
  set(key: K, value: V): this {
    this.young.set(key, value);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    return this;
  }
}

/**
 * A hash used as a Map key is kept to 30 bits (`h & SMI_KEY`): V8 holds
 * smaller integers unboxed (Smi); a key past 2^30 is a heap number, boxed on
 * every get and set.
 */
export const SMI_KEY = 0x3fffffff;
