/**
 * Older kernels, proven on this one: each feature a kernel may lack is
 * forced off (--force-fallback), the programs still load and attach, and
 * real resets are still explained, with causes inferred where the kernel
 * gives no reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, inNetns, Netns, reportSkip, startTrace, type JsonRecord } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/fallbacks');

const ALL = ['reason', 'sock-length', 'task-regs', 'socket-cookie', 'sk-storage'];

describe.skipIf(skip)('fallbacks for older kernels', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('fallback');
  });
  afterAll(() => ns?.close());

  async function run(fallbacks: string[]) {
    const trace = await startTrace(['--netns', ns.name, '--force-fallback', fallbacks.join(',')]);
    const refused = ns.scenario('refused', '127.0.0.1', '9');
    const unread = ns.scenario('unread-close', '127.0.0.1');
    const kb = ns.scenario('kb-timewait', '127.0.0.1');
    const { code, records, stderr } = await trace.stop();
    expect(code).toBe(0);
    return { refused, unread, kb, records, resets: inNetns(records, ns), stderr };
  }

  const one = (list: JsonRecord[], pred: (r: JsonRecord) => boolean) => {
    const found = list.filter(pred);
    expect(found, JSON.stringify(list.map((r) => [r.direction, r.lport, r.rport, r.reason, r.cause?.code]))).toHaveLength(1);
    return found[0]!;
  };

  it('everything a pre-5.12 kernel lacks, at once: still owners, contexts, causes (inferred) and linked errors', async () => {
    const { refused, unread, kb, records, resets, stderr } = await run(ALL);
    expect(stderr).toMatch(/gives no reason, sock-length, task-regs, socket-cookie, sk-storage/);
    expect(records[0]).toMatchObject({ type: 'session_start', features: { reason: false, sock_length: false, task_regs: false, socket_cookie: false, sk_storage: false } });
    expect(resets.every((r) => r.reason === null)).toBe(true);

    expect(one(resets, (r) => r.direction === 'send' && r.rport === refused.lport)).toMatchObject({
      cause: { code: 'closed-port', inferred: true },
      context: { kind: 'softirq', syscall: null }, // no bpf_task_pt_regs: the syscall is unknown
    });
    expect(one(resets, (r) => r.direction === 'send' && r.lport === unread.client_port)).toMatchObject({
      owner: { pid: unread.client_pid },
      context: { kind: 'syscall', syscall: null },
      cause: { code: 'close-unread', inferred: true },
    });
    const tw = one(resets, (r) => r.direction === 'send' && r.lport === kb.client_port);
    expect(tw).toMatchObject({ state: 'TIME_WAIT', owner: { pid: kb.client_pid, source: 'tuple' }, cause: { code: 'late-data-timewait', inferred: true } });
    const serverRecv = one(resets, (r) => r.direction === 'recv' && r.lport === kb.server_port);
    const errors = records.filter((r) => r.type === 'syscall_error' && r.netns === ns.inode);
    expect(one(errors, (r) => r.pid === kb.server_pid)).toMatchObject({ errno: 'EPIPE', reset_id: serverRecv.id });
  });

  it('without socket storage every socket is in the LRU map: a burst of new sockets at reused addresses, each with its own owner and history', async () => {
    const trace = await startTrace(['--netns', ns.name, '--force-fallback', 'sk-storage']);
    // established, then closed: their entries, gone, are taken over by later sockets
    const unread = ns.scenario('unread-close', '127.0.0.1');
    const burst = ns.scenario('burst', '127.0.0.1', '9', '300');
    const { code, records } = await trace.stop();
    expect(code).toBe(0);
    const recvs = inNetns(records, ns).filter((r) => r.direction === 'recv' && r.rport === 9);
    expect(recvs).toHaveLength(300);
    for (const r of recvs) {
      expect(r.owner).toMatchObject({ pid: burst.pid, last_syscall: 'connect' });
      expect(r.history.map((h: JsonRecord) => `${h.from}>${h.to}`)).toEqual(['CLOSE>SYN_SENT']);
    }
    const send = one(inNetns(records, ns), (r) => r.direction === 'send' && r.lport === unread.client_port);
    expect(send.history.map((h: JsonRecord) => h.to)).toEqual(['SYN_SENT', 'ESTABLISHED', 'CLOSE']);
  });

  for (const f of ALL) {
    it(`--force-fallback ${f} alone: loads, attaches, explains`, async () => {
      const { unread, resets, records } = await run([f]);
      expect(records[0].features[f.replace('-', '_')]).toBe(false);
      expect(one(resets, (r) => r.direction === 'send' && r.lport === unread.client_port)).toMatchObject({
        owner: { pid: unread.client_pid },
        cause: { code: 'close-unread', inferred: f === 'reason' },
        reason: f === 'reason' ? null : 'TCP_ABORT_ON_CLOSE',
      });
    });
  }
});
