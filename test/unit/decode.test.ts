/**
 * Records built byte by byte at the offsets the addon exports (the compiled
 * bpf/rsttrace.h), then decoded: the decoder and the header agree.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDecoder, stackAddresses } from '../../src/decode.js';
import { kernelNames } from '../../src/kernel.js';
import { addonPath, loadAddon, requiredTracepoints, type RecordLayout } from '../../src/native.js';

const skip = existsSync(addonPath) ? null : `native addon not built (${addonPath}); run make build`;
if (skip) console.warn(`SKIPPED unit/decode: ${skip}`);

function writer(layout: RecordLayout, buf: Buffer, index: number) {
  const base = index * layout.recordSize;
  return (name: string, value: number | bigint | Uint8Array | string) => {
    const f = layout.fields[name]!;
    const at = base + f.offset;
    if (value instanceof Uint8Array) buf.set(value, at);
    else if (typeof value === 'string') buf.write(value, at, f.size, 'latin1');
    else if (f.size === 8) buf.writeBigUInt64LE(BigInt(value), at);
    else if (f.size === 4) buf.writeUInt32LE(Number(value) >>> 0, at);
    else if (f.size === 2) buf.writeUInt16LE(Number(value), at);
    else buf.writeUInt8(Number(value), at);
  };
}

describe.skipIf(skip)('decoding records from the exported layout', () => {
  const { layout } = skip ? ({} as { layout: RecordLayout }) : loadAddon();
  const C = (n: string) => layout.constants[n]!;

  it('exports every field at an in-bounds, non-overlapping offset', () => {
    const spans = Object.values(layout.fields).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]!.offset).toBeGreaterThanOrEqual(spans[i - 1]!.offset + spans[i - 1]!.size);
    }
    const last = spans[spans.length - 1]!;
    expect(last.offset + last.size).toBe(layout.recordSize);
    expect(layout.recordSize % 8).toBe(0);
  });

  it('decodes a passive IPv4 send with a segment, and an IPv6 recv with owner and history, from one batch', () => {
    const buf = Buffer.alloc(layout.recordSize * 2);
    const a = writer(layout, buf, 0);
    a('ts_ns', 123_456_789_012n);
    a('netns_ino', 4026531833);
    a('cpu', 1);
    a('pid', 4711);
    a('tid', 4712);
    a('syscall_nr', 42);
    a('reason', 1);
    a('family', 2);
    a('lport', 9);
    a('rport', 51234);
    a('kind', C('RST_KIND_SEND'));
    a('flags', C('RST_F_SEGMENT') | C('RST_F_REASON'));
    a('seg_tcp_flags', 0x02);
    a('seg_window', 65495);
    a('seg_seq', 0xdeadbeef);
    a('seg_ack', 0);
    a('seg_payload_bytes', 0);
    a('laddr', Uint8Array.from([127, 0, 0, 1]));
    a('raddr', Uint8Array.from([10, 0, 0, 2]));
    a('comm', 'curl');
    a('kstack_bytes', 16);
    a('stack_key', (1 << 20) | 3);
    const kstack = layout.fields.kstack!.offset;
    buf.writeBigUInt64LE(0xffffffff81000010n, kstack);
    buf.writeBigUInt64LE(0xffffffff81000020n, kstack + 8);

    const b = writer(layout, buf, 1);
    const v6 = new Uint8Array(16);
    v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
    v6[15] = 1;
    b('ts_ns', 10_000_000_000n);
    b('kind', C('RST_KIND_RECV'));
    b('flags', C('RST_F_SOCK') | C('RST_F_FULLSOCK') | C('RST_F_LINGER') | C('RST_F_KTHREAD') | C('RST_F_STACK_REUSED'));
    b('stack_key', 5);
    b('state', 1);
    b('sock_cookie', 2n ** 40n + 5n);
    b('sock_ino', 123456);
    b('family', 10);
    b('lport', 443);
    b('rport', 60000);
    b('laddr', v6);
    b('raddr', v6);
    b('comm', 'exactly16bytes!!');
    b('kstack_bytes', -14);
    b('rcv_unread_bytes', 14);
    b('snd_unsent_bytes', 3);
    b('snd_unacked_bytes', 7);
    b('sk_shutdown', 2);
    b('linger_sec', 0);
    b('owner_source', C('RST_OWNER_TUPLE'));
    b('owner.pid', 900);
    b('owner.tid', 901);
    b('owner.uid', 1000);
    b('owner.comm', Buffer.from('nginx-wörker', 'utf8')); // comm is UTF-8 bytes
    b('owner.cgroup_id', 77n);
    b('owner.seen_ns', 9_000_000_000n);
    b('owner.closed_ns', 9_500_000_000n);
    b('owner.syscall_nr', 3);
    // ten transitions in a ring of RST_HISTORY_LEN: the last ones, oldest first
    const hl = C('RST_HISTORY_LEN');
    const ts = layout.fields['history.ts_ns']!.offset + layout.recordSize;
    for (let n = 0; n < 10; n++) {
      const i = n % hl;
      buf.writeBigUInt64LE(BigInt(1000 + n), ts + i * 8);
      buf[layout.recordSize + layout.fields['history.old_state']!.offset + i] = n;
      buf[layout.recordSize + layout.fields['history.new_state']!.offset + i] = n + 1;
    }
    b('history.count', 10);

    const d = createDecoder(layout);
    expect(d.count(buf)).toBe(2);
    expect(d.kind(buf, 0)).toBe('send');
    expect(d.decode(buf, 0)).toEqual({
      kind: 'send',
      monoNs: 123_456_789_012,
      sockCookie: 0,
      sockIno: 0,
      netnsIno: 4026531833,
      cpu: 1,
      pid: 4711,
      tid: 4712,
      comm: 'curl',
      kthread: false,
      syscallNr: 42,
      err: 0,
      reason: 1,
      family: 'ipv4',
      lport: 9,
      rport: 51234,
      state: null,
      laddr: '127.0.0.1',
      raddr: '10.0.0.2',
      segment: { tcpFlags: 2, seq: 0xdeadbeef, ack: 0, window: 65495, payloadBytes: 0 },
      socket: null,
      owner: null,
      history: [],
      kstack: expect.any(Uint8Array),
      stackKey: (1 << 20) | 3,
      stackReused: false,
    });
    expect(stackAddresses(d.decode(buf, 0).kstack)).toEqual([0xffffffff81000010n, 0xffffffff81000020n]);
    const second = d.decode(buf, 1);
    expect(second.kstack.byteLength).toBe(0); // the stack was not read (-14)
    expect(second).toMatchObject({
      stackKey: 5,
      stackReused: true,
      kind: 'recv',
      state: 1,
      reason: null,
      sockCookie: 2 ** 40 + 5,
      sockIno: 123456,
      kthread: true,
      comm: 'exactly16bytes!!',
      family: 'ipv6',
      laddr: '2001:db8::1',
      raddr: '2001:db8::1',
      segment: null,
      socket: { rcvUnread: 14, sndUnsent: 3, sndUnacked: 7, shutdown: 2, lingerSec: 0 },
      owner: {
        source: 'tuple',
        pid: 900,
        tid: 901,
        uid: 1000,
        comm: 'nginx-wörker',
        cgroupId: 77n,
        seenNs: 9_000_000_000,
        closedNs: 9_500_000_000,
        syscallNr: 3,
      },
    });
    expect(second.history.map((h) => [h.tsNs, h.from, h.to])).toEqual(
      Array.from({ length: hl }, (_, k) => {
        const n = 10 - hl + k;
        return [1000 + n, n, n + 1];
      }),
    );
  });

  it('decodes each comm from its own bytes, however often the same comm came before', () => {
    const d = createDecoder(layout);
    const kind = C('RST_KIND_SEND');
    const buf = Buffer.alloc(layout.recordSize * 3);
    const names = ['curl', 'curl', 'nginx-wörker'];
    names.forEach((n, i) => {
      const w = writer(layout, buf, i);
      w('kind', kind);
      w('comm', Buffer.from(n, 'utf8'));
    });
    expect([0, 1, 2].map((i) => d.decode(buf, i).comm)).toEqual(names);
    // the batch's memory reused for other records: the new bytes, not the last name seen there
    buf.fill(0);
    const w = writer(layout, buf, 1);
    w('kind', kind);
    w('comm', Buffer.from('curm', 'utf8'));
    expect(d.decode(buf, 1).comm).toBe('curm');
    w('comm', Buffer.from('curl\0junk', 'latin1'));
    expect(d.decode(buf, 1).comm).toBe('curl');
    // these two hash alike (FNV-1a of the 16 bytes): the bytes decide
    for (const name of ['wo1x', 'w1ta4', 'wo1x']) {
      w('comm', Buffer.alloc(16));
      w('comm', Buffer.from(name, 'latin1'));
      expect(d.decode(buf, 1).comm).toBe(name);
    }
  });

  it('shows a v4-mapped IPv6 socket\'s addresses as the IPv4 they stand for, each from its own record', () => {
    const buf = Buffer.alloc(layout.recordSize * 2);
    const mapped = (a: number, b: number, c: number, d: number) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
    for (const [i, last] of [
      [0, 3],
      [1, 4],
    ]) {
      const w = writer(layout, buf, i!);
      w('ts_ns', 123_456_789n);
      w('kind', C('RST_KIND_RECV'));
      w('family', 10);
      w('laddr', mapped(10, 1, 2, last!));
      w('raddr', mapped(192, 168, 0, last!));
    }
    const d = createDecoder(layout);
    expect(d.decode(buf, 0)).toMatchObject({ family: 'ipv4', laddr: '10.1.2.3', raddr: '192.168.0.3' });
    expect(d.decode(buf, 1)).toMatchObject({ family: 'ipv4', laddr: '10.1.2.4', raddr: '192.168.0.4' });
  });

  it('refuses a batch that is not a whole number of records', () => {
    const d = createDecoder(layout);
    expect(() => d.count(Buffer.alloc(layout.recordSize + 3))).toThrow(/not a whole number/);
  });

  it('names reasons and states from this kernel’s BTF', () => {
    const addon = loadAddon();
    const info = addon.kernelInfo(requiredTracepoints(addon));
    const names = kernelNames(info);
    // spelled as the kernel spells them; numbering is the kernel's own
    expect(names.reason(names.reasonValue('no_socket')!)).toBe('NO_SOCKET');
    expect(Object.values(info.reasons)).toEqual(
      expect.arrayContaining(['NO_SOCKET', 'TCP_ABORT_ON_CLOSE', 'TCP_STATE', 'TCP_KEEPALIVE_TIMEOUT']),
    );
    expect(info.states[1]).toBe('ESTABLISHED');
    expect(info.states[7]).toBe('CLOSE');
    expect(names.reason(9999)).toBe('REASON_9999');
    expect(Object.keys(info.tracepoints)).toEqual(expect.arrayContaining(['tcp_send_reset', 'tcp_receive_reset', 'sys_exit']));
    expect(Object.values(info.tracepoints).every(Boolean)).toBe(true);
  });
});
