/**
 * One JSON object per line. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns.
 */
import { isoNs } from '../clock.js';
import type { ResetEvent } from '../event.js';

export const SCHEMA_VERSION = 1;

export function formatJsonLine(e: ResetEvent): string {
  const record = {
    type: 'reset',
    schema_version: SCHEMA_VERSION,
    id: e.id,
    time: isoNs(e.wall_ns),
    ts_ns: '__TS_NS__',
    mono_ns: e.mono_ns,
    direction: e.direction,
    family: e.family,
    laddr: e.laddr,
    lport: e.lport,
    raddr: e.raddr,
    rport: e.rport,
    state: e.state,
    reason: e.reason,
    reason_code: e.reason_code,
    netns: e.netns,
    sock_cookie: e.sock_cookie,
    cpu: e.cpu,
    current: e.current,
    segment: e.segment,
  };
  // JSON.stringify has no bigint: splice the exact digits in.
  return JSON.stringify(record).replace('"__TS_NS__"', e.wall_ns.toString());
}
