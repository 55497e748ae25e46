/** Linking syscall errors to resets, and both ends of a local connection. */
import { describe, expect, it } from 'vitest';
import { Correlator } from '../../src/correlate.js';
import type { RawRecord } from '../../src/decode.js';
import type { ResetEvent } from '../../src/event.js';
import { kernelNames } from '../../src/kernel.js';
import { ProcessTable } from '../../src/procinfo.js';
import { parseKallsyms, symbolizer } from '../../src/symbols.js';

function raw(over: Partial<RawRecord>): RawRecord {
  return {
    kind: 'recv',
    monoNs: 1_000_000,
    sockCookie: 0,
    sockIno: 0,
    netnsIno: 1,
    cpu: 0,
    pid: 10,
    tid: 10,
    comm: 'app',
    kthread: false,
    syscallNr: 45,
    err: 0,
    reason: null,
    family: 'ipv4',
    lport: 5000,
    rport: 80,
    state: 1,
    laddr: '127.0.0.1',
    raddr: '127.0.0.1',
    segment: null,
    socket: null,
    owner: null,
    history: [],
    kstack: new Uint8Array(0),
    stackKey: 0,
    stackReused: false,
    ...over,
  };
}

function correlator(procOwners: { get(ino: number, rescan?: boolean): { pid: number; comm: string; uid: number } | undefined } = new Map()) {
  return new Correlator({
    names: kernelNames({ reasons: { 11: 'TCP_ABORT_ON_CLOSE' }, states: { 1: 'ESTABLISHED', 7: 'CLOSE' } }),
    syscalls: { 45: 'recvfrom', 3: 'close' },
    symbols: symbolizer(parseKallsyms('')),
    clock: { wallNs: (m) => BigInt(m) },
    processes: new ProcessTable('/nonexistent'),
    procOwners,
  });
}

const OWNER = { source: 'socket' as const, pid: 10, tid: 10, uid: 0, comm: 'app', cgroupId: 0n, seenNs: 900_000, closedNs: 0, syscallNr: 45 };

describe('correlation', () => {
  it('still links a failed syscall to its reset after a flood of resets without a socket (a scan)', () => {
    const c = correlator();
    const [reset] = c.process([raw({ sockCookie: 7, owner: OWNER })]);
    // 70 000 RSTs for SYNs to closed ports, no socket, over 0.6 s: more than
    // the resets with a socket that are remembered
    for (let i = 0; i < 70_000; i += 160) {
      const batch: RawRecord[] = [];
      for (let j = i; j < Math.min(70_000, i + 160); j++) {
        batch.push(raw({ kind: 'send', monoNs: 2_000_000 + j * 8_000, lport: 1 + (j % 60_000), rport: 40_000 + (j >> 10), state: null, raddr: `10.0.${(j >> 8) & 255}.${j & 255}` }));
      }
      c.process(batch);
    }
    // the application reads a second after its reset
    const out = [...c.process([raw({ kind: 'errno', err: 104, sockCookie: 7, monoNs: 1_001_000_000, lport: 0, rport: 0 })]), ...c.process([])];
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ type: 'syscall_error', reset_id: reset!.id, lport: 5000, rport: 80 });
  });

  it('links a failed syscall to the reset on its socket, with the reset’s 4-tuple', () => {
    const c = correlator();
    const [reset] = c.process([raw({ sockCookie: 7, owner: OWNER })]);
    const [err] = c.process([raw({ kind: 'errno', err: 104, sockCookie: 7, monoNs: 1_500_000, lport: 0, rport: 0 })]);
    expect(reset).toMatchObject({ type: 'reset', id: 1 });
    expect(err).toMatchObject({ type: 'syscall_error', id: 2, reset_id: 1, errno: 'ECONNRESET', syscall: 'recvfrom', lport: 5000, rport: 80, ms_after_reset: 0.5 });
  });

  it('an error that comes before its reset waits one batch for it', () => {
    const c = correlator();
    expect(c.process([raw({ kind: 'errno', err: 103, sockCookie: 9, monoNs: 2_000_000 })])).toEqual([]);
    const out = c.process([raw({ kind: 'send', reason: 11, sockCookie: 9, monoNs: 2_100_000 })]);
    expect(out.map((e) => e.type)).toEqual(['reset', 'syscall_error']);
    expect(out[1]).toMatchObject({ reset_id: out[0]!.id, errno: 'ECONNABORTED' });
  });

  it('an error whose reset never comes is written unlinked, not lost', () => {
    const c = correlator();
    expect(c.process([raw({ kind: 'errno', err: 32, sockCookie: 11 })])).toEqual([]);
    expect(c.process([])).toMatchObject([{ type: 'syscall_error', reset_id: null, errno: 'EPIPE' }]);
    expect(c.process([raw({ kind: 'errno', err: 32, sockCookie: 12 })])).toEqual([]);
    expect(c.flush()).toMatchObject([{ type: 'syscall_error', reset_id: null }]);
  });

  it('links the two ends of a local connection both ways when they come in one batch, the RECV first', () => {
    const c = correlator();
    const [recv, send] = c.process([
      raw({ kind: 'recv', lport: 80, rport: 5000, monoNs: 1_000_000 }),
      raw({ kind: 'send', reason: 11, lport: 5000, rport: 80, monoNs: 1_050_000 }),
    ]) as ResetEvent[];
    expect(recv!.peer_event_id).toBe(send!.id);
    expect(send!.peer_event_id).toBe(recv!.id);
    expect(String(recv!.cause.summary)).toContain(`see event #${send!.id}`);
  });

  it('pairs a reset with one peer: a later one with the newest earlier one on its tuple, which keeps that first later one', () => {
    const c = correlator();
    const [older, newer, send] = c.process([
      raw({ kind: 'recv', lport: 80, rport: 5000, monoNs: 1_000_000 }),
      raw({ kind: 'recv', lport: 80, rport: 5000, monoNs: 1_020_000 }),
      raw({ kind: 'send', reason: 11, lport: 5000, rport: 80, monoNs: 1_050_000 }),
    ]) as { id: number; peer_event_id: number | null }[];
    expect(send!.peer_event_id).toBe(newer!.id);
    expect(newer!.peer_event_id).toBe(send!.id);
    expect(older!.peer_event_id).toBeNull();
    // a second answer on the tuple finds the same reset, which keeps its first peer
    const [recv, first, second] = correlator().process([
      raw({ kind: 'recv', lport: 80, rport: 5000, monoNs: 1_000_000 }),
      raw({ kind: 'send', reason: 11, lport: 5000, rport: 80, monoNs: 1_010_000 }),
      raw({ kind: 'send', reason: 11, lport: 5000, rport: 80, monoNs: 1_020_000 }),
    ]) as { id: number; peer_event_id: number | null }[];
    expect(recv!.peer_event_id).toBe(first!.id);
    expect(second!.peer_event_id).toBe(recv!.id);
  });

  it('links the two ends of a local connection', () => {
    const c = correlator();
    const [recv] = c.process([raw({ kind: 'recv', lport: 80, rport: 5000, monoNs: 1_000_000 })]);
    const [send] = c.process([raw({ kind: 'send', reason: 11, lport: 5000, rport: 80, monoNs: 1_050_000 })]);
    expect(recv).toMatchObject({ peer_event_id: null });
    expect(send).toMatchObject({ peer_event_id: (recv as { id: number }).id });
  });

  it('a reset on a socket nobody was seen using waits one batch: the failed syscall on it names the owner', () => {
    const c = correlator();
    expect(c.process([raw({ sockCookie: 21, monoNs: 1_000_000 })])).toEqual([]);
    expect(c.holding).toBe(true);
    const failed = raw({ kind: 'errno', err: 104, sockCookie: 21, monoNs: 1_100_000, pid: 33, tid: 34, comm: 'server', owner: { ...OWNER, pid: 33, tid: 34, comm: 'server', seenNs: 1_100_000 } });
    const [reset, err] = c.process([failed]);
    expect(reset).toMatchObject({ type: 'reset', id: 1, owner: { pid: 33, tid: 34, comm: 'server', source: 'socket', last_syscall: 'recvfrom', last_syscall_ms_before: null } });
    expect(err).toMatchObject({ type: 'syscall_error', reset_id: 1, pid: 33 });
    expect(c.holding).toBe(false);
  });

  it('a reset whose owner never shows is written without one, at the next batch or at the end', () => {
    const c = correlator();
    expect(c.process([raw({ sockCookie: 22 })])).toEqual([]);
    const [first, second] = c.process([raw({ sockCookie: 23, owner: OWNER, lport: 1 })]);
    expect(first).toMatchObject({ id: 1, owner: null }); // held ones first: ids stay in order
    expect(second).toMatchObject({ id: 2, owner: { pid: 10 } });
    expect(c.process([raw({ sockCookie: 24, lport: 2 })])).toEqual([]);
    expect(c.flush()).toMatchObject([{ id: 3, owner: null }]);
  });

  it('a held reset nobody named is looked for in /proc when its wait is over, not before', () => {
    const asked: boolean[] = [];
    const c = correlator({
      get: (ino: number, rescan?: boolean) => {
        asked.push(rescan === true);
        return ino === 900 && rescan ? { pid: 55, comm: 'srv', uid: 0 } : undefined;
      },
    });
    expect(c.process([raw({ sockCookie: 31, sockIno: 900 })])).toEqual([]);
    expect(asked).toEqual([false]); // the cached table only: its failed syscall may come
    const [e] = c.process([]);
    expect(asked).toEqual([false, true]);
    expect(e).toMatchObject({ id: 1, owner: { pid: 55, comm: 'srv', source: 'procfs' } });
  });

  it('takes the owner of a socket older than rsttrace from /proc', () => {
    const c = correlator(new Map([[555, { pid: 77, comm: 'old', uid: 1 }]]));
    const [e] = c.process([raw({ sockIno: 555 })]);
    expect(e).toMatchObject({ owner: { pid: 77, comm: 'old', source: 'procfs' } });
  });

  it('does not believe a 4-tuple owner from long ago', () => {
    const c = correlator();
    const owner = { source: 'tuple' as const, pid: 5, tid: 5, uid: 0, comm: 'x', cgroupId: 0n, seenNs: 1, closedNs: 1, syscallNr: 3 };
    const [stale] = c.process([raw({ owner, monoNs: 200_000_000_000 })]);
    const [fresh] = c.process([raw({ owner, monoNs: 1_000_000_000, lport: 1 })]);
    expect(stale).toMatchObject({ owner: null });
    expect(fresh).toMatchObject({ owner: { pid: 5, source: 'tuple', closed_ms_before: 999.999999 } });
  });
});

describe('correlation without socket cookies (kernels before 5.12)', () => {
  it('links a failed syscall to the reset on the same 4-tuple', () => {
    const c = correlator();
    const [reset] = c.process([raw({ kind: 'recv', lport: 5000, rport: 80 })]);
    const [err] = c.process([raw({ kind: 'errno', err: 32, lport: 5000, rport: 80, monoNs: 2_000_000 })]);
    expect(err).toMatchObject({ reset_id: (reset as { id: number }).id, errno: 'EPIPE' });
  });
});

describe('stacks the kernel did not walk (rate limit)', () => {
  const KALLSYMS = ['ffffffff81a00000 T tcp_v4_rcv', 'ffffffff81a00100 t tcp_v4_send_reset', 'ffffffff81b00000 T tcp_close'].join('\n');
  const stackOf = (...addrs: bigint[]) => {
    const b = new Uint8Array(addrs.length * 8);
    const v = new DataView(b.buffer);
    addrs.forEach((a, i) => v.setBigUint64(i * 8, a, true));
    return b;
  };
  const walkedA = stackOf(0xffffffff81a00110n, 0xffffffff81a00010n); // tcp_v4_send_reset ← tcp_v4_rcv
  const walkedB = stackOf(0xffffffff81b00010n); // tcp_close
  const withSymbols = () =>
    new Correlator({
      names: kernelNames({ reasons: { 1: 'NO_SOCKET' }, states: {} }),
      syscalls: { 42: 'connect' },
      symbols: symbolizer(parseKallsyms(KALLSYMS)),
      clock: { wallNs: (m) => BigInt(m) },
      processes: new ProcessTable('/nonexistent'),
      procOwners: new Map(),
    });
  const send = (over: Partial<RawRecord>) => raw({ kind: 'send', state: null, reason: 1, syscallNr: 42, ...over });

  it('shows the last walked stack of the same key, naming the event it was walked for', () => {
    const c = withSymbols();
    const out = c.process([
      send({ kstack: walkedA, stackKey: 7 }),
      send({ stackKey: 7, stackReused: true }),
      send({ kstack: walkedB, stackKey: 9 }),
      send({ kstack: walkedA, stackKey: 7 }),
      send({ stackKey: 7, stackReused: true }),
      send({ stackKey: 9, stackReused: true }),
    ]) as ResetEvent[];
    expect(out.map((e) => e.kernel_path.stack_from_event)).toEqual([null, 1, null, null, 4, 3]);
    expect(out[1]!.kernel_path.stack).toEqual(['tcp_v4_send_reset', 'tcp_v4_rcv']);
    expect(out[1]!.kernel_path.signature).toBe('tcp_v4_rcv → tcp_v4_send_reset');
    expect(out[5]!.kernel_path.stack).toEqual(['tcp_close']);
    // the context comes from the stack shown: softirq-free here, so the syscall
    expect(out[1]!.context).toMatchObject({ kind: 'syscall', syscall: 'connect' });
    // a walked stack's own path says it is its own
    expect(out[0]!.kernel_path).toBe(out[3]!.kernel_path);
  });

  it('a record whose walk never arrived, or was of another context, has no stack rather than a wrong one', () => {
    const out = withSymbols().process([
      send({ stackKey: 5, stackReused: true }),
      send({ kstack: walkedA, stackKey: 6 }),
      send({ stackKey: 6, stackReused: true, syscallNr: 3 }),
      send({ stackKey: 6, stackReused: true, cpu: 1 }),
    ]) as ResetEvent[];
    for (const i of [0, 2, 3]) expect(out[i]!.kernel_path).toEqual({ signature: '', stack: [], stack_from_event: null });
  });
});
