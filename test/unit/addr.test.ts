import { describe, expect, it } from 'vitest';
import { decodeAddress, formatEndpoint, formatIPv6, parseCidr, parseIPv4, parseIPv6 } from '../../src/addr.js';

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

  it('names IPv4 addresses right however many share its cache of names', () => {
    // 20000 addresses through a 4096-slot cache, twice: collisions replace, never confuse
    const quads = Array.from({ length: 20_000 }, (_, i) => [(i * 7919) & 0xff, (i * 104_729) & 0xff, i >> 8, i & 0xff]);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of quads) expect(decodeAddress(2, Uint8Array.from([...q, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).address).toBe(q.join('.'));
    }
  });

  it('writes endpoints like ss and tcpdump: IPv6 in brackets', () => {
    expect(formatEndpoint('10.0.0.1', 443)).toBe('10.0.0.1:443');
    expect(formatEndpoint('::1', 80)).toBe('[::1]:80');
  });
});

describe('parsing addresses and prefixes', () => {
  const bytes = (a: Uint8Array | null) => (a ? formatIPv6(a) : null);

  it('IPv6, with :: and a trailing IPv4', () => {
    expect(bytes(parseIPv6('2001:db8::1'))).toBe('2001:db8::1');
    expect(bytes(parseIPv6('::'))).toBe('::');
    expect(bytes(parseIPv6('1:2:3:4:5:6:7:8'))).toBe('1:2:3:4:5:6:7:8');
    expect(bytes(parseIPv6('fe80::abcd:0:0:0'))).toBe('fe80::abcd:0:0:0');
    expect(decodeAddress(10, parseIPv6('::ffff:10.1.2.3')!)).toEqual({ family: 'ipv4', address: '10.1.2.3' });
    expect(bytes(parseIPv6('::1.2.3.4'))).toBe('::102:304');
    expect(bytes(parseIPv6('1:2:3:4:5:6:1.2.3.4'))).toBe('1:2:3:4:5:6:102:304');
    for (const bad of ['', ':', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::1.2.3', '::256.1.1.1', '1:2:3:4:5:6:7::8']) {
      expect(parseIPv6(bad), bad).toBeNull();
    }
  });

  it('IPv4, strictly', () => {
    expect(parseIPv4('10.0.0.1')?.subarray(0, 4)).toEqual(Uint8Array.from([10, 0, 0, 1]));
    for (const bad of ['10.0.0', '10.0.0.256', '01.0.0.1', '1.2.3.4.5', 'a.b.c.d', '']) expect(parseIPv4(bad), bad).toBeNull();
  });

  it('prefixes: CIDR, bare address, brackets; v4-mapped taken as IPv4', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 2, prefixLen: 8 });
    expect(parseCidr('127.0.0.1')).toMatchObject({ family: 2, prefixLen: 32 });
    expect(parseCidr('[::1]')).toMatchObject({ family: 10, prefixLen: 128 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ family: 10, prefixLen: 32 });
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ family: 2, prefixLen: 8 });
    for (const bad of ['10.0.0.0/33', '::/129', 'localhost', '10.0.0.0/', '/8', '10.0.0.0/8/8']) expect(parseCidr(bad), bad).toBeNull();
  });
});
