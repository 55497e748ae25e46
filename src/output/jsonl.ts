/**
 * JSON lines: one object per line, each with type, schema_version, time
 * (ISO-8601) and ts_ns. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns. schema/rsttrace.schema.json documents
 * every record type.
 */
import { isoNs, isoSecond } from '../clock.js';
import type { Cause, Context, Owner, ResetEvent, SegmentInfo, SocketFacts, StateChange, SyscallErrorEvent, TraceEvent } from '../event.js';
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
/** the second of the last line: a line's text up to its nanoseconds, and between them */
const second = { startNs: -1n, resetHead: '', errorHead: '', tsNs: '' };

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
    second.resetHead = `${RESET_HEAD}${iso}.`;
    second.errorHead = `${ERROR_HEAD}${iso}.`;
    second.tsNs = `Z","ts_ns":${sec}`;
    ns = Number(wallNs - second.startNs);
  }
  w.ascii(type === 'reset' ? second.resetHead : second.errorHead);
  w.padded(ns, 9);
  w.ascii(second.tsNs);
  w.padded(ns, 9);
}

function writeEndpoints(w: ByteWriter, e: ResetEvent | SyscallErrorEvent): void {
  w.ascii(e.family === 'ipv4' ? ',"family":"ipv4","laddr":' : ',"family":"ipv6","laddr":');
  w.jsonString(e.laddr);
  w.ascii(',"lport":');
  w.jsonNumber(e.lport);
  w.ascii(',"raddr":');
  w.jsonString(e.raddr);
  w.ascii(',"rport":');
  w.jsonNumber(e.rport);
}

/** An owner up to its times, which change from reset to reset: the part a storm repeats. */
function writeOwnerWho(w: ByteWriter, o: Owner): void {
  w.ascii('{"pid":');
  w.jsonNumber(o.pid);
  w.ascii(',"tid":');
  w.jsonNumber(o.tid);
  w.ascii(',"comm":');
  w.jsonString(o.comm);
  w.ascii(',"uid":');
  w.jsonNumber(o.uid);
  w.ascii(',"cmdline":');
  w.jsonStringOrNull(o.cmdline);
  w.ascii(',"cgroup":');
  w.jsonStringOrNull(o.cgroup);
  w.ascii(',"container_id":');
  w.jsonStringOrNull(o.container_id);
  w.ascii(',"source":');
  w.jsonString(o.source);
  w.ascii(',"last_syscall":');
  w.jsonStringOrNull(o.last_syscall);
}

function writeContext(w: ByteWriter, c: Context): void {
  w.ascii('{"kind":');
  w.jsonString(c.kind);
  w.ascii(',"syscall":');
  w.jsonStringOrNull(c.syscall);
  w.ascii(',"pid":');
  w.jsonNumber(c.pid);
  w.ascii(',"comm":');
  w.jsonStringOrNull(c.comm);
  w.ascii(',"timer":');
  w.jsonStringOrNull(c.timer);
  w.byte(0x7d);
}

function writeSocket(w: ByteWriter, k: SocketFacts): void {
  w.ascii('{"rcv_unread_bytes":');
  w.jsonNumber(k.rcv_unread_bytes);
  w.ascii(',"snd_unsent_bytes":');
  w.jsonNumber(k.snd_unsent_bytes);
  w.ascii(',"snd_unacked_bytes":');
  w.jsonNumber(k.snd_unacked_bytes);
  w.ascii(',"shutdown":');
  writeStrings(w, k.shutdown);
  w.ascii(',"linger_sec":');
  w.jsonNumber(k.linger_sec);
  w.byte(0x7d);
}

function writeHistory(w: ByteWriter, h: readonly StateChange[]): void {
  w.byte(0x5b);
  for (let i = 0; i < h.length; i++) {
    const c = h[i]!;
    w.ascii(i === 0 ? '{"from":' : ',{"from":');
    w.jsonString(c.from);
    w.ascii(',"to":');
    w.jsonString(c.to);
    w.ascii(',"ms_before":');
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
  w.ascii('{"flags":');
  writeStrings(w, g.flags);
  w.ascii(',"seq":');
  w.jsonNumber(g.seq);
  w.ascii(',"ack":');
  w.jsonNumber(g.ack);
  w.ascii(',"window":');
  w.jsonNumber(g.window);
  w.ascii(',"payload_bytes":');
  w.jsonNumber(g.payload_bytes);
  w.byte(0x7d);
}

function writeCause(w: ByteWriter, c: Cause): void {
  w.ascii('{"code":');
  w.jsonString(c.code);
  w.ascii(',"summary":');
  w.jsonString(c.summary);
  w.ascii(',"fix":');
  w.jsonStringOrNull(c.fix);
  w.ascii(c.inferred ? ',"inferred":true}' : ',"inferred":false}');
}

function writeCurrent(w: ByteWriter, c: ResetEvent['current']): void {
  w.ascii('{"pid":');
  w.jsonNumber(c.pid);
  w.ascii(',"tid":');
  w.jsonNumber(c.tid);
  w.ascii(',"comm":');
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
  w.ascii(',"state":');
  w.jsonStringOrNull(e.state);
  w.ascii(',"reason":');
  w.jsonStringOrNull(e.reason);
  w.ascii(',"reason_code":');
  w.jsonNumber(e.reason_code);
  w.ascii(',"netns":');
  w.jsonNumber(e.netns);
}
const lastKernelFacts = new LastWritten<ResetEvent>(
  (a, b) => a.state === b.state && a.reason === b.reason && a.reason_code === b.reason_code && a.netns === b.netns,
  writeKernelFacts,
);
const lastCause = new LastWritten<Cause>((a, b) => a.code === b.code && a.summary === b.summary && a.fix === b.fix && a.inferred === b.inferred, writeCause);
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
  w.ascii(',"last_syscall_ms_before":');
  w.jsonNumber(o.last_syscall_ms_before);
  w.ascii(',"closed_ms_before":');
  w.jsonNumber(o.closed_ms_before);
  w.byte(0x7d);
}

function writeReset(w: ByteWriter, e: ResetEvent): void {
  writeHead(w, 'reset', e.wall_ns);
  w.ascii(',"id":');
  w.jsonNumber(e.id);
  const slot = e.direction === 'send' ? 0 : 1;
  w.ascii(slot === 0 ? ',"direction":"send","mono_ns":' : ',"direction":"recv","mono_ns":');
  w.jsonNumber(e.mono_ns);
  writeEndpoints(w, e);
  lastKernelFacts.put(w, slot, e);
  w.ascii(',"sock_cookie":');
  w.jsonNumber(e.sock_cookie);
  w.ascii(',"cpu":');
  w.jsonNumber(e.cpu);
  w.ascii(',"current":');
  lastCurrent.put(w, slot, e.current);
  w.ascii(',"owner":');
  writeOwner(w, slot, e.owner);
  w.ascii(',"context":');
  lastContext.put(w, slot, e.context);
  w.ascii(',"socket":');
  if (e.socket === null) w.ascii('null');
  else lastSocket.put(w, slot, e.socket);
  w.ascii(',"history":');
  writeHistory(w, e.history);
  w.ascii(',"segment":');
  writeSegment(w, e.segment);
  w.ascii(',"peer_event_id":');
  w.jsonNumber(e.peer_event_id);
  w.ascii(',"cause":');
  lastCause.put(w, slot, e.cause);
  // a stack of ~30 frames, shared by every event with it: copied, not re-serialized
  w.ascii(',"kernel_path":');
  writeShared(w, e.kernel_path, JSON.stringify);
  w.byte(0x7d);
}

function writeSyscallError(w: ByteWriter, e: SyscallErrorEvent): void {
  writeHead(w, 'syscall_error', e.wall_ns);
  w.ascii(',"id":');
  w.jsonNumber(e.id);
  w.ascii(',"reset_id":');
  w.jsonNumber(e.reset_id);
  w.ascii(',"mono_ns":');
  w.jsonNumber(e.mono_ns);
  w.ascii(',"ms_after_reset":');
  w.jsonNumber(e.ms_after_reset);
  w.ascii(',"pid":');
  w.jsonNumber(e.pid);
  w.ascii(',"tid":');
  w.jsonNumber(e.tid);
  w.ascii(',"comm":');
  w.jsonString(e.comm);
  w.ascii(',"syscall":');
  w.jsonString(e.syscall);
  w.ascii(',"errno":');
  w.jsonString(e.errno);
  writeEndpoints(w, e);
  w.ascii(',"state":');
  w.jsonStringOrNull(e.state);
  w.ascii(',"netns":');
  w.jsonNumber(e.netns);
  w.ascii(',"sock_cookie":');
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
