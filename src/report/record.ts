/**
 * What the report reads of each JSON line, checked by hand: the report
 * runs where only the runtime dependencies are installed (no JSON Schema
 * validator), and it needs a few fields per type, not the whole contract
 * (schema/rsttrace.schema.json has that). A record is cut down to those
 * fields at once, so the parsed line can be collected.
 */
import { isoNs } from '../clock.js';
import type { ResetEvent, SyscallErrorEvent, TraceEvent } from '../event.js';
import { SCHEMA_VERSION } from '../output/jsonl.js';

interface Stamped {
  /** ns since the epoch, as a double (JSON.parse rounds it to ~256 ns): for order and buckets */
  ts_ns: number;
  /** the exact ISO-8601 time, for display */
  time: string;
}

export interface ResetFacts
  extends Stamped,
    Pick<ResetEvent, 'type' | 'id' | 'direction' | 'family' | 'laddr' | 'lport' | 'raddr' | 'rport' | 'state' | 'reason'> {
  cause: string;
  owner: { pid: number; comm: string } | null;
}

export interface SyscallErrorFacts
  extends Stamped,
    Pick<SyscallErrorEvent, 'type' | 'id' | 'reset_id' | 'ms_after_reset' | 'pid' | 'comm' | 'syscall' | 'errno' | 'family' | 'laddr' | 'lport' | 'raddr' | 'rport'> {}

export interface LostFacts extends Stamped {
  type: 'lost';
  lost: number;
}

export interface SessionFacts extends Stamped {
  type: 'session_start' | 'session_end';
}

/** A type this schema version does not define: counted, not an error (a newer rsttrace may add one). */
export interface OtherFacts extends Stamped {
  type: 'other';
  name: string;
}

export type ReportRecord = ResetFacts | SyscallErrorFacts | LostFacts | SessionFacts | OtherFacts;

export type Checked = { ok: true; record: ReportRecord } | { ok: false; problem: string };

/** Thrown inside this module only, to leave a record at its first bad field. */
class Bad {
  constructor(readonly problem: string) {}
}

type Obj = Record<string, unknown>;

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function wrong(name: string, v: unknown, expected: string): Bad {
  return new Bad(v === undefined ? `no "${name}"` : `"${name}" is ${show(v)}, expected ${expected}`);
}

function str(o: Obj, name: string, label = name): string {
  const v = o[name];
  if (typeof v !== 'string') throw wrong(label, v, 'a string');
  return v;
}

function strOrNull(o: Obj, name: string): string | null {
  const v = o[name];
  if (v !== null && typeof v !== 'string') throw wrong(name, v, 'a string or null');
  return v;
}

function int(o: Obj, name: string, min: number, max = Number.MAX_SAFE_INTEGER, label = name): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw wrong(label, v, `a whole number from ${min}`);
  return v;
}

function intOrNull(o: Obj, name: string, min: number): number | null {
  return o[name] === null ? null : int(o, name, min);
}

function numOrNull(o: Obj, name: string): number | null {
  const v = o[name];
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw wrong(name, v, 'a number or null');
  return v;
}

function oneOf<T extends string>(o: Obj, name: string, choices: readonly T[]): T {
  const v = o[name];
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw wrong(name, v, choices.join(' or '));
  return v as T;
}

const ISO_NS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const FAMILIES = ['ipv4', 'ipv6'] as const;
const DIRECTIONS = ['send', 'recv'] as const;

// Facts are built in one object literal each (no spreads): a capture has millions of them.

function timeOf(o: Obj): string {
  const time = str(o, 'time');
  if (!ISO_NS.test(time)) throw wrong('time', time, 'ISO-8601 UTC with nanoseconds');
  return time;
}

function tsOf(o: Obj): number {
  const ts = o.ts_ns;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) throw wrong('ts_ns', ts, 'ns since the epoch');
  return ts;
}

function reset(o: Obj): ResetFacts {
  const cause = o.cause;
  if (typeof cause !== 'object' || cause === null) throw wrong('cause', cause, 'an object');
  const owner = o.owner;
  if (owner !== null && (typeof owner !== 'object' || Array.isArray(owner))) throw wrong('owner', owner, 'an object or null');
  return {
    type: 'reset',
    ts_ns: tsOf(o),
    time: timeOf(o),
    id: int(o, 'id', 1),
    direction: oneOf(o, 'direction', DIRECTIONS),
    family: oneOf(o, 'family', FAMILIES),
    laddr: str(o, 'laddr'),
    lport: int(o, 'lport', 0, 65535),
    raddr: str(o, 'raddr'),
    rport: int(o, 'rport', 0, 65535),
    state: strOrNull(o, 'state'),
    reason: strOrNull(o, 'reason'),
    cause: str(cause as Obj, 'code', 'cause.code'),
    owner: owner === null ? null : { pid: int(owner as Obj, 'pid', 0, 2 ** 32, 'owner.pid'), comm: str(owner as Obj, 'comm', 'owner.comm') },
  };
}

function syscallError(o: Obj): SyscallErrorFacts {
  return {
    type: 'syscall_error',
    ts_ns: tsOf(o),
    time: timeOf(o),
    id: int(o, 'id', 1),
    reset_id: intOrNull(o, 'reset_id', 1),
    ms_after_reset: numOrNull(o, 'ms_after_reset'),
    pid: int(o, 'pid', 0),
    comm: str(o, 'comm'),
    syscall: str(o, 'syscall'),
    errno: str(o, 'errno'),
    family: oneOf(o, 'family', FAMILIES),
    laddr: str(o, 'laddr'),
    lport: int(o, 'lport', 0, 65535),
    raddr: str(o, 'raddr'),
    rport: int(o, 'rport', 0, 65535),
  };
}

/** The facts the report uses from one parsed JSON line, or what is wrong with it. */
export function checkRecord(value: unknown): Checked {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: `not a JSON object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  }
  const o = value as Obj;
  if (!('type' in o)) return { ok: false, problem: 'no "type": not an rsttrace record' };
  if (!('schema_version' in o)) return { ok: false, problem: 'no "schema_version": not an rsttrace record' };
  if (o.schema_version !== SCHEMA_VERSION) {
    return { ok: false, problem: `schema_version ${show(o.schema_version)} is not one this rsttrace reads (${SCHEMA_VERSION})` };
  }
  if (typeof o.type !== 'string') return { ok: false, problem: `"type" is ${show(o.type)}, expected a string` };
  try {
    switch (o.type) {
      case 'reset':
        return { ok: true, record: reset(o) };
      case 'syscall_error':
        return { ok: true, record: syscallError(o) };
      case 'lost':
        return { ok: true, record: { type: 'lost', ts_ns: tsOf(o), time: timeOf(o), lost: int(o, 'lost', 0) } };
      case 'session_start':
      case 'session_end':
        return { ok: true, record: { type: o.type, ts_ns: tsOf(o), time: timeOf(o) } };
      default:
        return { ok: true, record: { type: 'other', name: o.type, ts_ns: tsOf(o), time: timeOf(o) } };
    }
  } catch (err) {
    if (err instanceof Bad) return { ok: false, problem: `${o.type}: ${err.problem}` };
    throw err;
  }
}

/** The same facts from a live event, for `rsttrace --summary`: one aggregation for both. */
export function factsOfEvent(e: TraceEvent): ReportRecord {
  const stamp = { ts_ns: Number(e.wall_ns), time: isoNs(e.wall_ns) };
  if (e.type === 'reset') {
    const { type, id, direction, family, laddr, lport, raddr, rport, state, reason } = e;
    return { ...stamp, type, id, direction, family, laddr, lport, raddr, rport, state, reason, cause: e.cause.code, owner: e.owner && { pid: e.owner.pid, comm: e.owner.comm } };
  }
  const { type, id, reset_id, ms_after_reset, pid, comm, syscall, errno, family, laddr, lport, raddr, rport } = e;
  return { ...stamp, type, id, reset_id, ms_after_reset, pid, comm, syscall, errno, family, laddr, lport, raddr, rport };
}
