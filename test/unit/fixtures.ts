/** Events as the correlator makes them, for the formatter and catalog tests. */
import type { ResetEvent, SyscallErrorEvent } from '../../src/event.js';
import { words } from '../../src/words.js';

export const WALL = 1_795_248_009_737_365_224n;

export function resetFixture(over: Partial<ResetEvent> = {}): ResetEvent {
  return {
    type: 'reset',
    id: 7,
    direction: 'send',
    wall_ns: WALL,
    mono_ns: 289_729_152_447,
    family: 'ipv6',
    laddr: '::1',
    lport: 9,
    raddr: '::1',
    rport: 51234,
    state: null,
    reason: 'NO_SOCKET',
    reason_code: 1,
    netns: 4026531833,
    sock_cookie: null,
    cpu: 1,
    current: { pid: 4711, tid: 4711, comm: 'curl' },
    owner: null,
    context: { kind: 'softirq', syscall: 'connect', pid: 4711, comm: 'curl', timer: null },
    kernel_path: { signature: 'tcp_v6_rcv → tcp_v6_send_reset', stack: ['tcp_v6_send_reset', 'tcp_v6_rcv'], stack_from_event: null },
    socket: null,
    history: [],
    segment: { flags: ['SYN'], seq: 1, ack: 0, window: 65495, payload_bytes: 0 },
    cause: { code: 'closed-port', summary: words`nothing listens on port ${9}`, fix: words`start the service`, inferred: false },
    peer_event_id: null,
    ...over,
  };
}

/** A recv() that failed with ECONNRESET, 0.12 ms after reset #7. */
export function syscallErrorFixture(over: Partial<SyscallErrorEvent> = {}): SyscallErrorEvent {
  return {
    type: 'syscall_error',
    id: 8,
    reset_id: 7,
    wall_ns: WALL,
    mono_ns: 1,
    ms_after_reset: 0.12,
    pid: 901,
    tid: 901,
    comm: 'client',
    syscall: 'recvfrom',
    errno: 'ECONNRESET',
    family: 'ipv4',
    laddr: '127.0.0.1',
    lport: 5000,
    raddr: '127.0.0.1',
    rport: 80,
    state: 'CLOSE',
    netns: 1,
    sock_cookie: 3,
    ...over,
  };
}

/** An owner as the correlator makes it for a socket seen at a syscall. */
export const OWNER = {
  pid: 900,
  tid: 900,
  comm: 'nginx',
  uid: 33,
  cmdline: 'nginx: worker process',
  cgroup: '/system.slice/nginx.service',
  container_id: null,
  source: 'socket' as const,
  last_syscall: 'close',
  last_syscall_ms_before: 0.2,
  closed_ms_before: 0.2,
};
