/** Human-readable output: pure functions of an event. */
import { formatEndpoint } from '../addr.js';
import { formatMs, localTimeUs } from '../clock.js';
import type { ResetEvent, SyscallErrorEvent, TraceEvent } from '../event.js';

const ENDPOINT_WIDTH = 21; // "255.255.255.255:65535"

export const TEXT_HEADER = [
  'TIME'.padEnd(15),
  'DIR ',
  'LOCAL'.padEnd(ENDPOINT_WIDTH),
  '  ',
  'REMOTE'.padEnd(ENDPOINT_WIDTH),
  'STATE'.padEnd(11),
  'REASON'.padEnd(23),
  'OWNER',
].join(' ');

export interface TextOptions {
  /** one line per reset, nothing under it */
  brief: boolean;
  /** owner details and the whole kernel stack */
  verbose: boolean;
}

/** tcpdump's spelling of a segment's flags: [S], [S.], [P.], [F.], [R.] */
export function tcpdumpFlags(flags: string[]): string {
  const letters: Record<string, string> = { SYN: 'S', FIN: 'F', RST: 'R', PSH: 'P', URG: 'U', ECE: 'E', CWR: 'W' };
  let s = '';
  for (const f of flags) if (letters[f]) s += letters[f];
  if (flags.includes('ACK')) s += '.';
  return `[${s || 'none'}]`;
}

type ResetColumns = Pick<ResetEvent, 'direction' | 'laddr' | 'lport' | 'raddr' | 'rport' | 'state' | 'reason'>;

/** DIR, LOCAL → REMOTE, STATE, REASON: the columns a reset has wherever it is listed (live, report). */
export function resetColumns(e: ResetColumns): string[] {
  return [
    e.direction === 'send' ? 'SEND' : 'RECV',
    formatEndpoint(e.laddr, e.lport).padEnd(ENDPOINT_WIDTH),
    '→ ',
    formatEndpoint(e.raddr, e.rport).padEnd(ENDPOINT_WIDTH),
    (e.state ?? '-').padEnd(11),
    (e.reason ?? '-').padEnd(23),
  ];
}

export function formatResetLine(e: ResetEvent): string {
  return [localTimeUs(e.wall_ns), ...resetColumns(e), e.owner ? `${e.owner.pid}/${e.owner.comm}` : '-'].join(' ');
}

function contextText(e: ResetEvent): string {
  const c = e.context;
  const task = c.pid !== null ? `${c.pid}/${c.comm}` : '';
  switch (c.kind) {
    case 'syscall':
      return `syscall ${c.syscall ?? '?'}() by ${task}`;
    case 'softirq':
      return c.syscall ? `softirq, in ${c.syscall}() of ${task} (the segment's sender)` : `softirq (interrupted ${task})`;
    case 'timer':
      return `timer ${c.timer ?? ''}`.trimEnd();
    default:
      return c.kind;
  }
}

export function formatResetDetails(e: ResetEvent, opts: TextOptions): string[] {
  const lines = [`  ${e.cause.code}${e.cause.inferred ? ' (inferred: the kernel gave no reason)' : ''}: ${e.cause.summary}`];
  if (e.cause.fix) lines.push(`  fix: ${e.cause.fix}`);
  const facts = [`context: ${contextText(e)}`];
  if (e.kernel_path.signature) facts.push(`path: ${e.kernel_path.signature}`);
  if (e.segment) {
    facts.push(`segment: ${tcpdumpFlags(e.segment.flags)} seq ${e.segment.seq} ack ${e.segment.ack} win ${e.segment.window} len ${e.segment.payload_bytes}`);
  }
  lines.push(`  ${facts.join(' · ')}`);
  const sock: string[] = [];
  if (e.socket) {
    const s = e.socket;
    if (s.rcv_unread_bytes) sock.push(`unread ${s.rcv_unread_bytes}`);
    if (s.snd_unsent_bytes) sock.push(`unsent ${s.snd_unsent_bytes}`);
    if (s.snd_unacked_bytes) sock.push(`unacked ${s.snd_unacked_bytes}`);
    if (s.shutdown.length) sock.push(`shutdown ${s.shutdown.join('+')}`);
    if (s.linger_sec !== null) sock.push(`SO_LINGER ${s.linger_sec}s`);
  }
  if (e.history.length) {
    // a FIN_WAIT2 -> FIN_WAIT2 change is the socket turning into a timewait socket
    const step = (h: (typeof e.history)[number]) => (h.from === h.to ? `${h.to} (timewait)` : h.to);
    sock.push(`history ${e.history.map((h) => `${step(h)} -${formatMs(h.ms_before)}`).join(', ')}`);
  }
  if (e.owner?.closed_ms_before != null) sock.push(`closed by owner ${formatMs(e.owner.closed_ms_before)} before`);
  if (sock.length) lines.push(`  socket: ${sock.join(' · ')}`);
  if (opts.verbose) {
    if (e.owner) {
      const o = e.owner;
      lines.push(
        `  owner: pid ${o.pid} tid ${o.tid ?? '?'} uid ${o.uid ?? '?'} (${o.source})` +
          `${o.cmdline ? ` cmd: ${o.cmdline}` : ''}${o.cgroup ? ` cgroup: ${o.cgroup}` : ''}${o.container_id ? ` container: ${o.container_id.slice(0, 12)}` : ''}`,
      );
    }
    lines.push(`  current: ${e.current.pid}/${e.current.comm} cpu ${e.cpu} · netns ${e.netns} · cookie ${e.sock_cookie ?? '-'}`);
    if (e.kernel_path.stack.length) {
      const whose = e.kernel_path.stack_from_event === null ? '' : ` (not walked: the stack of #${e.kernel_path.stack_from_event}, same kernel context)`;
      lines.push(`  stack${whose}: ${e.kernel_path.stack.join(' ← ')}`);
    }
  }
  return lines;
}

export function formatSyscallError(e: SyscallErrorEvent): string {
  const link = e.reset_id !== null ? `, ${formatMs(e.ms_after_reset ?? 0)} after #${e.reset_id}` : ' (no reset seen on this socket)';
  return `  ↳ ${localTimeUs(e.wall_ns)} ${e.pid}/${e.comm} ${e.syscall}() failed: ${e.errno} on ${formatEndpoint(e.laddr, e.lport)} → ${formatEndpoint(e.raddr, e.rport)}${link}`;
}

export function formatText(e: TraceEvent, opts: TextOptions): string {
  if (e.type === 'syscall_error') return formatSyscallError(e);
  const line = `${formatResetLine(e)}${opts.brief ? '' : `  #${e.id}`}`;
  return opts.brief ? line : [line, ...formatResetDetails(e, opts)].join('\n');
}
