/**
 * The enriched events every output (text, JSONL) is a pure function of.
 * Field names are the JSONL contract: snake_case, stable.
 */
import type { Family } from './addr.js';
import type { ContextKind } from './context.js';
import type { Words } from './words.js';

export interface SegmentInfo {
  /** TCP flags by name, in header order: ["SYN"], ["PSH", "ACK"]... */
  flags: string[];
  seq: number;
  ack: number;
  window: number;
  payload_bytes: number;
}

export interface Owner {
  pid: number;
  tid: number | null;
  comm: string;
  uid: number | null;
  cmdline: string | null;
  cgroup: string | null;
  container_id: string | null;
  /**
   * How rsttrace knows: 'socket', it made a syscall on this socket;
   * 'tuple', it had the connection with this 4-tuple, whose socket is gone
   * (TIME_WAIT, or a segment after close); 'procfs', /proc showed it holding
   * the socket (at start, or looked up when nothing else named an owner).
   */
  source: 'socket' | 'tuple' | 'procfs';
  /** the last syscall it made on the socket, and how long before the reset */
  last_syscall: string | null;
  last_syscall_ms_before: number | null;
  /** when it close()d the socket, ms before the reset; null if it has not (or unseen) */
  closed_ms_before: number | null;
}

export interface Context {
  kind: ContextKind;
  /** syscall of the process that triggered it (kind 'syscall'), or that sent
   *  the segment whose receive ran the softirq (kind 'softirq' on loopback/veth) */
  syscall: string | null;
  /** the task that was running (`current`), for 'syscall' and 'softirq' */
  pid: number | null;
  comm: string | null;
  /** the kernel timer function, for kind 'timer' */
  timer: string | null;
}

export interface StateChange {
  from: string;
  to: string;
  ms_before: number;
}

export interface SocketFacts {
  rcv_unread_bytes: number;
  snd_unsent_bytes: number;
  snd_unacked_bytes: number;
  /** shutdown() directions in effect: "read", "write" */
  shutdown: string[];
  /** SO_LINGER seconds; null when SO_LINGER is off */
  linger_sec: number | null;
}

export interface Cause {
  /** stable identifier for grouping: "close-unread", "closed-port"... */
  code: string;
  /** what happened, in words, with this event's numbers (a string in JSON and text) */
  summary: Words;
  /** the usual fix; null when there is nothing to fix */
  fix: Words | null;
  /** the kernel gave no reason (before 6.10, or NOT_SPECIFIED): the cause is inferred from state, facts and kernel path */
  inferred: boolean;
}

interface Endpoints {
  family: Family;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
}

/** The kernel path of a reset: shared by every event with that stack. */
export interface KernelPath {
  /** "caller → function that reset" */
  signature: string;
  /** symbolized frames, innermost first */
  stack: string[];
  /** null when this reset's own stack was walked; else the id of the event
   *  whose stack this is: past 1000 walks a second on a CPU, a reset in the
   *  same kernel context (direction, reason, state, syscall, task) as one
   *  walked within the last second is not walked again */
  stack_from_event: number | null;
}

export interface ResetEvent extends Endpoints {
  type: 'reset';
  /** sequence number within this run, from 1, shared with syscall errors */
  id: number;
  direction: 'send' | 'recv';
  wall_ns: bigint;
  mono_ns: number;
  /** TCP state name, null when the reset had no socket */
  state: string | null;
  /** kernel reason name (enum sk_rst_reason), null when the kernel gives none */
  reason: string | null;
  reason_code: number | null;
  netns: number;
  /** SO_COOKIE of the socket, null when there is none */
  sock_cookie: number | null;
  cpu: number;
  /** the task running when the kernel decided: not always the socket's owner */
  current: { pid: number; tid: number; comm: string };
  owner: Owner | null;
  context: Context;
  kernel_path: KernelPath;
  socket: SocketFacts | null;
  /** the socket's recent state changes, oldest first */
  history: StateChange[];
  segment: SegmentInfo | null;
  cause: Cause;
  /** when both ends are on this host: the event of the other end */
  peer_event_id: number | null;
}

/** A syscall that failed because of a reset: the consequence the user saw. */
export interface SyscallErrorEvent extends Endpoints {
  type: 'syscall_error';
  id: number;
  /** the reset on this socket that caused it; null if rsttrace did not see one */
  reset_id: number | null;
  wall_ns: bigint;
  mono_ns: number;
  /** ms after that reset */
  ms_after_reset: number | null;
  pid: number;
  tid: number;
  comm: string;
  syscall: string;
  errno: string;
  state: string | null;
  netns: number;
  sock_cookie: number | null;
}

export type TraceEvent = ResetEvent | SyscallErrorEvent;

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** The names of each flag byte, built once: events share (and never change) them. */
const FLAG_SETS = Array.from({ length: 256 }, (_, bits) => TCP_FLAG_NAMES.filter((_, i) => bits & (1 << i)));

export function tcpFlagNames(bits: number): string[] {
  return FLAG_SETS[bits & 0xff]!;
}

export const ERRNO_NAMES: Record<number, string> = {
  32: 'EPIPE',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
};
