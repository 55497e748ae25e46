import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/bounded-map.js';

describe('BoundedMap', () => {
  it('never holds more than its size: the oldest go first', () => {
    const m = new BoundedMap<number, number>(1000);
    for (let i = 0; i < 1_000_000; i++) m.set(i, i);
    expect(m.size).toBe(1000);
    expect(m.has(998_999)).toBe(false);
    expect(m.get(999_000)).toBe(999_000);
    expect([...m.keys()][0]).toBe(999_000);
  });

  it('setting a key again makes it the newest', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...m.entries()]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
