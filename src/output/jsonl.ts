/**
 * JSON lines: one object per line, each with type, schema_version, time
 * (ISO-8601) and ts_ns. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns. schema/rsttrace.schema.json documents
 * every record type.
 */
import { isoNs, isoSecond } from '../clock.js';
import type { Owner, ResetEvent, SocketFacts, StateChange, SyscallErrorEvent, TraceEvent } from '../event.js';
import { sameWords, type Words } from '../words.js';
import { ByteWriter, jsonStringInner } from './bytes.js';

export const SCHEMA_VERSION = 1;

/** What a run says of itself, first and last. */
export interface SessionStart {
  host: string;
  kernel: string;
  rsttrace_version: string;
  pid: number;
  /** CLOCK_MONOTONIC at start: mono_ns of events are on this clock */
  mono_ns: number;
  /** what the kernel offered (src/features.ts): reason, sock_length, task_regs, socket_cookie, sk_storage */
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

/** A line up to its time's text. */
const headStart = (type: string) => `{"type":"${type}","schema_version":${SCHEMA_VERSION},"time":"`;

function head(type: string, wallNs: bigint): string {
  // JSON.stringify has no bigint: the exact digits go in by hand
  return `${headStart(type)}${isoNs(wallNs)}","ts_ns":${wallNs}`;
}

/** The rare records (session start and end, losses): the common head, then `rest` as JSON.stringify writes it. */
function line(type: string, wallNs: bigint, rest: object): string {
  const body = JSON.stringify(rest);
  return head(type, wallNs) + (body === '{}' ? '}' : `,${body.slice(1)}`);
}

/*
 * Resets and syscall errors, thousands a second, are written by hand into
 * the output's bytes: JSON.stringify of an object built for it, then the
 * UTF-8 copy, were most of rsttrace's CPU per record (bench/FINDINGS.md).
 * Members are in the order rsttrace has always written them (kernel_path
 * last); test/unit/jsonl-writer.test.ts holds each line to JSON.stringify of
 * the event's members in that order.
 */

/*
 * Member names and the punctuation around them, encoded once: copied from
 * bytes, a name costs about half of what writing it from the literal's
 * characters did (bench/FINDINGS.md). M.x is `,"x":`; FIRST.x is `{"x":`,
 * an object's first member.
 */
const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const member = (name: string) => ascii(`,"${name}":`);
const first = (name: string) => ascii(`{"${name}":`);
const M = {
  ack: member('ack'),
  cause: member('cause'),
  cgroup: member('cgroup'),
  closed_ms_before: member('closed_ms_before'),
  cmdline: member('cmdline'),
  comm: member('comm'),
  container_id: member('container_id'),
  context: member('context'),
  cpu: member('cpu'),
  current: member('current'),
  errno: member('errno'),
  fix: member('fix'),
  history: member('history'),
  id: member('id'),
  kernel_path: member('kernel_path'),
  last_syscall: member('last_syscall'),
  last_syscall_ms_before: member('last_syscall_ms_before'),
  linger_sec: member('linger_sec'),
  lport: member('lport'),
  mono_ns: member('mono_ns'),
  ms_after_reset: member('ms_after_reset'),
  ms_before: member('ms_before'),
  netns: member('netns'),
  owner: member('owner'),
  payload_bytes: member('payload_bytes'),
  peer_event_id: member('peer_event_id'),
  pid: member('pid'),
  raddr: member('raddr'),
  reason: member('reason'),
  reason_code: member('reason_code'),
  reset_id: member('reset_id'),
  rport: member('rport'),
  segment: member('segment'),
  seq: member('seq'),
  shutdown: member('shutdown'),
  snd_unacked_bytes: member('snd_unacked_bytes'),
  snd_unsent_bytes: member('snd_unsent_bytes'),
  sock_cookie: member('sock_cookie'),
  socket: member('socket'),
  source: member('source'),
  state: member('state'),
  summary: member('summary'),
  syscall: member('syscall'),
  tid: member('tid'),
  timer: member('timer'),
  to: member('to'),
  uid: member('uid'),
  window: member('window'),
};
const FIRST = {
  code: first('code'),
  flags: first('flags'),
  from: first('from'),
  kind: first('kind'),
  pid: first('pid'),
  rcv_unread_bytes: first('rcv_unread_bytes'),
};
const FAMILY_IPV4 = ascii(',"family":"ipv4","laddr":');
const FAMILY_IPV6 = ascii(',"family":"ipv6","laddr":');
const DIRECTION_SEND = ascii(',"direction":"send","mono_ns":');
const DIRECTION_RECV = ascii(',"direction":"recv","mono_ns":');
const NEXT_STATE_CHANGE = ascii(',{"from":');
const INFERRED_TRUE = ascii(',"inferred":true}');
const INFERRED_FALSE = ascii(',"inferred":false}');

/** Kernel paths and name lists are shared by many events: each serialized once. */
const shared = new WeakMap<object, Uint8Array>();

function writeShared<T extends object>(w: ByteWriter, v: T, serialize: (v: T) => string): void {
  let bytes = shared.get(v);
  if (bytes === undefined) {
    bytes = Buffer.from(serialize(v));
    shared.set(v, bytes);
  }
  w.copy(bytes);
}

const writeStrings = (w: ByteWriter, a: readonly string[]) => writeShared(w, a, JSON.stringify);

/*
 * The head of the frequent lines. Events come thousands a second: a line's
 * text up to its nanoseconds, and the text between them, are made once a
 * second, and each event writes only its nanoseconds, twice, in integer
 * arithmetic (the time string and the bigint's digits made for every event
 * were ~200 ns of it).
 */
const RESET_HEAD = headStart('reset');
const ERROR_HEAD = headStart('syscall_error');
const NS_PER_S = 1_000_000_000n;
const NO_BYTES: Uint8Array = new Uint8Array(0);
/** the second of the last line: a line's text up to its nanoseconds, and between them */
const second: { startNs: bigint; resetHead: Uint8Array; errorHead: Uint8Array; tsNs: Uint8Array } = { startNs: -1n, resetHead: NO_BYTES, errorHead: NO_BYTES, tsNs: NO_BYTES };

/** The same bytes as head(). */
function writeHead(w: ByteWriter, type: 'reset' | 'syscall_error', wallNs: bigint): void {
  let ns = second.startNs < 0n ? -1 : Number(wallNs - second.startNs);
  if (!(ns >= 0 && ns < 1e9)) {
    // a clock before 1970-01-01T00:00:01Z: its ts_ns has fewer than 10 digits
    if (wallNs < NS_PER_S) {
      w.ascii(head(type, wallNs));
      return;
    }
    const sec = wallNs / NS_PER_S;
    const iso = isoSecond(sec);
    second.startNs = sec * NS_PER_S;
    second.resetHead = ascii(`${RESET_HEAD}${iso}.`);
    second.errorHead = ascii(`${ERROR_HEAD}${iso}.`);
    second.tsNs = ascii(`Z","ts_ns":${sec}`);
    ns = Number(wallNs - second.startNs);
  }
  w.copy(type === 'reset' ? second.resetHead : second.errorHead);
  w.padded(ns, 9);
  w.copy(second.tsNs);
  w.padded(ns, 9);
}

function writeLocal(w: ByteWriter, e: ResetEvent | SyscallErrorEvent): void {
  w.copy(e.family === 'ipv4' ? FAMILY_IPV4 : FAMILY_IPV6);
  w.jsonString(e.laddr);
  w.copy(M.lport);
  w.jsonNumber(e.lport);
}

function writeRemote(w: ByteWriter, e: ResetEvent | SyscallErrorEvent): void {
  w.copy(M.raddr);
  w.jsonString(e.raddr);
  w.copy(M.rport);
  w.jsonNumber(e.rport);
}

/** A cause's sentences: their templates' text encoded once (by the pieces array, the same at every call of a template). */
const encodedPieces = new WeakMap<readonly string[], Uint8Array[]>();

function writeWordsBody(w: ByteWriter, t: Words): void {
  let pieces = encodedPieces.get(t.pieces);
  if (pieces === undefined) {
    pieces = t.pieces.map((p) => Buffer.from(jsonStringInner(p)));
    encodedPieces.set(t.pieces, pieces);
  }
  const { values } = t;
  w.copy(pieces[0]!);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v === 'string') w.jsonStringBody(v);
    // a finite number's JSON is its text; NaN and the infinities are words here, not null
    else if (typeof v === 'number') Number.isFinite(v) ? w.jsonNumber(v) : w.ascii(`${v}`);
    else writeWordsBody(w, v);
    w.copy(pieces[i + 1]!);
  }
}

function writeWords(w: ByteWriter, t: Words | null): void {
  if (t === null) {
    w.ascii('null');
    return;
  }
  w.byte(0x22);
  writeWordsBody(w, t);
  w.byte(0x22);
}

/*
 * A reset's line after its head is a row of parts, each a span of bytes
 * that depends on nothing but what samePart compares of it. In a storm, reset
 * after reset in one direction differs in a few of them (the time, the id, a
 * port, a sequence number, a sentence): a line is written as the last line
 * of its direction, each run of parts that are the same there copied in one
 * piece from where that line still is in the buffer, and only the parts
 * that differ written anew. Member by member, a line was ~80 small writes
 * (bench/FINDINGS.md). It relies on an event not being changed once
 * written: the correlator replaces an owner or a cause it learns later
 * before the event goes out, never edits one in place.
 * test/unit/jsonl-writer.test.ts changes each member in turn to prove each
 * part compares all it writes.
 *
 * The parts are numbered 0 to PART_COUNT - 1, in the line's order: samePart
 * and writePart each take a part's number to one case of a switch. (As an
 * array of objects with same() and write() each, every call went through
 * V8's generic call path: ~4 % of a record's CPU, bench/FINDINGS.md.)
 */
const PART_COUNT = 20;

const sameOwnerWho = (a: Owner, b: Owner) =>
  a.pid === b.pid &&
  a.tid === b.tid &&
  a.comm === b.comm &&
  a.uid === b.uid &&
  a.cmdline === b.cmdline &&
  a.cgroup === b.cgroup &&
  a.container_id === b.container_id &&
  a.source === b.source &&
  a.last_syscall === b.last_syscall;

const sameHistory = (a: readonly StateChange[], b: readonly StateChange[]) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.from !== y.from || x.to !== y.to || x.ms_before !== y.ms_before) return false;
  }
  return true;
};

const sameSocket = (x: SocketFacts, y: SocketFacts) =>
  x.rcv_unread_bytes === y.rcv_unread_bytes &&
  x.snd_unsent_bytes === y.snd_unsent_bytes &&
  x.snd_unacked_bytes === y.snd_unacked_bytes &&
  x.shutdown === y.shutdown && // shared arrays (never changed): another one is written anew
  x.linger_sec === y.linger_sec;

/** Whether part `k` is the same in the lines of `a` and `b`: all it writes depends on what this compares. */
function samePart(k: number, a: ResetEvent, b: ResetEvent): boolean {
  switch (k) {
    case 0:
      return a.id === b.id;
    case 1:
      return a.direction === b.direction && a.mono_ns === b.mono_ns;
    case 2:
      return a.family === b.family && a.laddr === b.laddr && a.lport === b.lport;
    case 3:
      return a.raddr === b.raddr && a.rport === b.rport;
    case 4: // what the kernel said of the reset
      return a.state === b.state && a.reason === b.reason && a.reason_code === b.reason_code && a.netns === b.netns;
    case 5:
      return a.sock_cookie === b.sock_cookie && a.cpu === b.cpu;
    case 6:
      return a.current.pid === b.current.pid && a.current.tid === b.current.tid && a.current.comm === b.current.comm;
    case 7: // the owner up to its times, which change from reset to reset
      return a.owner === null || b.owner === null ? a.owner === b.owner : sameOwnerWho(a.owner, b.owner);
    case 8:
      return a.owner === null || b.owner === null
        ? a.owner === b.owner
        : a.owner.last_syscall_ms_before === b.owner.last_syscall_ms_before && a.owner.closed_ms_before === b.owner.closed_ms_before;
    case 9: {
      const x = a.context;
      const y = b.context;
      return x.kind === y.kind && x.syscall === y.syscall && x.pid === y.pid && x.comm === y.comm && x.timer === y.timer;
    }
    case 10:
      return a.socket === null || b.socket === null ? a.socket === b.socket : sameSocket(a.socket, b.socket);
    case 11:
      return sameHistory(a.history, b.history);
    case 12: // the segment up to its sequence number, which changes from reset to reset
      return a.segment === null || b.segment === null ? a.segment === b.segment : a.segment.flags === b.segment.flags; // shared arrays, as the socket's shutdown
    case 13:
      return a.segment === null || b.segment === null ? a.segment === b.segment : a.segment.seq === b.segment.seq;
    case 14: {
      const x = a.segment;
      const y = b.segment;
      return x === null || y === null ? x === y : x.ack === y.ack && x.window === y.window && x.payload_bytes === y.payload_bytes;
    }
    case 15:
      return a.peer_event_id === b.peer_event_id;
    case 16:
      return a.cause.code === b.cause.code;
    case 17:
      return sameWords(a.cause.summary, b.cause.summary);
    case 18:
      return sameWords(a.cause.fix, b.cause.fix) && a.cause.inferred === b.cause.inferred;
    default:
      // a stack of ~30 frames, shared by every event with it
      return a.kernel_path === b.kernel_path;
  }
}

/** Part `k` of `e`'s line. */
function writePart(k: number, w: ByteWriter, e: ResetEvent): void {
  switch (k) {
    case 0:
      w.copy(M.id);
      w.jsonNumber(e.id);
      return;
    case 1:
      w.copy(e.direction === 'send' ? DIRECTION_SEND : DIRECTION_RECV);
      w.jsonNumber(e.mono_ns);
      return;
    case 2:
      writeLocal(w, e);
      return;
    case 3:
      writeRemote(w, e);
      return;
    case 4:
      w.copy(M.state);
      w.jsonStringOrNull(e.state);
      w.copy(M.reason);
      w.jsonStringOrNull(e.reason);
      w.copy(M.reason_code);
      w.jsonNumber(e.reason_code);
      w.copy(M.netns);
      w.jsonNumber(e.netns);
      return;
    case 5:
      w.copy(M.sock_cookie);
      w.jsonNumber(e.sock_cookie);
      w.copy(M.cpu);
      w.jsonNumber(e.cpu);
      return;
    case 6: {
      const c = e.current;
      w.copy(M.current);
      w.copy(FIRST.pid);
      w.jsonNumber(c.pid);
      w.copy(M.tid);
      w.jsonNumber(c.tid);
      w.copy(M.comm);
      w.jsonString(c.comm);
      w.byte(0x7d);
      return;
    }
    case 7:
      writeOwnerWho(w, e.owner);
      return;
    case 8: {
      const o = e.owner;
      if (o === null) return;
      w.copy(M.last_syscall_ms_before);
      w.jsonNumber(o.last_syscall_ms_before);
      w.copy(M.closed_ms_before);
      w.jsonNumber(o.closed_ms_before);
      w.byte(0x7d);
      return;
    }
    case 9: {
      const c = e.context;
      w.copy(M.context);
      w.copy(FIRST.kind);
      w.jsonString(c.kind);
      w.copy(M.syscall);
      w.jsonStringOrNull(c.syscall);
      w.copy(M.pid);
      w.jsonNumber(c.pid);
      w.copy(M.comm);
      w.jsonStringOrNull(c.comm);
      w.copy(M.timer);
      w.jsonStringOrNull(c.timer);
      w.byte(0x7d);
      return;
    }
    case 10:
      writeSocket(w, e.socket);
      return;
    case 11:
      writeHistory(w, e.history);
      return;
    case 12: {
      const g = e.segment;
      w.copy(M.segment);
      if (g === null) {
        w.ascii('null');
        return;
      }
      w.copy(FIRST.flags);
      writeStrings(w, g.flags);
      return;
    }
    case 13: {
      const g = e.segment;
      if (g === null) return;
      w.copy(M.seq);
      w.jsonNumber(g.seq);
      return;
    }
    case 14: {
      const g = e.segment;
      if (g === null) return;
      w.copy(M.ack);
      w.jsonNumber(g.ack);
      w.copy(M.window);
      w.jsonNumber(g.window);
      w.copy(M.payload_bytes);
      w.jsonNumber(g.payload_bytes);
      w.byte(0x7d);
      return;
    }
    case 15:
      w.copy(M.peer_event_id);
      w.jsonNumber(e.peer_event_id);
      return;
    case 16:
      w.copy(M.cause);
      w.copy(FIRST.code);
      w.jsonString(e.cause.code);
      return;
    case 17:
      w.copy(M.summary);
      writeWords(w, e.cause.summary);
      return;
    case 18:
      w.copy(M.fix);
      writeWords(w, e.cause.fix);
      w.copy(e.cause.inferred ? INFERRED_TRUE : INFERRED_FALSE);
      return;
    default:
      // copied, not re-serialized
      w.copy(M.kernel_path);
      writeShared(w, e.kernel_path, JSON.stringify);
      w.byte(0x7d);
  }
}

function writeOwnerWho(w: ByteWriter, o: Owner | null): void {
  w.copy(M.owner);
  if (o === null) {
    w.ascii('null');
    return;
  }
  w.copy(FIRST.pid);
  w.jsonNumber(o.pid);
  w.copy(M.tid);
  w.jsonNumber(o.tid);
  w.copy(M.comm);
  w.jsonString(o.comm);
  w.copy(M.uid);
  w.jsonNumber(o.uid);
  w.copy(M.cmdline);
  w.jsonStringOrNull(o.cmdline);
  w.copy(M.cgroup);
  w.jsonStringOrNull(o.cgroup);
  w.copy(M.container_id);
  w.jsonStringOrNull(o.container_id);
  w.copy(M.source);
  w.jsonString(o.source);
  w.copy(M.last_syscall);
  w.jsonStringOrNull(o.last_syscall);
}

function writeSocket(w: ByteWriter, k: SocketFacts | null): void {
  w.copy(M.socket);
  if (k === null) {
    w.ascii('null');
    return;
  }
  w.copy(FIRST.rcv_unread_bytes);
  w.jsonNumber(k.rcv_unread_bytes);
  w.copy(M.snd_unsent_bytes);
  w.jsonNumber(k.snd_unsent_bytes);
  w.copy(M.snd_unacked_bytes);
  w.jsonNumber(k.snd_unacked_bytes);
  w.copy(M.shutdown);
  writeStrings(w, k.shutdown);
  w.copy(M.linger_sec);
  w.jsonNumber(k.linger_sec);
  w.byte(0x7d);
}

function writeHistory(w: ByteWriter, h: readonly StateChange[]): void {
  w.copy(M.history);
  w.byte(0x5b);
  for (let i = 0; i < h.length; i++) {
    const c = h[i]!;
    w.copy(i === 0 ? FIRST.from : NEXT_STATE_CHANGE);
    w.jsonString(c.from);
    w.copy(M.to);
    w.jsonString(c.to);
    w.copy(M.ms_before);
    w.jsonNumber(c.ms_before);
    w.byte(0x7d);
  }
  w.byte(0x5d);
}

/** A direction's last line: its event, and where each part began in the buffer (part i spans starts[i] to starts[i + 1]). */
class LastLine {
  event: ResetEvent | null = null;
  writer: ByteWriter | null = null;
  generation = 0;
  starts = new Int32Array(PART_COUNT + 1);
  /** the line being written; its starts become `starts` when it is done */
  next = new Int32Array(PART_COUNT + 1);
}

const lastLines = [new LastLine(), new LastLine()];

/** Parts from to to - 1 as they are in the last line, in one copy. */
function copyRun(w: ByteWriter, last: LastLine, from: number, to: number): void {
  const { starts, next } = last;
  const shift = w.length - starts[from]!;
  for (let k = from; k < to; k++) next[k] = starts[k]! + shift;
  w.repeat(starts[from]!, starts[to]!);
}

function writeResetParts(w: ByteWriter, e: ResetEvent, last: LastLine): void {
  // the last line is usable while its bytes are still in this buffer
  const prev = last.writer === w && last.generation === w.generation ? last.event : null;
  const { next } = last;
  const n = PART_COUNT;
  /** the first part of a run the same as in the last line, not copied yet; -1: none */
  let run = -1;
  for (let k = 0; k < n; k++) {
    if (prev !== null && samePart(k, prev, e)) {
      if (run < 0) run = k;
      continue;
    }
    if (run >= 0) {
      copyRun(w, last, run, k);
      run = -1;
    }
    next[k] = w.length;
    writePart(k, w, e);
  }
  if (run >= 0) copyRun(w, last, run, n);
  next[n] = w.length;
  last.next = last.starts;
  last.starts = next;
  last.event = e;
  last.writer = w;
  last.generation = w.generation;
}

function writeReset(w: ByteWriter, e: ResetEvent): void {
  writeHead(w, 'reset', e.wall_ns);
  writeResetParts(w, e, lastLines[e.direction === 'send' ? 0 : 1]!);
}

function writeSyscallError(w: ByteWriter, e: SyscallErrorEvent): void {
  writeHead(w, 'syscall_error', e.wall_ns);
  w.copy(M.id);
  w.jsonNumber(e.id);
  w.copy(M.reset_id);
  w.jsonNumber(e.reset_id);
  w.copy(M.mono_ns);
  w.jsonNumber(e.mono_ns);
  w.copy(M.ms_after_reset);
  w.jsonNumber(e.ms_after_reset);
  w.copy(M.pid);
  w.jsonNumber(e.pid);
  w.copy(M.tid);
  w.jsonNumber(e.tid);
  w.copy(M.comm);
  w.jsonString(e.comm);
  w.copy(M.syscall);
  w.jsonString(e.syscall);
  w.copy(M.errno);
  w.jsonString(e.errno);
  writeLocal(w, e);
  writeRemote(w, e);
  w.copy(M.state);
  w.jsonStringOrNull(e.state);
  w.copy(M.netns);
  w.jsonNumber(e.netns);
  w.copy(M.sock_cookie);
  w.jsonNumber(e.sock_cookie);
  w.byte(0x7d);
}

/** An event's line, without the newline, into `w`. */
export function writeJsonLine(w: ByteWriter, e: TraceEvent): void {
  if (e.type === 'reset') writeReset(w, e);
  else writeSyscallError(w, e);
}

const scratch = new ByteWriter(1 << 12);

/** An event's line as a string, without the newline. */
export function formatJsonLine(e: TraceEvent): string {
  scratch.clear();
  writeJsonLine(scratch, e);
  return scratch.bytes().toString('utf8');
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
