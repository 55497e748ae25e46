import { describe, expect, it } from 'vitest';
import { NONE, RecentResets, tupleHash, type Direction, type Endpoints } from '../../src/recent-resets.js';

const v4 = (laddr: string, lport: number, raddr: string, rport: number): Endpoints => ({ family: 'ipv4', laddr, lport, raddr, rport });

describe('RecentResets', () => {
  it('finds a reset by cookie and by direction and 4-tuple, and nothing else', () => {
    const r = new RecentResets(8);
    r.add(7, 1000, 'recv', v4('127.0.0.1', 40000, '127.0.0.1', 9), 55);
    const byCookie = r.byCookie(55);
    expect(byCookie).not.toBe(NONE);
    expect(r.id(byCookie)).toBe(7);
    expect(r.monoNs(byCookie)).toBe(1000);
    expect(r.byTuple('recv', '127.0.0.1', 40000, '127.0.0.1', 9)).toBe(byCookie);
    expect(r.ends(byCookie)).toEqual(v4('127.0.0.1', 40000, '127.0.0.1', 9));
    // the other direction, the tuple reversed, another cookie: none of them
    expect(r.byTuple('send', '127.0.0.1', 40000, '127.0.0.1', 9)).toBe(NONE);
    expect(r.byTuple('recv', '127.0.0.1', 9, '127.0.0.1', 40000)).toBe(NONE);
    expect(r.byCookie(56)).toBe(NONE);
  });

  it('indexes no cookie for a reset without a socket (cookie 0)', () => {
    const r = new RecentResets(4);
    r.add(1, 1, 'send', v4('10.0.0.1', 80, '10.0.0.2', 5000), 0);
    expect(r.byCookie(0)).toBe(NONE);
    expect(r.id(r.byTuple('send', '10.0.0.1', 80, '10.0.0.2', 5000))).toBe(1);
  });

  it('keeps IPv6 endpoints and cookies past 2^32 exact', () => {
    const r = new RecentResets(4);
    const ends: Endpoints = { family: 'ipv6', laddr: '::1', lport: 443, raddr: 'fe80::1', rport: 65535 };
    const cookie = 2 ** 52 + 3;
    r.add(9, 2 ** 50, 'send', ends, cookie);
    expect(r.byCookie(cookie - 1)).toBe(NONE);
    expect(r.ends(r.byCookie(cookie))).toEqual(ends);
    expect(r.monoNs(r.byCookie(cookie))).toBe(2 ** 50);
  });

  it('a newer reset with the same key is found; the older one leaving its ring takes nothing with it', () => {
    const r = new RecentResets(4);
    const ends = v4('127.0.0.1', 1, '127.0.0.1', 2);
    r.add(1, 10, 'recv', ends, 100);
    r.add(2, 20, 'recv', ends, 100);
    expect(r.id(r.byCookie(100))).toBe(2);
    expect(r.id(r.byTuple('recv', '127.0.0.1', 1, '127.0.0.1', 2))).toBe(2);
    // three more with a cookie push reset 1 out of their ring, then reset 2
    r.add(3, 30, 'send', v4('127.0.0.1', 3, '127.0.0.1', 4), 101);
    r.add(4, 40, 'send', v4('127.0.0.1', 5, '127.0.0.1', 6), 102);
    r.add(5, 50, 'send', v4('127.0.0.1', 7, '127.0.0.1', 8), 103);
    expect(r.size).toBe(4);
    expect(r.id(r.byCookie(100))).toBe(2);
    r.add(6, 60, 'send', v4('127.0.0.1', 9, '127.0.0.1', 10), 104);
    expect(r.byCookie(100)).toBe(NONE);
    expect(r.byTuple('recv', '127.0.0.1', 1, '127.0.0.1', 2)).toBe(NONE);
    expect(r.id(r.byTuple('send', '127.0.0.1', 9, '127.0.0.1', 10))).toBe(6);
  });

  it('keeps resets with a cookie through any number without one', () => {
    const r = new RecentResets(4);
    r.add(1, 10, 'recv', v4('127.0.0.1', 1, '127.0.0.1', 2), 100);
    for (let id = 2; id < 1000; id++) r.add(id, id * 10, 'send', v4('10.0.0.1', id, '127.0.0.1', 9), 0);
    expect(r.size).toBe(5);
    expect(r.id(r.byCookie(100))).toBe(1);
    expect(r.id(r.byTuple('recv', '127.0.0.1', 1, '127.0.0.1', 2))).toBe(1);
    expect(r.byTuple('send', '10.0.0.1', 995, '127.0.0.1', 9)).toBe(NONE);
    expect(r.id(r.byTuple('send', '10.0.0.1', 996, '127.0.0.1', 9))).toBe(996);
  });

  it('tells apart cookies whose 32-bit hashes are the same', () => {
    const r = new RecentResets(8);
    // cookieHash mixes the high half in as hi * 0x85ebca6b: with hi = 1 this
    // low half makes the same 32-bit input as cookie 5
    const twin = 2 ** 32 + ((5 ^ 0x85ebca6b) >>> 0);
    r.add(1, 10, 'recv', v4('127.0.0.1', 1, '127.0.0.1', 2), 5);
    expect(r.byCookie(twin)).toBe(NONE);
    r.add(2, 20, 'recv', v4('127.0.0.1', 3, '127.0.0.1', 4), twin);
    expect(r.id(r.byCookie(5))).toBe(1);
    expect(r.id(r.byCookie(twin))).toBe(2);
  });

  it('tells apart 4-tuples whose hashes are the same', () => {
    // two local addresses that collide, found by trying (birthday bound: ~77 k for even odds)
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair && i < 1 << 22; i++) {
      const laddr = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const h = tupleHash('recv', laddr, 1, '127.0.0.1', 2);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, laddr];
      else seen.set(h, laddr);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const r = new RecentResets(8);
    r.add(1, 10, 'recv', v4(a, 1, '127.0.0.1', 2), 0);
    expect(r.byTuple('recv', b, 1, '127.0.0.1', 2)).toBe(NONE);
    r.add(2, 20, 'recv', v4(b, 1, '127.0.0.1', 2), 0);
    expect(r.id(r.byTuple('recv', a, 1, '127.0.0.1', 2))).toBe(1);
    expect(r.id(r.byTuple('recv', b, 1, '127.0.0.1', 2))).toBe(2);
  });

  it.each([
    [32, 32],
    [32, 8],
  ])('answers as lists of the newest resets of each kind would, over a long run of colliding keys (%i a ring, window %i)', (perRing, window) => {
    // small rings and few distinct keys: chains wrap around the tables,
    // keys come back, entries leave from the middle of runs
    const r = new RecentResets(perRing, window);
    type Added = { id: number; direction: Direction; ends: Endpoints; cookie: number };
    const log: Added[] = [];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const tuples: Endpoints[] = [];
    for (let i = 0; i < 150; i++) tuples.push(v4(`10.0.${i % 3}.${rand(4)}`, 1000 + rand(6), '127.0.0.1', 9 + (i % 2)));
    /** still held: among the newest perRing of its kind */
    const held = (a: Added) => log.filter((b) => (b.cookie !== 0) === (a.cookie !== 0) && b.id >= a.id).length <= perRing;
    /** the newest held reset with the key (of either kind: an older one of the other kind may outlive a newer one) */
    const newest = (match: (e: Added) => boolean, among = log) => {
      for (let i = among.length - 1; i >= 0; i--) if (match(among[i]!) && held(among[i]!)) return among[i]!.id;
      return undefined;
    };
    const same = (a: Endpoints, b: Endpoints) => a.laddr === b.laddr && a.lport === b.lport && a.raddr === b.raddr && a.rport === b.rport;
    const wrong: string[] = [];
    for (let id = 1; id <= 6_000 && wrong.length < 5; id++) {
      const direction: Direction = rand(2) ? 'send' : 'recv';
      const ends = tuples[rand(tuples.length)]!;
      const cookie = rand(3) === 0 ? 0 : 1 + rand(60);
      r.add(id, id * 1000, direction, ends, cookie);
      log.push({ id, direction, ends, cookie });
      if (log.length > 4 * perRing + 400) log.splice(0, 200);
      // the window's table is kept as resets come: looked into after each
      const latest = log.slice(-window);
      for (const d of ['send', 'recv'] as const) {
        const t = tuples[rand(tuples.length)]!;
        const slot = r.newestByTuple(d, t.laddr, t.lport, t.raddr, t.rport);
        const got = slot === NONE ? undefined : r.id(slot);
        const want = newest((e) => e.direction === d && same(e.ends, t), latest);
        if (got !== want) wrong.push(`after ${id}: newest ${d} ${JSON.stringify(t)} gave ${got}, not ${want}`);
      }
      // the rings' tables are brought up to date by a lookup: not after each
      if (id % 7 !== 0) continue;
      for (let c = 1; c <= 60; c++) {
        const slot = r.byCookie(c);
        const got = slot === NONE ? undefined : r.id(slot);
        const want = newest((e) => e.cookie === c);
        if (got !== want) wrong.push(`after ${id}: cookie ${c} gave ${got}, not ${want}`);
      }
      for (const t of tuples) {
        for (const d of ['send', 'recv'] as const) {
          const slot = r.byTuple(d, t.laddr, t.lport, t.raddr, t.rport);
          const got = slot === NONE ? undefined : r.id(slot);
          const want = newest((e) => e.direction === d && same(e.ends, t));
          if (got !== want) wrong.push(`after ${id}: ${d} ${JSON.stringify(t)} gave ${got}, not ${want}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
