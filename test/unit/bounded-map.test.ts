import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/bounded-map.js';

describe('BoundedMap', () => {
  it('never holds more than its size; the newest half always stays', () => {
    const m = new BoundedMap<number, number>(1000);
    for (let i = 0; i < 1_000_000; i++) {
      m.set(i, i);
      if (i % 997 === 0) expect(m.size).toBeLessThanOrEqual(1000);
    }
    expect(m.size).toBeLessThanOrEqual(1000);
    for (let i = 999_500; i < 1_000_000; i++) expect(m.get(i)).toBe(i);
    expect(m.has(998_999)).toBe(false);
    expect(m.get(0)).toBeUndefined();
  });

  it('setting a key again makes it new: it outlives its contemporaries', () => {
    const m = new BoundedMap<string, number>(4);
    m.set('a', 1).set('b', 2); // young full: a, b become old
    m.set('a', 3); // a is young again
    m.set('c', 4); // young full: a, c old; b dropped
    expect(m.has('b')).toBe(false);
    expect(m.get('a')).toBe(3);
    expect(m.get('c')).toBe(4);
    expect(m.size).toBe(2);
  });

  it('keeps undefined and falsy values apart from missing ones', () => {
    const m = new BoundedMap<string, number | undefined>(10);
    m.set('zero', 0).set('none', undefined);
    expect(m.get('zero')).toBe(0);
    expect(m.has('none')).toBe(true);
    expect(m.get('missing')).toBeUndefined();
  });
});
