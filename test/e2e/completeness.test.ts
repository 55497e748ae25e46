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
    expect(stderr).toMatch(/, 0 lost\n/);
    expect(records.filter((r) => r.type === 'lost')).toHaveLength(0);
  });
});
