/**
 * Kernel addresses -> function names, from /proc/kallsyms (read once, when
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

export function parseKallsyms(text: string): { addrs: Uint32Array; names: string[] } {
  const lines = text.split('\n');
  const entries: { addr: number; name: string }[] = [];
  for (const line of lines) {
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) continue;
    const type = line.charCodeAt(sp1 + 1) | 0x20; // lower case
    if (type !== 0x74 /* t */ || line.slice(0, sp1 - 8) !== 'ffffffff') continue;
    const tab = line.indexOf('\t', sp1 + 3);
    const addr = parseInt(line.slice(sp1 - 8, sp1), 16);
    if (addr === 0) continue; // addresses hidden (kptr_restrict): nothing to map
    entries.push({ addr, name: tab < 0 ? line.slice(sp1 + 3) : line.slice(sp1 + 3, tab) });
  }
  entries.sort((a, b) => a.addr - b.addr);
  return { addrs: Uint32Array.from(entries, (e) => e.addr), names: entries.map((e) => e.name) };
}

export function symbolizer(table: { addrs: Uint32Array; names: string[] }): Symbolizer {
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
        if (table.addrs[lo]! <= low) result = table.names[lo]!;
      }
      if (cache.size > 100_000) cache.clear();
      cache.set(addr, result);
      return result;
    },
  };
}

let kernel: Symbolizer | undefined;

function loadKernel(): Symbolizer {
  if (!kernel) {
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'latin1');
    } catch {
      // not readable: stacks stay as addresses
    }
    kernel = symbolizer(parseKallsyms(text));
  }
  return kernel;
}

/**
 * The running kernel's symbols; an empty table (addresses shown raw) if
 * unreadable. Read on first use (about 0.1 s): not before tracing starts.
 */
export function kernelSymbols(): Symbolizer {
  return { name: (addr) => loadKernel().name(addr) };
}

/** Reads the table now, e.g. right after attaching, before the first stack needs it. */
export function warmKernelSymbols(): void {
  loadKernel();
}
