/**
 * Keepalive timeout between two hosts of the test's own (network namespaces
 * and a veth pair): the peer is cut off, keepalive probes go unanswered, the
 * client's timer resets the connection and its blocked recv() gets ETIMEDOUT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, inNetns, reportSkip, RSTSCEN, run, startTrace, VethPair } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/keepalive');

describe.skipIf(skip)('keepalive timeout over veth', () => {
  let hosts: VethPair;
  beforeAll(() => {
    hosts = new VethPair('ka');
  });
  afterAll(() => hosts?.close());

  it('timer context, the owner named, ETIMEDOUT linked', async () => {
    const trace = await startTrace(['--netns', hosts.client.name]);
    const out = JSON.parse(
      run(RSTSCEN, ['keepalive', hosts.server.name, hosts.client.name, hosts.serverAddr, hosts.serverIface]),
    );
    const { records } = await trace.stop();
    expect(out.client_errno).toBe('ETIMEDOUT');
    const resets = inNetns(records, hosts.client);
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({
      direction: 'send',
      reason: 'TCP_KEEPALIVE_TIMEOUT',
      state: 'ESTABLISHED',
      laddr: hosts.clientAddr,
      lport: out.client_port,
      raddr: hosts.serverAddr,
      rport: out.server_port,
      owner: { pid: out.client_pid, comm: 'rstscen' },
      // `current` is whatever the timer interrupted: not asserted
      context: { kind: 'timer', timer: 'tcp_keepalive_timer', pid: null },
      kernel_path: { signature: 'tcp_keepalive_timer → tcp_send_active_reset' },
      cause: { code: 'keepalive-timeout' },
    });
    const errors = records.filter((r) => r.type === 'syscall_error' && r.netns === hosts.client.inode);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ pid: out.client_pid, errno: 'ETIMEDOUT', reset_id: resets[0]!.id, syscall: 'recvfrom' });
  });
});
