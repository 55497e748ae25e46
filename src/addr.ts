/** Addresses and endpoints the way tcpdump and ss print them. */
import { words, type Words } from './words.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

export type Family = 'ipv4' | 'ipv6';

function isV4Mapped(a: Uint8Array, at = 0): boolean {
  for (let i = at; i < at + 10; i++) if (a[i] !== 0) return false;
  return a[at + 10] === 0xff && a[at + 11] === 0xff;
}

/*
 * Dotted quads by their 32-bit value: a storm names the same few hosts over
 * and over. A direct-mapped cache, not a Map: most addresses (127.0.0.1
 * among them) are past 2^30, keys V8 boxes on every Map lookup.
 */
const IPV4_SLOTS = 4096;
const ipv4Keys = new Int32Array(IPV4_SLOTS);
const ipv4Names: (string | undefined)[] = new Array<string | undefined>(IPV4_SLOTS).fill(undefined);

function ipv4(a: Uint8Array, at: number): string {
  const key = (a[at]! << 24) | (a[at + 1]! << 16) | (a[at + 2]! << 8) | a[at + 3]!;
  const slot = (Math.imul(key, 0x9e3779b1) >>> 20) & (IPV4_SLOTS - 1);
  let name = ipv4Names[slot];
  if (name === undefined || ipv4Keys[slot] !== key) {
    name = `${a[at]}.${a[at + 1]}.${a[at + 2]}.${a[at + 3]}`;
    ipv4Keys[slot] = key;
    ipv4Names[slot] = name;
  }
  return name;
}

/** RFC 5952: lower case, longest run of two or more zero groups as "::". The 16 bytes at `at`. */
export function formatIPv6(a: Uint8Array, at = 0): string {
  const groups: number[] = [];
  for (let i = at; i < at + 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export interface Address {
  family: Family;
  address: string;
}

/**
 * An address from a record: the 16 bytes at `at` (IPv4 in the first 4). An
 * IPv6 socket talking to an IPv4 peer holds ::ffff:a.b.c.d; on the wire
 * that is IPv4, and that is how it is shown.
 */
export function decodeAddress(family: number, a: Uint8Array, at = 0): Address {
  if (family === AF_INET) return { family: 'ipv4', address: ipv4(a, at) };
  if (isV4Mapped(a, at)) return { family: 'ipv4', address: ipv4(a, at + 12) };
  return { family: 'ipv6', address: formatIPv6(a, at) };
}

/** "10.0.0.1:443", "[::1]:443" */
export function endpointWords(address: string, port: number): Words {
  return address.includes(':') ? words`[${address}]:${port}` : words`${address}:${port}`;
}

export function formatEndpoint(address: string, port: number): string {
  return endpointWords(address, port).toString();
}

/** "10.0.0.1" -> 16 bytes (IPv4 in the first 4), or null. */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return null;
    out[i] = Number(p);
  }
  return out;
}

/** "2001:db8::1", "::ffff:10.0.0.1" -> 16 bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text;
  const tail: number[] = [];
  // a trailing IPv4 (::ffff:10.0.0.1) stands for the last two groups
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > 0) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const back = groups(halves[1] ?? '');
  if (![...head, ...back].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const n = head.length + back.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return null;
  const hex = (g: string) => parseInt(g, 16);
  const words = [...head.map(hex), ...new Array(halves.length === 2 ? 8 - n : 0).fill(0), ...back.map(hex), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

export interface Cidr {
  family: number;
  prefixLen: number;
  addr: Uint8Array;
}

/**
 * "10.0.0.0/8", "127.0.0.1", "[::1]", "2001:db8::/32". A v4-mapped IPv6
 * address is taken as the IPv4 it stands for, as rsttrace shows it.
 */
export function parseCidr(text: string): Cidr | null {
  const m = /^\[?([^\]/]+)\]?(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const v4 = parseIPv4(m[1]!);
  const v6 = v4 ? null : parseIPv6(m[1]!);
  if (!v4 && !v6) return null;
  let family = v4 ? AF_INET : AF_INET6;
  let addr = (v4 ?? v6)!;
  let max = v4 ? 32 : 128;
  let prefixLen = m[2] === undefined ? max : Number(m[2]);
  if (prefixLen > max) return null;
  if (v6 && isV4Mapped(v6) && prefixLen >= 96) {
    family = AF_INET;
    addr = Uint8Array.from([...v6.subarray(12), ...new Array(12).fill(0)]);
    prefixLen -= 96;
    max = 32;
  }
  return { family, prefixLen, addr };
}
