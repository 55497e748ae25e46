/** Addresses and endpoints the way tcpdump and ss print them. */

export const AF_INET = 2;
export const AF_INET6 = 10;

export type Family = 'ipv4' | 'ipv6';

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function ipv4(a: Uint8Array, at: number): string {
  return `${a[at]}.${a[at + 1]}.${a[at + 2]}.${a[at + 3]}`;
}

/** RFC 5952: lower case, longest run of two or more zero groups as "::". */
export function formatIPv6(a: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
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
 * An address from a record. An IPv6 socket talking to an IPv4 peer holds
 * ::ffff:a.b.c.d; on the wire that is IPv4, and that is how it is shown.
 */
export function decodeAddress(family: number, a: Uint8Array): Address {
  if (family === AF_INET) return { family: 'ipv4', address: ipv4(a, 0) };
  if (isV4Mapped(a)) return { family: 'ipv4', address: ipv4(a, 12) };
  return { family: 'ipv6', address: formatIPv6(a) };
}

/** "10.0.0.1:443", "[::1]:443" */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
