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
 * found through two open-addressing tables of ring slots. As objects in
 * Maps, each remembered reset outlived the young generation and was promoted; in a storm (~120 k resets a second) that
 * filled the old generation and V8 ran a full mark-compact every ~330 ms
 * (bench/FINDINGS.md). A reset overwritten in the ring leaves both tables
 * there and then (backward-shift deletion, no tombstones): chains stay short
 * and a lookup never meets a stale entry.
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
 * Ring slots by a key's hash, linear probing. A cell holds slot + 1 (0 is
 * empty); the hash of a slot's key is the ring's, in `hashes`. Twice as many
 * cells as the slots it may index: at most half full.
 */
class SlotIndex {
  readonly cells: Int32Array;
  readonly mask: number;

  constructor(
    indexedSlots: number,
    private readonly hashes: Int32Array,
  ) {
    this.cells = new Int32Array(2 * indexedSlots);
    this.mask = 2 * indexedSlots - 1;
  }

  /** The first cell of hash h's chain. */
  home(h: number): number {
    return h & this.mask;
  }

  /** slot's key is new, or now belongs to slot: `at` is the cell a lookup of it ended on (its cell, or the empty one). */
  put(at: number, slot: number): void {
    this.cells[at] = slot + 1;
  }

  /** slot leaves the index if it is there (a newer reset with its key may have taken its cell). */
  remove(slot: number): void {
    const { cells, mask } = this;
    let i = this.hashes[slot]! & mask;
    for (;;) {
      const c = cells[i]!;
      if (c === 0) return;
      if (c === slot + 1) break;
      i = (i + 1) & mask;
    }
    // shift back each later entry of the run that may live at i: one whose
    // home is not in the cyclic range (i, j]
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const c = cells[j]!;
      if (c === 0) break;
      const home = this.hashes[c - 1]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        cells[i] = c;
        i = j;
      }
    }
    cells[i] = 0;
  }
}

export class RecentResets {
  /** slots of each ring: the first ring is slots 0 to perRing - 1, resets with a cookie */
  private readonly perRing: number;
  /** resets added to each ring so far; a ring's newest is in its slot (added - 1) % perRing */
  private readonly added = [0, 0];
  private readonly ids: Float64Array;
  private readonly monoNs_: Float64Array;
  private readonly cookies: Float64Array;
  private readonly recv: Uint8Array;
  private readonly ipv6: Uint8Array;
  private readonly lports: Uint16Array;
  private readonly rports: Uint16Array;
  private readonly laddrs: string[];
  private readonly raddrs: string[];
  private readonly tupleHashes: Int32Array;
  private readonly cookieHashes: Int32Array;
  private readonly byTuple_: SlotIndex;
  private readonly byCookie_: SlotIndex;

  /** perRing: how many of the newest resets of each kind are held, rounded up to a power of two */
  constructor(perRing: number) {
    let r = 1;
    while (r < perRing) r *= 2;
    this.perRing = r;
    const n = 2 * r;
    this.ids = new Float64Array(n);
    this.monoNs_ = new Float64Array(n);
    this.cookies = new Float64Array(n);
    this.recv = new Uint8Array(n);
    this.ipv6 = new Uint8Array(n);
    this.lports = new Uint16Array(n);
    this.rports = new Uint16Array(n);
    this.laddrs = new Array<string>(n).fill('');
    this.raddrs = new Array<string>(n).fill('');
    this.tupleHashes = new Int32Array(n);
    this.cookieHashes = new Int32Array(n);
    this.byTuple_ = new SlotIndex(n, this.tupleHashes);
    this.byCookie_ = new SlotIndex(r, this.cookieHashes);
  }

  /** Resets held: the newest of each kind, up to `perRing` each. */
  get size(): number {
    return Math.min(this.added[0]!, this.perRing) + Math.min(this.added[1]!, this.perRing);
  }

  /** A reset (cookie 0: none), the newest one of its tuple and of its cookie; the oldest of its kind goes if its ring is full. */
  add(id: number, monoNs: number, direction: Direction, ends: Endpoints, cookie: number): void {
    const ring = cookie !== 0 ? 0 : 1;
    const added = this.added[ring]!;
    const slot = ring * this.perRing + (added % this.perRing);
    if (added >= this.perRing) {
      this.byTuple_.remove(slot);
      if (ring === 0) this.byCookie_.remove(slot);
    }
    this.added[ring] = added + 1;
    this.ids[slot] = id;
    this.monoNs_[slot] = monoNs;
    this.cookies[slot] = cookie;
    this.recv[slot] = direction === 'recv' ? 1 : 0;
    this.ipv6[slot] = ends.family === 'ipv6' ? 1 : 0;
    this.lports[slot] = ends.lport;
    this.rports[slot] = ends.rport;
    this.laddrs[slot] = ends.laddr;
    this.raddrs[slot] = ends.raddr;
    const th = tupleHash(direction, ends.laddr, ends.lport, ends.raddr, ends.rport);
    this.tupleHashes[slot] = th;
    this.byTuple_.put(this.findTuple(th, direction, ends.laddr, ends.lport, ends.raddr, ends.rport), slot);
    if (cookie !== 0) {
      const ch = cookieHash(cookie);
      this.cookieHashes[slot] = ch;
      this.byCookie_.put(this.findCookie(ch, cookie), slot);
    }
  }

  /** The newest reset on the socket with this cookie, or NONE. */
  byCookie(cookie: number): number {
    if (cookie === 0) return NONE;
    const c = this.byCookie_.cells[this.findCookie(cookieHash(cookie), cookie)]!;
    return c - 1;
  }

  /** The newest reset in this direction on this 4-tuple (as the reset's socket sees it), or NONE. */
  byTuple(direction: Direction, laddr: string, lport: number, raddr: string, rport: number): number {
    const at = this.findTuple(tupleHash(direction, laddr, lport, raddr, rport), direction, laddr, lport, raddr, rport);
    return this.byTuple_.cells[at]! - 1;
  }

  id(slot: number): number {
    return this.ids[slot]!;
  }

  monoNs(slot: number): number {
    return this.monoNs_[slot]!;
  }

  ends(slot: number): Endpoints {
    return {
      family: this.ipv6[slot] ? 'ipv6' : 'ipv4',
      laddr: this.laddrs[slot]!,
      lport: this.lports[slot]!,
      raddr: this.raddrs[slot]!,
      rport: this.rports[slot]!,
    };
  }

  /** The cell holding this cookie's slot, or the empty cell that ends its chain. */
  private findCookie(h: number, cookie: number): number {
    const { cells, mask } = this.byCookie_;
    let i = this.byCookie_.home(h);
    for (;;) {
      const c = cells[i]!;
      if (c === 0) return i;
      const s = c - 1;
      if (this.cookieHashes[s] === h && this.cookies[s] === cookie) return i;
      i = (i + 1) & mask;
    }
  }

  /** The cell holding this tuple's slot, or the empty cell that ends its chain. */
  private findTuple(h: number, direction: Direction, laddr: string, lport: number, raddr: string, rport: number): number {
    const { cells, mask } = this.byTuple_;
    const recv = direction === 'recv' ? 1 : 0;
    let i = this.byTuple_.home(h);
    for (;;) {
      const c = cells[i]!;
      if (c === 0) return i;
      const s = c - 1;
      if (
        this.tupleHashes[s] === h &&
        this.recv[s] === recv &&
        this.lports[s] === lport &&
        this.rports[s] === rport &&
        this.laddrs[s] === laddr &&
        this.raddrs[s] === raddr
      )
        return i;
      i = (i + 1) & mask;
    }
  }
}
