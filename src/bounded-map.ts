/**
 * A Map that forgets its oldest entries past a size: rsttrace's user-space
 * tables (resets by cookie and 4-tuple, symbolized stacks) stay bounded under
 * any storm. Setting a key again makes it the newest.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    else if (this.size >= this.max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
