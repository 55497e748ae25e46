/**
 * JSON lines: one object per line, each with type, schema_version, time
 * (ISO-8601) and ts_ns. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns. schema/rsttrace.schema.json documents
 * every record type.
 */
import { isoNs, isoSecond } from '../clock.js';
import type { Cause, Context, Owner, ResetEvent, SegmentInfo, SocketFacts, StateChange, SyscallErrorEvent, TraceEvent } from '../event.js';
import { sameWords, type Words } from '../words.js';
import { ByteWriter } from './bytes.js';

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

/**
 * In a storm, reset after reset in one direction has the same state and
 * reason, current task, owner (but for its times), context, socket facts
 * and cause, made afresh for each event. Each of those writers remembers,
 * per direction, the last value it wrote and where its bytes are in the
 * writer's buffer, and while `same()` finds every member equal (and the
 * buffer still holds them) copies them there again: one copy instead of a
 * name and a value per member, and nothing allocated. It
 * relies on an event not being changed once written: the correlator
 * replaces an owner or a cause it learns later before the event goes out,
 * never edits one in place. test/unit/jsonl-writer.test.ts changes each
 * member in turn to prove `same()` compares them all.
 */
class LastWritten<T extends object> {
  private readonly values: (T | null)[] = [null, null];
  private readonly writers: (ByteWriter | null)[] = [null, null];
  private readonly generations = [0, 0];
  private readonly starts = [0, 0];
  private readonly ends = [0, 0];

  constructor(
    private readonly same: (a: T, b: T) => boolean,
    private readonly write: (w: ByteWriter, v: T) => void,
  ) {}

  /** slot: 0 or 1, the direction */
  put(w: ByteWriter, slot: number, v: T): void {
    const last = this.values[slot]!;
    if (last !== null && this.writers[slot] === w && this.generations[slot] === w.generation && this.same(last, v)) {
      w.repeat(this.starts[slot]!, this.ends[slot]!);
      return;
    }
    const start = w.length;
    this.write(w, v);
    this.values[slot] = v;
    this.writers[slot] = w;
    this.generations[slot] = w.generation;
    this.starts[slot] = start;
    this.ends[slot] = w.length;
  }
}

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

function writeEndpoints(w: ByteWriter, e: ResetEvent | SyscallErrorEvent): void {
  w.copy(e.family === 'ipv4' ? FAMILY_IPV4 : FAMILY_IPV6);
  w.jsonString(e.laddr);
  w.copy(M.lport);
  w.jsonNumber(e.lport);
  w.copy(M.raddr);
  w.jsonString(e.raddr);
  w.copy(M.rport);
  w.jsonNumber(e.rport);
}

/** An owner up to its times, which change from reset to reset: the part a storm repeats. */
function writeOwnerWho(w: ByteWriter, o: Owner): void {
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

function writeContext(w: ByteWriter, c: Context): void {
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
}

function writeSocket(w: ByteWriter, k: SocketFacts): void {
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

function writeSegment(w: ByteWriter, g: SegmentInfo | null): void {
  if (g === null) {
    w.ascii('null');
    return;
  }
  w.copy(FIRST.flags);
  writeStrings(w, g.flags);
  w.copy(M.seq);
  w.jsonNumber(g.seq);
  w.copy(M.ack);
  w.jsonNumber(g.ack);
  w.copy(M.window);
  w.jsonNumber(g.window);
  w.copy(M.payload_bytes);
  w.jsonNumber(g.payload_bytes);
  w.byte(0x7d);
}

/** A cause's sentences: their templates' text encoded once (by the pieces array, the same at every call of a template). */
const encodedPieces = new WeakMap<readonly string[], Uint8Array[]>();

function writeWordsBody(w: ByteWriter, t: Words): void {
  let pieces = encodedPieces.get(t.pieces);
  if (pieces === undefined) {
    pieces = t.pieces.map((p) => {
      const quoted = JSON.stringify(p);
      return Buffer.from(quoted.slice(1, quoted.length - 1));
    });
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

function writeCause(w: ByteWriter, c: Cause): void {
  w.copy(FIRST.code);
  w.jsonString(c.code);
  w.copy(M.summary);
  writeWords(w, c.summary);
  w.copy(M.fix);
  writeWords(w, c.fix);
  w.copy(c.inferred ? INFERRED_TRUE : INFERRED_FALSE);
}

function writeCurrent(w: ByteWriter, c: ResetEvent['current']): void {
  w.copy(FIRST.pid);
  w.jsonNumber(c.pid);
  w.copy(M.tid);
  w.jsonNumber(c.tid);
  w.copy(M.comm);
  w.jsonString(c.comm);
  w.byte(0x7d);
}

const lastCurrent = new LastWritten<ResetEvent['current']>((a, b) => a.pid === b.pid && a.tid === b.tid && a.comm === b.comm, writeCurrent);
const lastContext = new LastWritten<Context>(
  (a, b) => a.kind === b.kind && a.syscall === b.syscall && a.pid === b.pid && a.comm === b.comm && a.timer === b.timer,
  writeContext,
);
const lastSocket = new LastWritten<SocketFacts>(
  (a, b) =>
    a.rcv_unread_bytes === b.rcv_unread_bytes &&
    a.snd_unsent_bytes === b.snd_unsent_bytes &&
    a.snd_unacked_bytes === b.snd_unacked_bytes &&
    a.shutdown === b.shutdown && // shared arrays (never changed): another one is written anew
    a.linger_sec === b.linger_sec,
  writeSocket,
);
/** state to netns: what the kernel said of the reset, the same reset after reset in a storm */
function writeKernelFacts(w: ByteWriter, e: ResetEvent): void {
  w.copy(M.state);
  w.jsonStringOrNull(e.state);
  w.copy(M.reason);
  w.jsonStringOrNull(e.reason);
  w.copy(M.reason_code);
  w.jsonNumber(e.reason_code);
  w.copy(M.netns);
  w.jsonNumber(e.netns);
}
const lastKernelFacts = new LastWritten<ResetEvent>(
  (a, b) => a.state === b.state && a.reason === b.reason && a.reason_code === b.reason_code && a.netns === b.netns,
  writeKernelFacts,
);
const lastCause = new LastWritten<Cause>(
  (a, b) => a.code === b.code && sameWords(a.summary, b.summary) && sameWords(a.fix, b.fix) && a.inferred === b.inferred,
  writeCause,
);
const lastOwnerWho = new LastWritten<Owner>(
  (a, b) =>
    a.pid === b.pid &&
    a.tid === b.tid &&
    a.comm === b.comm &&
    a.uid === b.uid &&
    a.cmdline === b.cmdline &&
    a.cgroup === b.cgroup &&
    a.container_id === b.container_id &&
    a.source === b.source &&
    a.last_syscall === b.last_syscall,
  writeOwnerWho,
);

function writeOwner(w: ByteWriter, slot: number, o: Owner | null): void {
  if (o === null) {
    w.ascii('null');
    return;
  }
  lastOwnerWho.put(w, slot, o);
  w.copy(M.last_syscall_ms_before);
  w.jsonNumber(o.last_syscall_ms_before);
  w.copy(M.closed_ms_before);
  w.jsonNumber(o.closed_ms_before);
  w.byte(0x7d);
}

function writeReset(w: ByteWriter, e: ResetEvent): void {
  writeHead(w, 'reset', e.wall_ns);
  w.copy(M.id);
  w.jsonNumber(e.id);
  const slot = e.direction === 'send' ? 0 : 1;
  w.copy(slot === 0 ? DIRECTION_SEND : DIRECTION_RECV);
  w.jsonNumber(e.mono_ns);
  writeEndpoints(w, e);
  lastKernelFacts.put(w, slot, e);
  w.copy(M.sock_cookie);
  w.jsonNumber(e.sock_cookie);
  w.copy(M.cpu);
  w.jsonNumber(e.cpu);
  w.copy(M.current);
  lastCurrent.put(w, slot, e.current);
  w.copy(M.owner);
  writeOwner(w, slot, e.owner);
  w.copy(M.context);
  lastContext.put(w, slot, e.context);
  w.copy(M.socket);
  if (e.socket === null) w.ascii('null');
  else lastSocket.put(w, slot, e.socket);
  w.copy(M.history);
  writeHistory(w, e.history);
  w.copy(M.segment);
  writeSegment(w, e.segment);
  w.copy(M.peer_event_id);
  w.jsonNumber(e.peer_event_id);
  w.copy(M.cause);
  lastCause.put(w, slot, e.cause);
  // a stack of ~30 frames, shared by every event with it: copied, not re-serialized
  w.copy(M.kernel_path);
  writeShared(w, e.kernel_path, JSON.stringify);
  w.byte(0x7d);
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
  writeEndpoints(w, e);
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
