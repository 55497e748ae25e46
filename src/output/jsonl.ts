/**
 * JSON lines: one object per line, each with type, schema_version, time
 * (ISO-8601) and ts_ns. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns. schema/rsttrace.schema.json documents
 * every record type.
 */
import { isoNs } from '../clock.js';
import type { TraceEvent } from '../event.js';

export const SCHEMA_VERSION = 1;

/** What a run says of itself, first and last. */
export interface SessionStart {
  host: string;
  kernel: string;
  rsttrace_version: string;
  pid: number;
  /** CLOCK_MONOTONIC at start: mono_ns of events are on this clock */
  mono_ns: number;
  /** what the kernel offered (src/features.ts): reason, sock_length, task_regs, socket_cookie */
  features: Record<string, boolean>;
  options: Record<string, unknown>;
}

export interface SessionEnd {
  /** why the run ended: "signal SIGINT", "duration", "count", "stdout closed"... */
  reason: string;
  duration_s: number;
  resets: number;
  sent: number;
  received: number;
  syscall_errors: number;
  lost: number;
}

/** `raw`: members already serialized ("name":value), appended as they are. */
function line(type: string, wallNs: bigint, rest: object, raw = ''): string {
  // JSON.stringify has no bigint: the exact digits go in by hand.
  let body = JSON.stringify(rest);
  if (raw) body = body === '{}' ? `{${raw}}` : `${body.slice(0, -1)},${raw}}`;
  const tail = body === '{}' ? '}' : `,${body.slice(1)}`;
  return `{"type":${JSON.stringify(type)},"schema_version":${SCHEMA_VERSION},"time":"${isoNs(wallNs)}","ts_ns":${wallNs}${tail}`;
}

/** A kernel path is shared by every event with that stack: serialized once. */
const pathJson = new WeakMap<object, string>();

function kernelPathJson(p: object): string {
  let json = pathJson.get(p);
  if (json === undefined) {
    json = JSON.stringify(p);
    pathJson.set(p, json);
  }
  return json;
}

export function formatJsonLine(e: TraceEvent): string {
  if (e.type === 'reset') {
    // the kernel path (a stack of ~30 frames) is shared: spliced in, not re-serialized
    const { type, id, wall_ns, kernel_path, ...rest } = e;
    return line(type, wall_ns, { id, ...rest }, `"kernel_path":${kernelPathJson(kernel_path)}`);
  }
  const { type, id, wall_ns, ...rest } = e;
  return line(type, wall_ns, { id, ...rest });
}

export function formatLost(wallNs: bigint, lost: number, lostTotal: number): string {
  return line('lost', wallNs, { lost, lost_total: lostTotal });
}

export function formatSessionStart(wallNs: bigint, s: SessionStart): string {
  return line('session_start', wallNs, s);
}

export function formatSessionEnd(wallNs: bigint, s: SessionEnd): string {
  return line('session_end', wallNs, s);
}
