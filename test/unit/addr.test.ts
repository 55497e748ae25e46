import { describe, expect, it } from 'vitest';
import { decodeAddress, formatEndpoint, formatIPv6 } from '../../src/addr.js';

const v6 = (...groups: number[]) => {
  const a = new Uint8Array(16);
  groups.forEach((g, i) => {
    a[i * 2] = g >> 8;
    a[i * 2 + 1] = g & 0xff;
  });
  return a;
};

describe('addresses', () => {
  it('compresses IPv6 as RFC 5952 says', () => {
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe('::1');
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 0))).toBe('::');
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))).toBe('2001:db8::1');
    // a single zero group is not compressed; the first of equal runs is
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(v6(0x2001, 0, 0, 1, 0, 0, 1, 0))).toBe('2001::1:0:0:1:0');
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0))).toBe('2001:db8:0:0:1::');
    expect(formatIPv6(v6(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0))).toBe('fe80::abcd:0:0:0');
  });

  it('shows v4-mapped IPv6 as IPv4, as it is on the wire', () => {
    const a = new Uint8Array(16);
    a.set([0xff, 0xff, 127, 0, 0, 1], 10);
    expect(decodeAddress(10, a)).toEqual({ family: 'ipv4', address: '127.0.0.1' });
    expect(decodeAddress(2, Uint8Array.from([10, 1, 2, 3, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0]))).toEqual({
      family: 'ipv4',
      address: '10.1.2.3',
    });
    expect(decodeAddress(10, v6(0, 0, 0, 0, 0, 0, 0, 1))).toEqual({ family: 'ipv6', address: '::1' });
  });

  it('writes endpoints like ss and tcpdump: IPv6 in brackets', () => {
    expect(formatEndpoint('10.0.0.1', 443)).toBe('10.0.0.1:443');
    expect(formatEndpoint('::1', 80)).toBe('[::1]:80');
  });
});
