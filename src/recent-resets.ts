/**
 * The newest resets, remembered for linking: a failed syscall to the reset
 * on its socket (by cookie), a reset to the other end's (by direction and
 * 4-tuple).
 *
 * Two rings, one of resets on a socket (with a cookie), one of resets
 * without (a SYN to a closed port, a segment for no connection): a flood of
 * those, a scan, cannot push out the resets that failed syscalls up to a
 * minute later are linked to by cookie.
 *
 * Kept out of the garbage collector's way: the rings are typed arrays,
 * found through open-addressing tables of ring slots. As objects in Maps,
 * each remembered reset outlived the young generation and was promoted; in a
 * storm (~120 k resets a second) that filled the old generation and V8 ran a
 * full mark-compact every ~330 ms (bench/FINDINGS.md). A reset leaving what a
 * table covers leaves the table there and then (backward-shift deletion, no
 * tombstones): chains stay short and a lookup never meets a stale entry.
 *
 * Every reset is looked up once by the tuple of the other end's, among the
 * newest few (`newestByTuple`): that table is kept as resets come, and is
 * small enough to stay in the CPU's cache. The tables over whole
 * rings (by cookie, by tuple) are megabytes: each look into one is a cache
 * miss, three a reset when they were kept as resets came, a sixth of
 * rsttrace's CPU in a storm. Only failed syscalls look into them, so they
 * are brought up to date by a lookup (RingIndex), not by every add.
 */
import type { Family } from './addr.js';

export type Direction = 'send' | 'recv';
export type Endpoints = { family: Family; laddr: string; lport: number; raddr: string; rport: number };

/** What a lookup returns when no such reset is held. */
export const NONE = -1;

/** FNV-1a over direction, addresses and ports: a 4-tuple's hash (compared on lookup). */
export function tupleHash(direction: Direction, laddr: string, lport: number, raddr: string, rport: number): number {
  let h = direction === 'send' ? 0x811c9dc5 : 0x050c5d1f;
  for (let i = 0; i < laddr.length; i++) h = Math.imul(h ^ laddr.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ lport, 0x01000193);
  for (let i = 0; i < raddr.length; i++) h = Math.imul(h ^ raddr.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ rport, 0x01000193);
}

/** A socket cookie (an integer below 2^53) mixed to 32 bits. */
function cookieHash(cookie: number): number {
  const h = Math.imul((cookie >>> 0) ^ Math.imul((cookie / 0x100000000) >>> 0, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * Ring slots by a key's hash, linear probing. A cell is two ints: slot + 1
 * (0: empty) and the key's hash, so that probing past other keys, and the
 * shifts of a removal, read the table alone: each look at a slot's facts is
 * a cache miss in a storm (the rings are megabytes). Twice as many cells as
 * the slots it may index: at most half full.
 */
class SlotIndex {
  /** cell i: slot + 1 at 2i, hash at 2i + 1 */
  readonly cells: Int32Array;
  readonly mask: number;

  constructor(indexedSlots: number) {
    this.cells = new Int32Array(4 * indexedSlots);
    this.mask = 2 * indexedSlots - 1;
  }

  /** slot's key (hash h) is new, or now belongs to slot: `at` is the cell a lookup of it ended on (its cell, or the empty one). */
  put(at: number, slot: number, h: number): void {
    this.cells[2 * at] = slot + 1;
    this.cells[2 * at + 1] = h;
  }

  /** slot (its key's hash h) leaves the index if it is there (a newer reset with its key may have taken its cell). */
  remove(slot: number, h: number): void {
    const { cells, mask } = this;
    let i = h & mask;
    for (;;) {
      const c = cells[2 * i]!;
      if (c === 0) return;
      if (c === slot + 1) break;
      i = (i + 1) & mask;
    }
    // shift back each later entry of the run that may live at i: one whose
    // home is not in the cyclic range (i, j]
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const c = cells[2 * j]!;
      if (c === 0) break;
      const home = cells[2 * j + 1]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        cells[2 * i] = c;
        cells[2 * i + 1] = cells[2 * j + 1]!;
        i = j;
      }
    }
    cells[2 * i] = 0;
  }
}

/*
 * A slot's facts, side by side in one array so that a lookup's checks read
 * one cache line: id, monoNs, cookie, and the ports and direction as one
 * exact number (tupleKey).
 */
const ID = 0;
const MONO_NS = 1;
const COOKIE = 2;
const TUPLE_KEY = 3;
const FACTS = 4;

/** Which of a slot's two hashes a table is keyed by. */
const TUPLE_HASH = 0;
const COOKIE_HASH = 1;

function tupleKey(direction: Direction, lport: number, rport: number): number {
  return lport + rport * 0x10000 + (direction === 'recv' ? 0x100000000 : 0);
}

/**
 * One ring's resets by one key, brought up to date when looked up: the
 * resets added since are put in then, oldest first, so that of two with one
 * key the newer ends up in the cell.
 */
class RingIndex {
  readonly slots: SlotIndex;
  /** the ring's resets added before the n-th are in it, if still held */
  indexed = 0;

  constructor(
    readonly ring: number,
    readonly hash: typeof TUPLE_HASH | typeof COOKIE_HASH,
    perRing: number,
  ) {
    this.slots = new SlotIndex(perRing);
  }
}

export class RecentResets {
  /** slots of each ring: the first ring is slots 0 to perRing - 1, resets with a cookie */
  private readonly perRing: number;
  /** resets added to each ring so far; a ring's newest is in its slot (added - 1) % perRing */
  private readonly added = [0, 0];
  /** FACTS numbers a slot */
  private readonly facts: Float64Array;
  /** laddr, raddr a slot */
  private readonly addrs: string[];
  private readonly ipv6: Uint8Array;
  /** the slot's tuple hash and cookie hash, for finding and for leaving the tables */
  private readonly hashes: Int32Array;
  /** how many of the newest resets, of both rings, `newest` holds */
  private readonly window: number;
  /** the newest `window` resets by tuple, kept as they are added */
  private readonly newest: SlotIndex;
  /** their slots and tuple hashes, in the order they were added: entry n % window is the n-th reset's */
  private readonly order: Int32Array;
  private total = 0;
  /** each ring's resets by tuple */
  private readonly tuples: [RingIndex, RingIndex];
  /** the first ring's by cookie (the second's have none) */
  private readonly cookies: RingIndex;

  /**
   * perRing: how many of the newest resets of each kind are held; window:
   * how many of the newest of either kind newestByTuple looks among (at
   * most perRing). Both rounded up to a power of two.
   */
  constructor(perRing: number, window = perRing) {
    const pow2 = (x: number) => {
      let r = 1;
      while (r < x) r *= 2;
      return r;
    };
    const r = pow2(perRing);
    this.perRing = r;
    const n = 2 * r;
    this.facts = new Float64Array(FACTS * n);
    this.addrs = new Array<string>(2 * n).fill('');
    this.ipv6 = new Uint8Array(n);
    this.hashes = new Int32Array(2 * n);
    this.window = Math.min(pow2(window), r);
    this.newest = new SlotIndex(this.window);
    this.order = new Int32Array(2 * this.window).fill(-1);
    this.tuples = [new RingIndex(0, TUPLE_HASH, r), new RingIndex(1, TUPLE_HASH, r)];
    this.cookies = new RingIndex(0, COOKIE_HASH, r);
  }

  /** Resets held: the newest of each kind, up to `perRing` each. */
  get size(): number {
    return Math.min(this.added[0]!, this.perRing) + Math.min(this.added[1]!, this.perRing);
  }

  /**
   * A reset (cookie 0: none), the newest one of its tuple and of its
   * cookie; the oldest of its kind goes if its ring is full. Ids increase
   * from one add to the next.
   */
  add(id: number, monoNs: number, direction: Direction, ends: Endpoints, cookie: number): void {
    const ring = cookie !== 0 ? 0 : 1;
    const added = this.added[ring]!;
    const slot = ring * this.perRing + (added % this.perRing);
    const { facts, hashes, order } = this;
    // The removals are made whether or not there is anything to remove:
    // code first run when a table is full (after thousands of resets)
    // deoptimized this function then.
    // The reset added `window` ago leaves the window (none yet: slot -1,
    // never in it; a window is at most a ring: the slot still holds it).
    const w = 2 * (this.total & (this.window - 1));
    this.newest.remove(order[w]!, order[w + 1]!);
    order[w] = slot;
    this.total++;
    // the reset the slot held, if any, leaves the ring's tables it went into
    // (put in when they were last brought up to date; old < 0: none held)
    const old = added - this.perRing;
    const tuples = this.tuples[ring]!;
    if (old < tuples.indexed) tuples.slots.remove(slot, hashes[2 * slot + TUPLE_HASH]!);
    if (ring === 0 && old < this.cookies.indexed) this.cookies.slots.remove(slot, hashes[2 * slot + COOKIE_HASH]!);
    this.added[ring] = added + 1;
    const f = FACTS * slot;
    const key = tupleKey(direction, ends.lport, ends.rport);
    facts[f + ID] = id;
    facts[f + MONO_NS] = monoNs;
    facts[f + COOKIE] = cookie;
    facts[f + TUPLE_KEY] = key;
    this.addrs[2 * slot] = ends.laddr;
    this.addrs[2 * slot + 1] = ends.raddr;
    this.ipv6[slot] = ends.family === 'ipv6' ? 1 : 0;
    const th = tupleHash(direction, ends.laddr, ends.lport, ends.raddr, ends.rport);
    hashes[2 * slot + TUPLE_HASH] = th;
    hashes[2 * slot + COOKIE_HASH] = cookie === 0 ? 0 : cookieHash(cookie);
    order[w + 1] = th;
    this.newest.put(this.findTuple(this.newest, th, key, ends.laddr, ends.raddr), slot, th);
  }

  /** Put in the resets of its ring added since it was last looked into. */
  private catchUp(x: RingIndex): void {
    const added = this.added[x.ring]!;
    if (x.indexed === added) return;
    const { facts, hashes, addrs } = this;
    // what has left the ring since is not put in
    for (let n = Math.max(x.indexed, added - this.perRing); n < added; n++) {
      const slot = x.ring * this.perRing + (n % this.perRing);
      const h = hashes[2 * slot + x.hash]!;
      const at =
        x.hash === COOKIE_HASH
          ? this.findCookie(x.slots, h, facts[FACTS * slot + COOKIE]!)
          : this.findTuple(x.slots, h, facts[FACTS * slot + TUPLE_KEY]!, addrs[2 * slot]!, addrs[2 * slot + 1]!);
      x.slots.put(at, slot, h);
    }
    x.indexed = added;
  }

  /** The newest reset on the socket with this cookie, or NONE. */
  byCookie(cookie: number): number {
    if (cookie === 0) return NONE;
    const x = this.cookies;
    this.catchUp(x);
    return x.slots.cells[2 * this.findCookie(x.slots, cookieHash(cookie), cookie)]! - 1;
  }

  /** The newest reset held in this direction on this 4-tuple (as the reset's socket sees it), or NONE. */
  byTuple(direction: Direction, laddr: string, lport: number, raddr: string, rport: number): number {
    const h = tupleHash(direction, laddr, lport, raddr, rport);
    const key = tupleKey(direction, lport, rport);
    let best = NONE;
    for (const x of this.tuples) {
      this.catchUp(x);
      const slot = x.slots.cells[2 * this.findTuple(x.slots, h, key, laddr, raddr)]! - 1;
      if (slot !== NONE && (best === NONE || this.id(slot) > this.id(best))) best = slot;
    }
    return best;
  }

  /** byTuple among the newest `window` resets added (of either kind). */
  newestByTuple(direction: Direction, laddr: string, lport: number, raddr: string, rport: number): number {
    const at = this.findTuple(this.newest, tupleHash(direction, laddr, lport, raddr, rport), tupleKey(direction, lport, rport), laddr, raddr);
    return this.newest.cells[2 * at]! - 1;
  }

  id(slot: number): number {
    return this.facts[FACTS * slot + ID]!;
  }

  monoNs(slot: number): number {
    return this.facts[FACTS * slot + MONO_NS]!;
  }

  ends(slot: number): Endpoints {
    const key = this.facts[FACTS * slot + TUPLE_KEY]!;
    return {
      family: this.ipv6[slot] ? 'ipv6' : 'ipv4',
      laddr: this.addrs[2 * slot]!,
      lport: key & 0xffff,
      raddr: this.addrs[2 * slot + 1]!,
      rport: (key >>> 16) & 0xffff, // >>> takes the key modulo 2^32: the direction bit goes
    };
  }

  /** The cell of `index` holding this cookie's slot, or the empty cell that ends its chain. */
  private findCookie(index: SlotIndex, h: number, cookie: number): number {
    const { cells, mask } = index;
    let i = h & mask;
    for (;;) {
      const c = cells[2 * i]!;
      if (c === 0) return i;
      if (cells[2 * i + 1] === h && this.facts[FACTS * (c - 1) + COOKIE] === cookie) return i;
      i = (i + 1) & mask;
    }
  }

  /** The cell of `index` holding this tuple's slot (key: tupleKey), or the empty cell that ends its chain. */
  private findTuple(index: SlotIndex, h: number, key: number, laddr: string, raddr: string): number {
    const { cells, mask } = index;
    let i = h & mask;
    for (;;) {
      const c = cells[2 * i]!;
      if (c === 0) return i;
      const s = c - 1;
      if (cells[2 * i + 1] === h && this.facts[FACTS * s + TUPLE_KEY] === key && this.addrs[2 * s] === laddr && this.addrs[2 * s + 1] === raddr) return i;
      i = (i + 1) & mask;
    }
  }
}
