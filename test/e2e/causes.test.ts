/**
 * Who, what, why, what next: each scenario is real programs (client and
 * server in separate processes) making one kind of reset in a namespace of
 * this file's own; the assertions are on the owner, the context and
 * syscall, the reason, the cause code and the failed syscall it led to.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, e2eSkipReason, inNetns, Netns, reportSkip, RSTSCEN, startTrace, type JsonRecord } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/causes');

interface Traced {
  out: any;
  resets: JsonRecord[];
  errors: JsonRecord[];
}

describe.skipIf(skip)('causes of real resets', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('causes');
  });
  afterAll(() => ns?.close());

  async function traced(...scenario: string[]): Promise<Traced> {
    return tracedWith([], ...scenario);
  }

  async function tracedWith(flags: string[], ...scenario: string[]): Promise<Traced> {
    const trace = await startTrace(['--netns', ns.name, ...flags]);
    const out = ns.scenario(...scenario);
    const { records } = await trace.stop();
    const mine = records.filter((r) => r.netns === ns.inode);
    return { out, resets: inNetns(mine, ns), errors: mine.filter((r) => r.type === 'syscall_error') };
  }

  function one(list: JsonRecord[], match: Partial<JsonRecord>): JsonRecord {
    const found = list.filter((r) => Object.entries(match).every(([k, v]) => r[k] === v));
    expect(found, `${JSON.stringify(match)} in ${JSON.stringify(list, null, 1)}`).toHaveLength(1);
    return found[0]!;
  }

  it('closed port, its 4-tuple used before: the new attempt has no owner, not the old connection\'s', async () => {
    // the old connection's facts are kept by 4-tuple for its late segments; a SYN is none of them
    const { out, resets } = await tracedWith([], 'reconnect-closed', '127.0.0.1');
    expect(out.errno).toBe('ECONNREFUSED');
    const syn = one(resets, { direction: 'send', reason: 'NO_SOCKET', rport: out.client_port });
    expect(syn).toMatchObject({ lport: out.server_port, owner: null, segment: { flags: ['SYN'] }, cause: { code: 'closed-port' } });
  });

  for (const addr of ['127.0.0.1', '::1']) {
    it(`closed port (${addr}): the connecting process is told; with --syscall-hook its failed connect() is linked`, async () => {
      const { out, resets, errors } = await tracedWith(['--syscall-hook'], 'refused', addr, '9');
      const send = one(resets, { direction: 'send' });
      expect(send).toMatchObject({
        reason: 'NO_SOCKET',
        owner: null,
        context: { kind: 'softirq', syscall: 'connect', pid: out.pid },
        kernel_path: { signature: addr === '::1' ? 'tcp_v6_rcv → tcp_v6_send_reset' : 'tcp_v4_rcv → tcp_v4_send_reset' },
        cause: { code: 'closed-port' },
      });
      const recv = one(resets, { direction: 'recv' });
      expect(recv).toMatchObject({
        state: 'SYN_SENT',
        owner: { pid: out.pid, comm: 'rstscen', source: 'socket' },
        context: { kind: 'syscall', syscall: 'connect' },
        cause: { code: 'connection-refused' },
        peer_event_id: send.id,
      });
      expect(one(errors, { reset_id: recv.id })).toMatchObject({ pid: out.pid, syscall: 'connect', errno: 'ECONNREFUSED', lport: out.lport, rport: 9 });
    });
  }

  it('with --syscall-hook, an error read with getsockopt(SO_ERROR) after a non-blocking connect (Node’s net.connect) is linked too', async () => {
    const trace = await startTrace(['--netns', ns.name, '--syscall-hook']);
    const client = ns.exec(process.execPath, [
      '-e',
      "require('net').connect(9, '127.0.0.1').on('error', (e) => console.log(JSON.stringify({ pid: process.pid, code: e.code })))",
    ]);
    const out = JSON.parse(client);
    const { records } = await trace.stop();
    expect(out.code).toBe('ECONNREFUSED');
    const mine = records.filter((r) => r.netns === ns.inode);
    const recv = one(inNetns(mine, ns), { direction: 'recv' });
    expect(recv).toMatchObject({ owner: { pid: out.pid }, cause: { code: 'connection-refused' } });
    expect(one(mine.filter((r) => r.type === 'syscall_error'), { pid: out.pid })).toMatchObject({
      reset_id: recv.id,
      syscall: 'getsockopt',
      errno: 'ECONNREFUSED',
      rport: 9,
    });
  });

  it('close() with unread data: the closer, its syscall, the unread bytes; the peer’s recv fails', async () => {
    const { out, resets, errors } = await traced('unread-close', '127.0.0.1');
    const send = one(resets, { direction: 'send' });
    expect(send).toMatchObject({
      reason: 'TCP_ABORT_ON_CLOSE',
      owner: { pid: out.client_pid, source: 'socket', last_syscall: 'close' },
      context: { kind: 'syscall', syscall: 'close', pid: out.client_pid },
      kernel_path: { signature: '__tcp_close → tcp_send_active_reset' },
      socket: { rcv_unread_bytes: out.unread_bytes },
      cause: { code: 'close-unread' },
    });
    expect(send.owner.closed_ms_before).toBeGreaterThanOrEqual(0);
    expect(send.cause.summary).toContain(`close() with ${out.unread_bytes} bytes unread`);
    expect(send.history.map((h: JsonRecord) => h.to)).toEqual(['SYN_SENT', 'ESTABLISHED', 'CLOSE']);
    const recv = one(resets, { direction: 'recv' });
    expect(recv).toMatchObject({ owner: { pid: out.server_pid }, context: { kind: 'softirq', syscall: 'close', pid: out.client_pid }, cause: { code: 'reset-by-peer' } });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, syscall: 'recvfrom', errno: out.server_errno });
  });

  it('SO_LINGER {1, 0}', async () => {
    const { out, resets, errors } = await traced('linger0', '127.0.0.1');
    expect(one(resets, { direction: 'send' })).toMatchObject({
      reason: 'TCP_STATE',
      owner: { pid: out.client_pid },
      context: { kind: 'syscall', syscall: 'close' },
      kernel_path: { signature: 'tcp_disconnect → tcp_send_active_reset' },
      socket: { linger_sec: 0 },
      cause: { code: 'linger-zero' },
    });
    const recv = one(resets, { direction: 'recv' });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'ECONNRESET' });
  });

  it('connect(AF_UNSPEC)', async () => {
    const { out, resets, errors } = await traced('connect-unspec', '127.0.0.1');
    expect(one(resets, { direction: 'send' })).toMatchObject({
      reason: 'TCP_STATE',
      owner: { pid: out.client_pid },
      context: { kind: 'syscall', syscall: 'connect', pid: out.client_pid },
      cause: { code: 'connect-unspec' },
    });
    const recv = one(resets, { direction: 'recv' });
    expect(recv.owner).toMatchObject({ pid: out.server_pid });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'ECONNRESET' });
  });

  it('ss -K: the killer is named, the owner sees ECONNABORTED, the peer ECONNRESET', async () => {
    const { out, resets, errors } = await traced('kill', '127.0.0.1');
    const send = one(resets, { direction: 'send' });
    expect(send).toMatchObject({
      reason: 'TCP_STATE',
      lport: out.client_port,
      owner: { pid: out.client_pid },
      context: { kind: 'syscall', pid: out.killer_pid, comm: 'ss' },
      cause: { code: 'killed' },
    });
    expect(send.kernel_path.stack).toContain('tcp_abort');
    expect(one(errors, { pid: out.client_pid })).toMatchObject({ reset_id: send.id, errno: 'ECONNABORTED' });
    const recv = one(resets, { direction: 'recv' });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'ECONNRESET' });
  });

  it('KB Q152474, TIME_WAIT form: late reply to a closed half-closed socket; the server’s send fails with EPIPE', async () => {
    const { out, resets, errors } = await traced('kb-timewait', '127.0.0.1');
    const send = one(resets, { direction: 'send' });
    expect(send).toMatchObject({
      reason: 'TCP_TIMEWAIT_SOCKET',
      state: 'TIME_WAIT',
      lport: out.client_port,
      rport: out.server_port,
      owner: { pid: out.client_pid, source: 'tuple' },
      context: { kind: 'softirq', pid: out.server_pid },
      segment: { flags: ['PSH', 'ACK'] },
      cause: { code: 'late-data-timewait' },
    });
    expect(send.owner.closed_ms_before).toBeGreaterThan(0);
    expect(send.segment.payload_bytes).toBeGreaterThan(0);
    const recv = one(resets, { direction: 'recv' });
    expect(recv).toMatchObject({ state: 'CLOSE_WAIT', owner: { pid: out.server_pid }, peer_event_id: send.id });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'EPIPE', syscall: 'sendto' });
  });

  it('KB Q152474, orphaned FIN_WAIT1 form: data after close; the server’s send fails', async () => {
    const { out, resets, errors } = await traced('kb-finwait1', '127.0.0.1');
    expect(out.client_unsent_bytes).toBeGreaterThan(0);
    const send = one(resets, { direction: 'send' });
    expect(send).toMatchObject({
      reason: 'TCP_ABORT_ON_DATA',
      lport: out.client_port,
      owner: { pid: out.client_pid },
      context: { kind: 'softirq', pid: out.server_pid },
      cause: { code: 'data-after-close' },
    });
    expect(send.owner.closed_ms_before).toBeGreaterThan(0);
    // the kernel's own tcp_reset() on the orphan, before it sends: in FIN_WAIT1
    expect(one(resets, { direction: 'recv', lport: out.client_port })).toMatchObject({ state: 'FIN_WAIT1', cause: { code: 'abort-after-shutdown-read' } });
    const recv = one(resets, { direction: 'recv', lport: out.server_port });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: out.server_errno });
  });

  it('data after shutdown(SHUT_RDWR)', async () => {
    const { out, resets, errors } = await traced('shutdown-rdwr', '127.0.0.1');
    const send = one(resets, { direction: 'send' });
    expect(send).toMatchObject({
      reason: 'TCP_ABORT_ON_DATA',
      owner: { pid: out.client_pid, closed_ms_before: null },
      cause: { code: 'data-after-shutdown' },
    });
    const recv = one(resets, { direction: 'recv', lport: out.server_port });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'EPIPE' });
    expect(one(errors, { pid: out.client_pid })).toMatchObject({ errno: 'ECONNRESET' });
  });

  it('TCP_LINGER2 = -1', async () => {
    const { out, resets, errors } = await traced('linger2', '::1');
    expect(one(resets, { direction: 'send' })).toMatchObject({
      reason: 'TCP_ABORT_ON_LINGER',
      family: 'ipv6',
      owner: { pid: out.client_pid },
      context: { kind: 'syscall', syscall: 'close' },
      cause: { code: 'linger2' },
    });
    const recv = one(resets, { direction: 'recv' });
    expect(one(errors, { pid: out.server_pid })).toMatchObject({ reset_id: recv.id, errno: 'EPIPE' });
  });

  it('an ACK to a listener', async () => {
    const { out, resets } = await traced('ack-listener', '127.0.0.1');
    expect(one(resets, { direction: 'send' })).toMatchObject({
      reason: 'TCP_FLAGS',
      state: 'LISTEN',
      lport: out.server_port,
      rport: out.client_port,
      segment: { flags: ['ACK'], seq: out.sent_seq, ack: out.sent_ack, payload_bytes: 0 },
      kernel_path: { signature: 'tcp_v4_do_rcv → tcp_v4_send_reset' },
      cause: { code: 'ack-to-listener' },
    });
  });

  it('one process holding both ends: the reset its close() of one end brings to the other is not taken for a close of that other', async () => {
    const { out, resets } = await traced('self-pair', '127.0.0.1');
    expect(out.rst_seen).toBe(true);
    // the client end: closed by the process, with unread data
    expect(one(resets, { direction: 'send', lport: out.client_port })).toMatchObject({
      reason: 'TCP_ABORT_ON_CLOSE',
      owner: { pid: out.pid, last_syscall: 'close', closed_ms_before: expect.any(Number) },
    });
    // the server end went to CLOSE inside that close(), by the RST: later
    // news of its connection must not say the process closed it then
    expect(one(resets, { direction: 'send', lport: out.server_port, reason: 'TCP_FLAGS' })).toMatchObject({
      owner: { pid: out.pid, source: 'tuple', last_syscall: 'write', closed_ms_before: null },
      cause: { code: 'ack-to-listener' },
    });
  });
});

describe.skipIf(skip)('sockets older than rsttrace', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('older');
  });
  afterAll(() => ns?.close());

  it('get their owner from /proc at start', async () => {
    const child = spawn('ip', ['netns', 'exec', ns.name, RSTSCEN, 'hold', '127.0.0.1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const out = JSON.parse(await new Promise<string>((r) => child.stdout!.once('data', (d) => r(String(d)))));
    const trace = await startTrace(['--netns', ns.name]);
    child.stdin!.end('go\n');
    expect(await exited).toBe(0);
    const resets = inNetns((await trace.stop()).records, ns);
    // the client made no syscall on its socket since rsttrace started
    expect(resets.find((r) => r.direction === 'recv')).toMatchObject({
      lport: out.client_port,
      owner: { pid: out.client_pid, comm: 'rstscen', source: 'procfs' },
    });
    expect(resets.find((r) => r.direction === 'send')).toMatchObject({
      lport: out.server_port,
      owner: { pid: out.server_pid, source: 'socket' },
      cause: { code: 'linger-zero' },
    });
  });
});

describe.skipIf(skip)('a segment for a connection that no longer exists', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('notw');
    // no TIME_WAIT sockets in this namespace: a closed connection leaves nothing behind
    ns.exec('sysctl', ['-qw', 'net.ipv4.tcp_max_tw_buckets=0']);
  });
  afterAll(() => ns?.close());

  it('NO_SOCKET, with the last owner of that 4-tuple and when it closed it', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const out = ns.scenario('kb-timewait', '127.0.0.1');
    const { records } = await trace.stop();
    const resets = inNetns(records, ns);
    const send = resets.find((r) => r.direction === 'send');
    expect(send).toMatchObject({
      reason: 'NO_SOCKET',
      state: null,
      lport: out.client_port,
      rport: out.server_port,
      owner: { pid: out.client_pid, source: 'tuple', last_syscall: 'close' },
      cause: { code: 'segment-after-close' },
    });
    expect(send!.owner.closed_ms_before).toBeGreaterThan(0);
    expect(send!.cause.summary).toMatch(new RegExp(`after pid ${out.client_pid} \\(rstscen\\) closed it$`));
    const recv = resets.find((r) => r.direction === 'recv');
    const errors = records.filter((r) => r.type === 'syscall_error' && r.pid === out.server_pid);
    expect(errors).toMatchObject([{ reset_id: recv!.id, errno: 'EPIPE' }]);
  });
});

describe.skipIf(skip)('the default: no program on every syscall', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('nohook');
  });
  afterAll(() => ns?.close());

  function programsOf(pid: number): (string | undefined)[] {
    const held = bpfObjectsOf(pid).progs;
    return (JSON.parse(spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }).stdout) as { id: number; name?: string }[])
      .filter((p) => held.includes(p.id))
      .map((p) => p.name);
  }

  it('failed reads and writes linked (socket tracepoints); a failed connect() explained by its reset alone; no sys_exit program', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const names = programsOf(trace.pid);
    expect(names).toContain('rst_send');
    expect(names).not.toContain('rst_sys_exit');
    const refused = ns.scenario('refused', '127.0.0.1', '9');
    const kb = ns.scenario('kb-timewait', '127.0.0.1');
    const { records } = await trace.stop();
    const mine = records.filter((r) => r.netns === ns.inode);
    const errors = mine.filter((r) => r.type === 'syscall_error');
    // the server's send() after the RST: from sock:sock_send_length
    expect(errors.find((r) => r.pid === kb.server_pid)).toMatchObject({ syscall: 'sendto', errno: 'EPIPE' });
    expect(errors.find((r) => r.pid === refused.pid)).toBeUndefined();
    // the refused connect is explained by its reset: who, which syscall
    expect(inNetns(mine, ns).find((r) => r.direction === 'recv' && r.lport === refused.lport)).toMatchObject({
      owner: { pid: refused.pid, source: 'socket' },
      context: { kind: 'syscall', syscall: 'connect' },
      cause: { code: 'connection-refused' },
    });
    expect(records[0]).toMatchObject({ type: 'session_start', options: { syscall_hook: false } });
  });

  it('an accepted socket never read or written: its owner is the process whose recv() then fails', async () => {
    // connect-unspec: the server accepts and blocks in recv(); nothing saw the accept
    const trace = await startTrace(['--netns', ns.name]);
    const out = ns.scenario('connect-unspec', '127.0.0.1');
    const { records } = await trace.stop();
    const mine = records.filter((r) => r.netns === ns.inode);
    const recv = inNetns(mine, ns).find((r) => r.direction === 'recv' && r.lport === out.server_port);
    expect(recv).toMatchObject({ owner: { pid: out.server_pid, comm: 'rstscen', source: 'socket', last_syscall: 'recvfrom' } });
    expect(mine.find((r) => r.type === 'syscall_error' && r.pid === out.server_pid)).toMatchObject({ reset_id: recv!.id, errno: 'ECONNRESET' });
  });

  it('--syscall-hook attaches the sys_exit program', async () => {
    const trace = await startTrace(['--netns', ns.name, '--syscall-hook']);
    expect(programsOf(trace.pid)).toContain('rst_sys_exit');
    const { records } = await trace.stop();
    expect(records[0]).toMatchObject({ type: 'session_start', options: { syscall_hook: true } });
  });
});
