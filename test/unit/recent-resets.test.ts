import { describe, expect, it } from 'vitest';
import { NONE, RecentResets, type Direction, type Endpoints } from '../../src/recent-resets.js';

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

  it('a newer reset with the same key is found; the older one leaving the ring takes nothing with it', () => {
    const r = new RecentResets(4);
    const ends = v4('127.0.0.1', 1, '127.0.0.1', 2);
    r.add(1, 10, 'recv', ends, 100);
    r.add(2, 20, 'recv', ends, 100);
    expect(r.id(r.byCookie(100))).toBe(2);
    expect(r.id(r.byTuple('recv', '127.0.0.1', 1, '127.0.0.1', 2))).toBe(2);
    // three more push reset 1 out of the ring, then reset 2
    r.add(3, 30, 'send', v4('127.0.0.1', 3, '127.0.0.1', 4), 0);
    r.add(4, 40, 'send', v4('127.0.0.1', 5, '127.0.0.1', 6), 0);
    r.add(5, 50, 'send', v4('127.0.0.1', 7, '127.0.0.1', 8), 0);
    expect(r.size).toBe(4);
    expect(r.id(r.byCookie(100))).toBe(2);
    r.add(6, 60, 'send', v4('127.0.0.1', 9, '127.0.0.1', 10), 0);
    expect(r.byCookie(100)).toBe(NONE);
    expect(r.byTuple('recv', '127.0.0.1', 1, '127.0.0.1', 2)).toBe(NONE);
    expect(r.id(r.byTuple('send', '127.0.0.1', 9, '127.0.0.1', 10))).toBe(6);
  });

  it('answers as a list of the newest resets would, over a long run of colliding keys', () => {
    // a small ring and few distinct keys: chains wrap around the table,
    // keys come back, entries leave from the middle of runs
    const capacity = 64;
    const r = new RecentResets(capacity);
    const log: { id: number; direction: Direction; ends: Endpoints; cookie: number }[] = [];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const tuples: Endpoints[] = [];
    for (let i = 0; i < 150; i++) tuples.push(v4(`10.0.${i % 3}.${rand(4)}`, 1000 + rand(6), '127.0.0.1', 9 + (i % 2)));
    const newest = (match: (e: (typeof log)[number]) => boolean) => {
      for (let i = log.length - 1; i >= Math.max(0, log.length - capacity); i--) if (match(log[i]!)) return log[i]!.id;
      return undefined;
    };
    const wrong: string[] = [];
    for (let id = 1; id <= 20_000 && wrong.length < 5; id++) {
      const direction: Direction = rand(2) ? 'send' : 'recv';
      const ends = tuples[rand(tuples.length)]!;
      const cookie = rand(4) === 0 ? 0 : 1 + rand(120);
      r.add(id, id * 1000, direction, ends, cookie);
      log.push({ id, direction, ends, cookie });
      if (id % 7 !== 0) continue;
      for (let c = 1; c <= 120; c++) {
        const slot = r.byCookie(c);
        const got = slot === NONE ? undefined : r.id(slot);
        const want = newest((e) => e.cookie === c);
        if (got !== want) wrong.push(`after ${id}: cookie ${c} gave ${got}, not ${want}`);
      }
      for (const t of tuples) {
        for (const d of ['send', 'recv'] as const) {
          const slot = r.byTuple(d, t.laddr, t.lport, t.raddr, t.rport);
          const got = slot === NONE ? undefined : r.id(slot);
          const want = newest((e) => e.direction === d && e.ends.laddr === t.laddr && e.ends.lport === t.lport && e.ends.raddr === t.raddr && e.ends.rport === t.rport);
          if (got !== want) wrong.push(`after ${id}: ${d} ${JSON.stringify(t)} gave ${got}, not ${want}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
