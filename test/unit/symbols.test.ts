import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../../src/native.js';
import { kernelSymbols, parseKallsyms, useKernelSymbols, symbolizer } from '../../src/symbols.js';

const noAddon = existsSync(addonPath) ? null : `native addon not built (${addonPath}); run make build`;
if (noAddon) console.warn(`SKIPPED unit/symbols (the addon's reader): ${noAddon}`);

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

  it('sorts a table listed out of order (modules) by address, equal addresses in the kernel\'s order', () => {
    const lines = ['ffffffffc0200000 t b_mod\t[b]', 'ffffffffc0100000 t a_mod\t[a]', 'ffffffff81000000 T first', 'ffffffff81000000 T alias', 'ffffffff81000100 t next'];
    const table = parseKallsyms(lines.join('\n'));
    expect([...table.addrs]).toEqual([0x81000000, 0x81000000, 0x81000100, 0xc0100000, 0xc0200000]);
    expect([0, 1, 2, 3, 4].map((i) => table.nameAt(i))).toEqual(['first', 'alias', 'next', 'a_mod', 'b_mod']);
  });

  it('the kernel\'s table, given before first use, is made from what was given (not read again)', () => {
    useKernelSymbols(Buffer.from(KALLSYMS, 'latin1'));
    expect(kernelSymbols().name(0xffffffff81a00150n)).toBe('tcp_v4_send_reset');
    // given once it is in use: ignored
    useKernelSymbols(Buffer.from('ffffffff81a00000 T other', 'latin1'));
    expect(kernelSymbols().name(0xffffffff81a00010n)).toBe('tcp_v4_rcv');
  });

  it('skips lines that are not "ADDRESS TYPE NAME" without losing the rest', () => {
    const table = parseKallsyms(['garbage', 'ffffffff8zz00000 T bad_hex', 'ffffffff81a00000 T', 'ffffffff81b00000 t good\t[mod]', ''].join('\n'));
    expect(table.addrs.length).toBe(1);
    expect(symbolizer(table).name(0xffffffff81b00004n)).toBe('good');
  });
});

describe.skipIf(noAddon)('the addon\'s reader (kallsyms read on a pool thread)', () => {
  it('reads a procfs file whole, though procfs returns a page a read', async () => {
    const text = await loadAddon().readFile('/proc/kallsyms');
    expect(text.length).toBeGreaterThan(1 << 16);
    expect(text.equals(readFileSync('/proc/kallsyms'))).toBe(true);
  });

  it('rejects with the errno name when the file cannot be read', async () => {
    await expect(loadAddon().readFile('/nonexistent/rsttrace')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('read /nonexistent/rsttrace') });
  });
});
