/**
 * No reset missed: in a namespace of its own, a burst of refused connects;
 * rsttrace's SEND events must equal the kernel's own TcpOutRsts delta, with
 * nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, inNetns, Netns, reportSkip, startTrace } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/completeness');

const BURST = 1000;

describe.skipIf(skip)('completeness against the kernel counters', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('burst');
  });
  afterAll(() => ns?.close());

  it(`a burst of ${BURST} resets: SEND events = TcpOutRsts delta, 0 lost`, async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const before = ns.counter('TcpOutRsts');
    const out = ns.scenario('burst', '127.0.0.1', '9', String(BURST));
    const after = ns.counter('TcpOutRsts');
    const { records, stderr, code } = await trace.stop();

    expect(code).toBe(0);
    expect(out.refused).toBe(BURST);
    expect(after - before).toBe(BURST);
    const mine = inNetns(records, ns);
    expect(mine.filter((r) => r.direction === 'send')).toHaveLength(after - before);
    expect(mine.filter((r) => r.direction === 'recv')).toHaveLength(BURST);
    expect(mine.every((r) => r.direction === 'recv' || r.reason === 'NO_SOCKET')).toBe(true);
    // each attempt's socket is new, most at the last one's address (the
    // kernel side reuses that entry in place): its owner, and its own
    // history only, not its predecessors'
    for (const r of mine.filter((r) => r.direction === 'recv')) {
      expect(r.owner).toMatchObject({ pid: out.pid, source: 'socket', last_syscall: 'connect' });
      expect(r.history.map((h: { from: string; to: string }) => `${h.from}>${h.to}`)).toEqual(['CLOSE>SYN_SENT']);
    }
    expect(stderr).toMatch(/, 0 lost\n/);
    expect(records.filter((r) => r.type === 'lost')).toHaveLength(0);

    // 2000 resets in well under a second: past 100 walks per 100 ms on a
    // CPU, a reset's stack is its kernel context's last walked one, named
    const byId = new Map(mine.map((r) => [r.id, r]));
    const reused = mine.filter((r) => r.kernel_path.stack_from_event !== null);
    expect(reused.length).toBeGreaterThan(BURST);
    for (const r of reused) {
      const walked = byId.get(r.kernel_path.stack_from_event);
      if (!walked) throw new Error(`event ${r.id}'s stack comes from event ${r.kernel_path.stack_from_event}, not in the output`);
      expect(walked.kernel_path.stack_from_event).toBeNull();
      expect(walked.id).toBeLessThan(r.id);
      for (const k of ['direction', 'reason', 'state', 'cpu']) expect(walked[k]).toEqual(r[k]);
      expect(walked.context).toEqual(r.context);
      expect(r.kernel_path.stack).toEqual(walked.kernel_path.stack);
    }
    expect(mine.every((r) => r.kernel_path.stack.length > 5)).toBe(true);
  });
});
