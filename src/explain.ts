/**
 * The cause catalog: each known combination of direction, reason, state,
 * context and socket facts -> a cause code, one sentence with this event's
 * numbers, and the usual fix. Rules are tried in order; the first that
 * matches explains. What no rule knows is said plainly, with the raw facts.
 */
import { endpointWords } from './addr.js';
import { formatMs } from './clock.js';
import type { Cause, ResetEvent } from './event.js';
import { words, type Words } from './words.js';

export type Explainable = Omit<ResetEvent, 'cause'>;

interface Rule {
  when: (e: Explainable) => boolean;
  explain: (e: Explainable) => Omit<Cause, 'inferred'>;
}

const ms = (v: number | null | undefined): string => (v == null ? '?' : formatMs(v));
const who = (e: Explainable): Words => (e.owner ? words`pid ${e.owner.pid} (${e.owner.comm})` : words`the application`);
const bytes = (n: number): Words => (n === 1 ? words`${n} byte` : words`${n} bytes`);
const remote = (e: Explainable) => endpointWords(e.raddr, e.rport);
const local = (e: Explainable) => endpointWords(e.laddr, e.lport);
const onPath = (e: Explainable, re: RegExp) => e.kernel_path.stack.some((f) => re.test(f));
/** "3.2 ms after pid 4711 (client) closed it" */
const afterClose = (e: Explainable, what: string) =>
  e.owner?.closed_ms_before != null ? words`${ms(e.owner.closed_ms_before)} after ${who(e)} closed ${what}` : words`after ${who(e)} closed ${what}`;
const segmentBytes = (e: Explainable) => e.segment?.payload_bytes ?? 0;

const HALF_CLOSE_FIX = words`don't close() while the peer may still send: after shutdown(SHUT_WR), read until EOF (the peer's close), then close(); or have the protocol say when the peer is done`;

const RULES: Rule[] = [
  // ---- resets this host sent in answer to a segment -------------------------
  {
    when: (e) => e.direction === 'send' && e.reason === 'NO_SOCKET' && e.owner?.source === 'tuple',
    explain: (e) => ({
      code: 'segment-after-close',
      summary: words`a segment (${bytes(segmentBytes(e))}) from ${remote(e)} arrived for a connection that no longer exists: it came ${afterClose(e, 'it')}`,
      fix: HALF_CLOSE_FIX,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'NO_SOCKET' && !!e.segment?.flags.includes('SYN') && !e.segment.flags.includes('ACK'),
    explain: (e) => ({
      code: 'closed-port',
      summary: words`connection attempt from ${remote(e)} to ${local(e)}: nothing listens on port ${e.lport}`,
      fix: words`start the service on port ${e.lport}, or point the client at the right address and port`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'NO_SOCKET',
    explain: (e) => ({
      code: 'no-socket',
      summary: words`a segment from ${remote(e)} arrived for a connection this host does not have (closed long ago, a restart, or a stale NAT or load-balancer mapping)`,
      fix: words`find why the peer still believes the connection exists: its idle timeouts, NAT state, or a restart of this host`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_TIMEWAIT_SOCKET',
    explain: (e) => ({
      code: 'late-data-timewait',
      summary: words`${bytes(segmentBytes(e))} from ${remote(e)} arrived ${afterClose(e, 'the connection')} (now in TIME_WAIT): the peer was still sending`,
      fix: HALF_CLOSE_FIX,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_DATA' && e.owner?.closed_ms_before != null,
    explain: (e) => ({
      code: 'data-after-close',
      summary: words`${bytes(segmentBytes(e))} from ${remote(e)} arrived ${afterClose(e, 'the socket')} (still in ${e.state ?? '?'}): nobody could read them`,
      fix: HALF_CLOSE_FIX,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_DATA',
    explain: (e) => ({
      code: 'data-after-shutdown',
      summary: words`${bytes(segmentBytes(e))} from ${remote(e)} arrived after the socket was shut down for reading (shutdown ${e.socket?.shutdown.join('+') || 'read'}, state ${e.state ?? '?'})`,
      fix: words`to half-close, use shutdown(SHUT_WR) and keep reading until EOF; SHUT_RD or SHUT_RDWR makes the kernel reset on arriving data`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_FLAGS' && e.state === 'LISTEN',
    explain: (e) => ({
      code: 'ack-to-listener',
      summary: words`a segment with flags ${e.segment?.flags.join(',') || '?'} from ${remote(e)} reached the listener on port ${e.lport} with no connection for it (a connection this host already dropped, or a stale mapping on the path)`,
      fix: words`look at what the peer thinks this connection is: a handshake that failed here, a listen queue overflow, or a middlebox replaying segments`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'INVALID_SYN',
    explain: (e) => ({
      code: 'invalid-handshake',
      summary: words`the handshake from ${remote(e)} could not complete (listen queue overflow with net.ipv4.tcp_abort_on_overflow=1, or an invalid ACK to a SYN-ACK)`,
      fix: words`raise the listen backlog and net.core.somaxconn, accept faster, or set net.ipv4.tcp_abort_on_overflow=0`,
    }),
  },
  {
    when: (e) =>
      e.direction === 'send' &&
      ['TCP_OLD_ACK', 'TCP_TOO_OLD_ACK', 'TCP_ACK_UNSENT_DATA', 'TCP_INVALID_ACK_SEQUENCE', 'TCP_RFC7323_PAWS'].includes(e.reason ?? ''),
    explain: (e) => ({
      code: 'invalid-segment',
      summary: words`${remote(e)} sent a segment that does not fit this connection (${e.reason ?? '?'}: ack ${e.segment?.ack ?? '?'} in state ${e.state ?? '?'})`,
      fix: words`usually a middlebox rewriting sequence numbers or timestamps, or two connections sharing a 4-tuple behind NAT`,
    }),
  },
  // ---- resets this host sent on its own (a syscall or a timer) ----------------
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_CLOSE',
    explain: (e) => {
      const unread = e.socket?.rcv_unread_bytes ?? 0;
      const how = e.context.syscall === 'exit_group' || e.context.syscall === 'exit' ? 'exited' : 'called close()';
      return {
        code: 'close-unread',
        summary: words`${who(e)} ${how} with ${bytes(unread)} unread: it closed the connection without reading what ${remote(e)} had sent`,
        fix: words`read to EOF before close(), or shutdown(SHUT_WR) and drain; if the data does not matter, the peer must expect a reset`,
      };
    },
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_STATE' && onPath(e, /^(tcp_abort|inet_diag_destroy|tcp_diag_destroy|sock_diag_destroy)$/),
    explain: (e) => ({
      code: 'killed',
      summary: words`the socket was destroyed from outside (ss -K / SOCK_DESTROY) by pid ${e.context.pid ?? '?'} (${e.context.comm ?? '?'}); its owner, ${who(e)}, sees ECONNABORTED`,
      fix: words`find who runs ss -K (or another SOCK_DESTROY user, e.g. a proxy or cilium) and why`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_STATE' && e.context.syscall === 'connect',
    explain: (e) => ({
      code: 'connect-unspec',
      summary: words`${who(e)} called connect() with AF_UNSPEC on the connection to ${remote(e)}: that dissolves it at once`,
      fix: words`close() the socket (or shutdown()) to end a connection gracefully`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_STATE' && e.socket?.linger_sec === 0,
    explain: (e) => ({
      code: 'linger-zero',
      summary: words`${who(e)} closed the connection to ${remote(e)} with SO_LINGER {1, 0}: an abortive close, by request`,
      fix: words`drop SO_LINGER 0 unless an abortive close is meant (it avoids TIME_WAIT at the cost of a reset the peer sees as an error)`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_STATE' && e.context.kind === 'timer',
    explain: (e) => ({
      code: 'fin-wait2-timeout',
      summary: words`the closed socket waited in FIN_WAIT2 for ${remote(e)}'s FIN longer than net.ipv4.tcp_fin_timeout (or its TCP_LINGER2)`,
      fix: words`the peer does not close its side: make it close, or raise net.ipv4.tcp_fin_timeout`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_LINGER',
    explain: (e) => ({
      code: 'linger2',
      summary: words`${who(e)} closed the socket in FIN_WAIT2 with TCP_LINGER2 < 0 (or its FIN_WAIT2 time ran out): the kernel aborted instead of waiting for ${remote(e)}'s FIN`,
      fix: words`leave TCP_LINGER2 at its default unless abortive closes are intended`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_MEMORY',
    explain: () => ({
      code: 'orphan-memory',
      summary: words`too many orphaned sockets or TCP memory over its limit: the kernel killed a closed connection that still had data in flight`,
      fix: words`raise net.ipv4.tcp_max_orphans or net.ipv4.tcp_mem, or find what leaves so many closed connections with unsent data`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_KEEPALIVE_TIMEOUT',
    explain: (e) => ({
      code: 'keepalive-timeout',
      summary: words`keepalive probes to ${remote(e)} went unanswered: the peer is gone or the path to it is broken; ${who(e)} gets ETIMEDOUT`,
      fix: words`check the peer and the path (firewall or NAT idle timeouts); TCP_KEEPIDLE/KEEPINTVL/KEEPCNT decide how fast this is noticed`,
    }),
  },
  {
    when: (e) => e.direction === 'send' && e.reason === 'TCP_DISCONNECT_WITH_DATA',
    explain: (e) => ({
      code: 'disconnect-with-data',
      summary: words`the connection to ${remote(e)} was disconnected with ${bytes(e.socket?.rcv_unread_bytes ?? 0)} unread`,
      fix: words`read what the peer sent before disconnecting`,
    }),
  },
  // ---- resets this host received -------------------------------------------
  {
    when: (e) => e.direction === 'recv' && e.state === 'SYN_SENT',
    explain: (e) => ({
      code: 'connection-refused',
      summary: words`connect() from ${who(e)} to ${remote(e)} was refused: nothing listens there (or a firewall rejects with RST)`,
      fix: words`start the service on ${remote(e)}, or fix the address and port the client uses`,
    }),
  },
  {
    // the kernel's own abort (tcp_rcv_state_process), not an RST from the peer (tcp_validate_incoming)
    when: (e) =>
      e.direction === 'recv' &&
      (e.state === 'FIN_WAIT1' || e.state === 'FIN_WAIT2') &&
      !!e.socket?.shutdown.includes('read') &&
      e.kernel_path.signature.startsWith('tcp_rcv_state_process'),
    explain: (e) => ({
      code: 'abort-after-shutdown-read',
      summary:
        e.owner?.closed_ms_before != null
          ? words`data arrived ${afterClose(e, 'the socket')}: the kernel aborts the connection and resets it (not an RST from ${remote(e)})`
          : words`data arrived on a socket ${who(e)} shut down for reading: the kernel aborts the connection and resets it (not an RST from ${remote(e)})`,
      fix: HALF_CLOSE_FIX,
    }),
  },
  {
    when: (e) => e.direction === 'recv',
    explain: (e) => ({
      code: 'reset-by-peer',
      summary: words`${remote(e)} reset the connection${e.state ? words` (here in ${e.state})` : ''}; ${
        e.owner?.closed_ms_before != null
          ? words`nobody is told: ${who(e)} had closed the socket ${ms(e.owner.closed_ms_before)} before`
          : words`${who(e)} sees ${e.state === 'CLOSE_WAIT' ? 'EPIPE' : 'ECONNRESET'}`
      }${e.peer_event_id !== null ? words`; the peer is on this host: see event #${e.peer_event_id}` : ''}`,
      fix: e.peer_event_id !== null ? words`see why the peer reset it (event #${e.peer_event_id})` : words`look at ${remote(e)}: run rsttrace there to see why it reset`,
    }),
  },
];

const CLOSING_STATES = ['FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK', 'CLOSE'];

/**
 * The reason the kernel would have given, from the state, the socket's facts
 * and the kernel path: for kernels that give none (before 6.10) or give
 * NOT_SPECIFIED for resets made by a syscall or timer (6.10, 6.11).
 */
export function inferReason(e: Explainable): string | null {
  if (e.direction !== 'send') return null;
  if (e.segment) {
    if (e.state === null) return 'NO_SOCKET';
    if (e.state === 'TIME_WAIT') return 'TCP_TIMEWAIT_SOCKET';
    if (e.state === 'LISTEN') return 'TCP_FLAGS';
    if (e.segment.payload_bytes > 0 && CLOSING_STATES.includes(e.state)) return 'TCP_ABORT_ON_DATA';
    return null;
  }
  const caller = e.kernel_path.stack[1] ?? '';
  if (onPath(e, /^(tcp_abort|inet_diag_destroy|tcp_diag_destroy|sock_diag_destroy)$/)) return 'TCP_STATE';
  if (onPath(e, /^tcp_keepalive_timer$/)) return e.history.at(-1)?.from === 'FIN_WAIT2' || e.state === 'FIN_WAIT2' ? 'TCP_STATE' : 'TCP_KEEPALIVE_TIMEOUT';
  if (onPath(e, /^tcp_out_of_resources$|^tcp_check_oom$/)) return 'TCP_ABORT_ON_MEMORY';
  if (caller === 'tcp_disconnect') return 'TCP_STATE';
  if (caller === '__tcp_close') {
    if ((e.socket?.rcv_unread_bytes ?? 0) > 0) return 'TCP_ABORT_ON_CLOSE';
    if (e.history.at(-1)?.from === 'FIN_WAIT2') return 'TCP_ABORT_ON_LINGER';
  }
  return null;
}

export function explain(e: Explainable): Cause {
  const given = e.reason !== null && e.reason !== 'NOT_SPECIFIED';
  const inferred = given ? null : inferReason(e);
  const view = inferred ? { ...e, reason: inferred } : e;
  for (const rule of RULES) {
    if (!rule.when(view)) continue;
    const c = rule.explain(view);
    return { code: c.code, summary: c.summary, fix: c.fix, inferred: inferred !== null };
  }
  return {
    code: 'unknown',
    summary: words`${e.direction === 'send' ? 'sent' : 'received'} reset, reason ${e.reason ?? 'none'}, state ${e.state ?? 'none'}, context ${e.context.kind}${e.kernel_path.signature ? words`, path ${e.kernel_path.signature}` : ''}: rsttrace has no explanation for this combination yet`,
    fix: null,
    inferred: false,
  };
}
