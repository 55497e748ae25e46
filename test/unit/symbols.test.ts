import { describe, expect, it } from 'vitest';
import { parseKallsyms, symbolizer } from '../../src/symbols.js';

const KALLSYMS = [
  'ffffffff81000000 T _stext',
  'ffffffff81a00100 t tcp_v4_send_reset',
  'ffffffff81a00000 T tcp_v4_rcv',
  'ffffffff81a00200 D some_data',
  'ffffffffc0100000 t nf_hook_x\t[nf_tables]',
  '0000000000000000 A fixed_percpu_data',
].join('\n');

describe('kernel symbols', () => {
  const sym = symbolizer(parseKallsyms(KALLSYMS));

  it('names an address by the function it falls in (text symbols only, sorted)', () => {
    expect(sym.name(0xffffffff81a00010n)).toBe('tcp_v4_rcv');
    expect(sym.name(0xffffffff81a00150n)).toBe('tcp_v4_send_reset');
    expect(sym.name(0xffffffff81a00250n)).toBe('tcp_v4_send_reset'); // data symbols do not count
    expect(sym.name(0xffffffffc0100008n)).toBe('nf_hook_x');
  });

  it('shows what it cannot name as an address', () => {
    expect(sym.name(0x7fff00001234n)).toBe('0x7fff00001234');
    expect(symbolizer(parseKallsyms('')).name(0xffffffff81a00010n)).toBe('0xffffffff81a00010');
  });

  it('ignores a table whose addresses are hidden (kptr_restrict)', () => {
    const hidden = parseKallsyms('0000000000000000 T _stext\n0000000000000000 t tcp_v4_rcv');
    expect(hidden.addrs.length).toBe(0);
  });

  it('skips lines that are not "ADDRESS TYPE NAME" without losing the rest', () => {
    const table = parseKallsyms(['garbage', 'ffffffff8zz00000 T bad_hex', 'ffffffff81a00000 T', 'ffffffff81b00000 t good\t[mod]', ''].join('\n'));
    expect(table.addrs.length).toBe(1);
    expect(symbolizer(table).name(0xffffffff81b00004n)).toBe('good');
  });
});
