/** The cause catalog: which facts make which cause, with this event's numbers in the words. */
import { describe, expect, it } from 'vitest';
import type { ResetEvent } from '../../src/event.js';
import { explain, type Explainable } from '../../src/explain.js';
import { resetFixture } from './fixtures.js';

const owner = (over: Partial<NonNullable<ResetEvent['owner']>> = {}): NonNullable<ResetEvent['owner']> => ({
  pid: 4711,
  tid: 4711,
  comm: 'client',
  uid: 0,
  cmdline: null,
  cgroup: null,
  container_id: null,
  source: 'socket',
  last_syscall: 'close',
  last_syscall_ms_before: 3,
  closed_ms_before: null,
  ...over,
});
const facts = (over: Partial<NonNullable<ResetEvent['socket']>> = {}): NonNullable<ResetEvent['socket']> => ({
  rcv_unread_bytes: 0,
  snd_unsent_bytes: 0,
  snd_unacked_bytes: 0,
  shutdown: [],
  linger_sec: null,
  ...over,
});
const ev = (over: Partial<ResetEvent>): Explainable => {
  const { cause: _cause, ...e } = resetFixture({ family: 'ipv4', laddr: '127.0.0.1', raddr: '127.0.0.1', lport: 8080, rport: 40000, segment: null, ...over });
  return e;
};
const syscall = (name: string) => ({ kind: 'syscall' as const, syscall: name, pid: 4711, comm: 'client', timer: null });

describe('cause catalog', () => {
  it('closed port', () => {
    const c = explain(ev({ reason: 'NO_SOCKET', segment: { flags: ['SYN'], seq: 1, ack: 0, window: 1, payload_bytes: 0 }, lport: 9 }));
    expect(c.code).toBe('closed-port');
    expect(String(c.summary)).toBe('connection attempt from 127.0.0.1:40000 to 127.0.0.1:9: nothing listens on port 9');
  });

  it('a segment for a connection that was closed: names the last owner and when', () => {
    const c = explain(
      ev({
        reason: 'NO_SOCKET',
        owner: owner({ source: 'tuple', closed_ms_before: 3.2 }),
        segment: { flags: ['PSH', 'ACK'], seq: 1, ack: 1, window: 1, payload_bytes: 120 },
      }),
    );
    expect(c.code).toBe('segment-after-close');
    expect(String(c.summary)).toContain('a segment (120 bytes) from 127.0.0.1:40000');
    expect(String(c.summary)).toContain('arrived for a connection that no longer exists: it came 3.2 ms after pid 4711 (client) closed it');
  });

  it('no socket, no history: says what it may be', () => {
    expect(explain(ev({ reason: 'NO_SOCKET', segment: { flags: ['ACK'], seq: 1, ack: 1, window: 1, payload_bytes: 0 } })).code).toBe('no-socket');
  });

  it('KB Q152474: late data to a TIME_WAIT socket, and to an orphaned FIN_WAIT1 socket', () => {
    const seg = { flags: ['PSH', 'ACK'], seq: 1, ack: 1, window: 1, payload_bytes: 6 };
    const tw = explain(ev({ reason: 'TCP_TIMEWAIT_SOCKET', state: 'TIME_WAIT', segment: seg, owner: owner({ source: 'tuple', closed_ms_before: 12 }) }));
    expect(tw.code).toBe('late-data-timewait');
    expect(String(tw.summary)).toBe(
      '6 bytes from 127.0.0.1:40000 arrived 12.0 ms after pid 4711 (client) closed the connection (now in TIME_WAIT): the peer was still sending',
    );
    expect(String(tw.fix)).toMatch(/shutdown\(SHUT_WR\), read until EOF/);
    const fw1 = explain(ev({ reason: 'TCP_ABORT_ON_DATA', state: 'FIN_WAIT1', segment: seg, owner: owner({ closed_ms_before: 0.5 }) }));
    expect(fw1.code).toBe('data-after-close');
    expect(String(fw1.summary)).toContain('(still in FIN_WAIT1)');
  });

  it('data after shutdown(SHUT_RD…) without close', () => {
    const c = explain(ev({ reason: 'TCP_ABORT_ON_DATA', state: 'FIN_WAIT2', socket: facts({ shutdown: ['read', 'write'] }), owner: owner() }));
    expect(c.code).toBe('data-after-shutdown');
    expect(String(c.summary)).toContain('shutdown read+write, state FIN_WAIT2');
  });

  it('close() with unread data, and exit with unread data', () => {
    const c = explain(ev({ reason: 'TCP_ABORT_ON_CLOSE', state: 'CLOSE', socket: facts({ rcv_unread_bytes: 14 }), owner: owner(), context: syscall('close') }));
    expect(c.code).toBe('close-unread');
    expect(String(c.summary)).toBe(
      'pid 4711 (client) called close() with 14 bytes unread: it closed the connection without reading what 127.0.0.1:40000 had sent',
    );
    expect(String(c.fix)).toMatch(/^read to EOF before close\(\), or shutdown\(SHUT_WR\) and drain/);
    expect(String(explain(ev({ reason: 'TCP_ABORT_ON_CLOSE', socket: facts({ rcv_unread_bytes: 1 }), owner: owner(), context: syscall('exit_group') })).summary)).toContain(
      'exited with 1 byte unread',
    );
  });

  it('TCP_STATE: SO_LINGER 0, connect(AF_UNSPEC), ss -K, FIN_WAIT2 timer', () => {
    expect(explain(ev({ reason: 'TCP_STATE', socket: facts({ linger_sec: 0 }), owner: owner(), context: syscall('close') })).code).toBe('linger-zero');
    expect(explain(ev({ reason: 'TCP_STATE', socket: facts(), owner: owner(), context: syscall('connect') })).code).toBe('connect-unspec');
    const killed = explain(
      ev({
        reason: 'TCP_STATE',
        owner: owner(),
        context: { kind: 'syscall', syscall: 'sendmsg', pid: 99, comm: 'ss', timer: null },
        kernel_path: { signature: 'tcp_abort → tcp_send_active_reset', stack: ['tcp_send_active_reset', 'tcp_abort', 'inet_diag_destroy'], stack_from_event: null },
      }),
    );
    expect(killed.code).toBe('killed');
    expect(String(killed.summary)).toContain('by pid 99 (ss); its owner, pid 4711 (client), sees ECONNABORTED');
    expect(explain(ev({ reason: 'TCP_STATE', state: 'FIN_WAIT2', context: { kind: 'timer', syscall: null, pid: null, comm: null, timer: 'tcp_keepalive_timer' } })).code).toBe(
      'fin-wait2-timeout',
    );
  });

  it('TCP_LINGER2, memory, keepalive', () => {
    expect(explain(ev({ reason: 'TCP_ABORT_ON_LINGER', owner: owner() })).code).toBe('linger2');
    expect(explain(ev({ reason: 'TCP_ABORT_ON_MEMORY' })).code).toBe('orphan-memory');
    const ka = explain(ev({ reason: 'TCP_KEEPALIVE_TIMEOUT', owner: owner(), context: { kind: 'timer', syscall: null, pid: null, comm: null, timer: 'tcp_keepalive_timer' } }));
    expect(ka.code).toBe('keepalive-timeout');
    expect(String(ka.summary)).toContain('pid 4711 (client) gets ETIMEDOUT');
  });

  it('ACK to a listener', () => {
    const c = explain(ev({ reason: 'TCP_FLAGS', state: 'LISTEN', segment: { flags: ['ACK'], seq: 1, ack: 1, window: 1, payload_bytes: 0 } }));
    expect(c.code).toBe('ack-to-listener');
    expect(String(c.summary)).toContain('flags ACK from 127.0.0.1:40000 reached the listener on port 8080');
  });

  it('received: refused, reset by peer (local peer linked, EPIPE in CLOSE_WAIT)', () => {
    expect(explain(ev({ direction: 'recv', reason: null, state: 'SYN_SENT', owner: owner() })).code).toBe('connection-refused');
    const byPeer = explain(ev({ direction: 'recv', reason: null, state: 'CLOSE_WAIT', owner: owner(), peer_event_id: 41 }));
    expect(byPeer.code).toBe('reset-by-peer');
    expect(String(byPeer.summary)).toBe('127.0.0.1:40000 reset the connection (here in CLOSE_WAIT); pid 4711 (client) sees EPIPE; the peer is on this host: see event #41');
  });

  it('says honestly what it does not know, with the raw facts', () => {
    const c = explain(ev({ reason: 'MPTCP_RST_EMPTCP', state: 'ESTABLISHED' }));
    expect(c.code).toBe('unknown');
    expect(String(c.summary)).toMatch(/^sent reset, reason MPTCP_RST_EMPTCP, state ESTABLISHED, context softirq, path .*: rsttrace has no explanation/);
    expect(c.fix).toBeNull();
  });
});

describe('causes when the kernel gives no reason (before 6.10, or NOT_SPECIFIED)', () => {
  const seg = (payload: number, flags = ['PSH', 'ACK']) => ({ flags, seq: 1, ack: 1, window: 1, payload_bytes: payload });
  const path = (...stack: string[]) => ({ signature: `${stack[1]} → ${stack[0]}`, stack, stack_from_event: null });
  const cases: [string, Partial<ResetEvent>, string][] = [
    ['no socket', { reason: null, state: null, segment: seg(0, ['SYN']) }, 'closed-port'],
    ['TIME_WAIT', { reason: null, state: 'TIME_WAIT', segment: seg(6), owner: owner({ source: 'tuple', closed_ms_before: 1 }) }, 'late-data-timewait'],
    ['a listener', { reason: null, state: 'LISTEN', segment: seg(0, ['ACK']) }, 'ack-to-listener'],
    ['data after close', { reason: null, state: 'CLOSE', segment: seg(29), owner: owner({ closed_ms_before: 1 }) }, 'data-after-close'],
    ['close with unread data', { reason: 'NOT_SPECIFIED', socket: facts({ rcv_unread_bytes: 5 }), kernel_path: path('tcp_send_active_reset', '__tcp_close', 'tcp_close') }, 'close-unread'],
    ['SO_LINGER 0', { reason: 'NOT_SPECIFIED', socket: facts({ linger_sec: 0 }), context: syscall('close'), kernel_path: path('tcp_send_active_reset', 'tcp_disconnect', '__tcp_close') }, 'linger-zero'],
    ['ss -K', { reason: null, kernel_path: path('tcp_send_active_reset', 'tcp_abort', 'inet_diag_destroy') }, 'killed'],
    ['keepalive', { reason: null, state: 'ESTABLISHED', kernel_path: path('tcp_send_active_reset', 'tcp_keepalive_timer') }, 'keepalive-timeout'],
    ['TCP_LINGER2', { reason: 'NOT_SPECIFIED', history: [{ from: 'FIN_WAIT2', to: 'CLOSE', ms_before: 0.1 }], kernel_path: path('tcp_send_active_reset', '__tcp_close') }, 'linger2'],
  ];
  for (const [what, over, code] of cases) {
    it(`${what} -> ${code}, marked inferred`, () => {
      expect(explain(ev(over))).toMatchObject({ code, inferred: true });
    });
  }

  it('a reason the kernel gave is never second-guessed', () => {
    expect(explain(ev({ reason: 'TCP_ABORT_ON_CLOSE', socket: facts({ rcv_unread_bytes: 1 }) }))).toMatchObject({ code: 'close-unread', inferred: false });
  });
});
