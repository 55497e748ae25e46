/**
 * The enriched reset event: what every output (text, JSONL) is a pure
 * function of. Field names are the JSONL contract: snake_case, stable.
 */
import { decodeAddress, type Family } from './addr.js';
import type { Clock } from './clock.js';
import type { RawReset } from './decode.js';
import type { KernelNames } from './kernel.js';

export interface SegmentInfo {
  /** TCP flags by name, in header order: ["SYN"], ["ACK", "PSH"]... */
  flags: string[];
  seq: number;
  ack: number;
  window: number;
  payload_bytes: number;
}

export interface ResetEvent {
  /** sequence number within this run, from 1 */
  id: number;
  direction: 'send' | 'recv';
  wall_ns: bigint;
  mono_ns: number;
  family: Family;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
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
  segment: SegmentInfo | null;
  kstack: bigint[];
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

export function tcpFlagNames(bits: number): string[] {
  return TCP_FLAG_NAMES.filter((_, i) => bits & (1 << i));
}

export function enrich(raw: RawReset, id: number, names: KernelNames, clock: Clock): ResetEvent {
  const local = decodeAddress(raw.family, raw.laddr);
  const remote = decodeAddress(raw.family, raw.raddr);
  return {
    id,
    direction: raw.direction,
    wall_ns: clock.wallNs(raw.monoNs),
    mono_ns: raw.monoNs,
    family: remote.family,
    laddr: local.address,
    lport: raw.lport,
    raddr: remote.address,
    rport: raw.rport,
    state: raw.state === null ? null : names.state(raw.state),
    reason: raw.reason === null ? null : names.reason(raw.reason),
    reason_code: raw.reason,
    netns: raw.netnsIno,
    sock_cookie: raw.sockCookie === 0 ? null : raw.sockCookie,
    cpu: raw.cpu,
    current: { pid: raw.pid, tid: raw.tid, comm: raw.comm },
    segment: raw.segment && {
      flags: tcpFlagNames(raw.segment.tcpFlags),
      seq: raw.segment.seq,
      ack: raw.segment.ack,
      window: raw.segment.window,
      payload_bytes: raw.segment.payloadBytes,
    },
    kstack: raw.kstack,
  };
}
