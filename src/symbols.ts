/**
 * Kernel addresses -> function names, from /proc/kallsyms (read once: by
 * the tracer on a pool thread once its programs are loaded, otherwise when
 * first needed). All kernel text and modules live in the top 2 GiB of the
 * address space, so an address is kept as its low 32 bits: exact, and a
 * Uint32Array rather than 120 000 bigints.
 */
import { readFileSync } from 'node:fs';

export interface Symbolizer {
  /** "tcp_v4_rcv+0x1a2/0x..." style is noisy: names only, or "0x..." when unknown */
  name(addr: bigint): string;
}

const KERNEL_HIGH = 0xffffffffn;

/** Text symbols by address: addresses sorted, names on demand. */
export interface SymbolTable {
  addrs: Uint32Array;
  nameAt(index: number): string;
}

/** Value of one hex digit (ASCII code), or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  return c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
}

/** The address's upper 32 bits are all ones: kernel text (8 hex 'f's). */
function highHalf(b: Buffer, at: number): boolean {
  for (let i = at; i < at + 8; i++) if ((b[i]! | 0x20) !== 0x66) return false;
  return true;
}

/** Most text symbols a table keeps: an index fits in a sort key's low 21 bits. */
const MAX_SYMBOLS = 1 << 21;

/**
 * Parsed byte by byte into typed arrays: about 120 000 lines, of which the
 * text symbols are kept. Splitting the text into line strings and objects
 * (as this once did) left ~70 MB of heap behind for a table of a few MB.
 * Parsed right after attaching, while a storm may be starting: no pass
 * only to count lines, no sort when the kernel listed the symbols in order
 * (its own are; modules may not be), and the names copied byte by byte,
 * not one Buffer#copy each (43 -> 23 ms here).
 */
export function parseKallsyms(input: string | Buffer): SymbolTable {
  const b = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  // a text symbol's line is at least "<16 hex digits> t x": 20 bytes
  const cap = Math.min((b.length >> 4) + 1, MAX_SYMBOLS);
  const addrs = new Uint32Array(cap);
  const starts = new Uint32Array(cap);
  const ends = new Uint32Array(cap);
  let n = 0;
  let sorted = true;
  for (let at = 0; at < b.length && n < cap; ) {
    let eol = b.indexOf(0x0a, at);
    if (eol < 0) eol = b.length;
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    const sp1 = at + 16;
    const type = sp1 + 1 < eol ? b[sp1 + 1]! | 0x20 : 0;
    if (b[sp1] === 0x20 && type === 0x74 /* t */ && b[sp1 + 2] === 0x20 && highHalf(b, at)) {
      let addr = 0;
      let ok = true;
      for (let i = at + 8; i < sp1; i++) {
        const d = hexDigit(b[i]!);
        if (d < 0) ok = false;
        addr = addr * 16 + d;
      }
      let nameEnd = sp1 + 3;
      while (nameEnd < eol && b[nameEnd] !== 0x09) nameEnd++;
      // addresses hidden (kptr_restrict): nothing to map
      if (ok && addr !== 0) {
        if (n > 0 && addr < addrs[n - 1]!) sorted = false;
        addrs[n] = addr;
        starts[n] = sp1 + 3;
        ends[n] = nameEnd;
        n++;
      }
    }
    at = eol + 1;
  }
  // by address, and among equal addresses in the kernel's order: keys of
  // address and index sorted as numbers, not by a comparator
  const order = new Uint32Array(n);
  if (sorted) {
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = addrs[i]! * MAX_SYMBOLS + i;
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = keys[k]! % MAX_SYMBOLS;
  }
  // only the names are kept, in one buffer, in address order
  let size = 0;
  for (let i = 0; i < n; i++) size += ends[i]! - starts[i]!;
  const pool = Buffer.allocUnsafe(size);
  const sortedAddrs = new Uint32Array(n);
  const offsets = new Uint32Array(n + 1);
  let off = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    sortedAddrs[k] = addrs[i]!;
    offsets[k] = off;
    for (let j = starts[i]!, end = ends[i]!; j < end; j++) pool[off++] = b[j]!;
  }
  offsets[n] = off;
  return { addrs: sortedAddrs, nameAt: (i) => pool.toString('latin1', offsets[i]!, offsets[i + 1]!) };
}

export function symbolizer(table: SymbolTable): Symbolizer {
  const cache = new Map<bigint, string>();
  return {
    name(addr) {
      const hit = cache.get(addr);
      if (hit !== undefined) return hit;
      let result = `0x${addr.toString(16)}`;
      if (addr >> 32n === KERNEL_HIGH && table.addrs.length > 0) {
        const low = Number(addr & 0xffffffffn);
        let lo = 0;
        let hi = table.addrs.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (table.addrs[mid]! <= low) lo = mid;
          else hi = mid - 1;
        }
        if (table.addrs[lo]! <= low) result = table.nameAt(lo);
      }
      if (cache.size > 100_000) cache.clear();
      cache.set(addr, result);
      return result;
    },
  };
}

let kernel: Symbolizer | undefined;

/** The table in use; the first call makes it from `given`, or reads /proc/kallsyms. */
function loadKernel(given?: Buffer): Symbolizer {
  if (!kernel) {
    let text = given ?? Buffer.alloc(0);
    if (!given) {
      try {
        text = readFileSync('/proc/kallsyms');
      } catch {
        // not readable: stacks stay as addresses
      }
    }
    kernel = symbolizer(parseKallsyms(text));
  }
  return kernel;
}

/**
 * The running kernel's symbols; an empty table (addresses shown raw) if
 * unreadable. Read on first use (about 0.1 s) unless given before.
 */
export function kernelSymbols(): Symbolizer {
  return { name: (addr) => loadKernel().name(addr) };
}

/** The table from /proc/kallsyms as read elsewhere (the tracer reads it on a pool thread), unless one is in use. */
export function useKernelSymbols(text: Buffer): void {
  loadKernel(text);
}
