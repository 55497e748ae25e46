/**
 * Real resets made by real programs in a network namespace of this file's
 * own, traced by the real BPF programs; the assertions are on the fields a
 * user reads: direction, 4-tuple, state, reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, inNetns, Netns, reportSkip, startTrace, type JsonRecord } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/resets');

const CLOSED_PORT = '9';

function oneOf(records: JsonRecord[], direction: 'send' | 'recv'): JsonRecord {
  const found = records.filter((r) => r.direction === direction);
  expect(found, `${direction} events: ${JSON.stringify(records)}`).toHaveLength(1);
  return found[0]!;
}

describe.skipIf(skip)('resets made by real programs', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('resets');
  });
  afterAll(() => ns?.close());

  for (const [family, addr] of [
    ['ipv4', '127.0.0.1'],
    ['ipv6', '::1'],
  ] as const) {
    it(`connect() to a closed ${family} port: SEND NO_SOCKET, RECV on the SYN_SENT socket`, async () => {
      const trace = await startTrace(['--netns', ns.name]);
      const out = ns.scenario('refused', addr, CLOSED_PORT);
      const mine = inNetns((await trace.stop()).records, ns);

      expect(out.errno).toBe('ECONNREFUSED');
      expect(mine).toHaveLength(2);
      expect(oneOf(mine, 'send')).toMatchObject({
        family,
        laddr: addr,
        lport: Number(CLOSED_PORT),
        raddr: addr,
        rport: out.lport,
        state: null,
        reason: 'NO_SOCKET',
        sock_cookie: null,
        segment: { flags: ['SYN'], payload_bytes: 0 },
      });
      expect(oneOf(mine, 'recv')).toMatchObject({
        family,
        laddr: addr,
        lport: out.lport,
        raddr: addr,
        rport: Number(CLOSED_PORT),
        state: 'SYN_SENT',
        // loopback: the RST is processed in the connecting process's syscall
        current: { pid: out.pid, comm: 'rstscen' },
      });
    });
  }

  it('close() with unread data: SEND TCP_ABORT_ON_CLOSE, RECV on the peer', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const out = ns.scenario('unread-close', '127.0.0.1');
    const mine = inNetns((await trace.stop()).records, ns);

    expect(out.unread_bytes).toBeGreaterThan(0);
    expect(out.server_errno).toBe('ECONNRESET');
    const send = oneOf(mine, 'send');
    expect(send).toMatchObject({
      family: 'ipv4',
      laddr: '127.0.0.1',
      lport: out.client_port,
      raddr: '127.0.0.1',
      rport: out.server_port,
      // tcp_close() moves the socket to CLOSE before it sends the reset
      state: 'CLOSE',
      reason: 'TCP_ABORT_ON_CLOSE',
      segment: null,
      current: { pid: out.client_pid },
    });
    expect(send.sock_cookie).toBeGreaterThan(0);
    expect(oneOf(mine, 'recv')).toMatchObject({
      laddr: '127.0.0.1',
      lport: out.server_port,
      raddr: '127.0.0.1',
      rport: out.client_port,
      state: 'ESTABLISHED',
    });
  });

  it('close() with SO_LINGER {1, 0}: SEND TCP_STATE, RECV on the peer (IPv6)', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const out = ns.scenario('linger0', '::1');
    const mine = inNetns((await trace.stop()).records, ns);

    expect(out.server_errno).toBe('ECONNRESET');
    expect(oneOf(mine, 'send')).toMatchObject({
      family: 'ipv6',
      laddr: '::1',
      lport: out.client_port,
      raddr: '::1',
      rport: out.server_port,
      state: 'CLOSE',
      reason: 'TCP_STATE',
      current: { pid: out.client_pid },
    });
    expect(oneOf(mine, 'recv')).toMatchObject({
      family: 'ipv6',
      lport: out.server_port,
      rport: out.client_port,
      state: 'ESTABLISHED',
    });
  });
});
