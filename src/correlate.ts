/**
 * Raw records -> enriched events: the owner (from the kernel maps, or /proc
 * for sockets older than rsttrace), the context and kernel path from the
 * stack, socket facts and history, the cause; and each failed syscall linked
 * to the reset on its socket. Tables are bounded: old entries are evicted.
 */
import { BoundedMap, SMI_KEY } from './bounded-map.js';
import { NONE, RecentResets, type Endpoints } from './recent-resets.js';
import type { Clock } from './clock.js';
import { contextOf, meaningfulFrames, pathSignature, stackFacts, type StackFacts } from './context.js';
import { stackAddresses, type RawRecord } from './decode.js';
import {
  ERRNO_NAMES,
  tcpFlagNames,
  type Owner,
  type KernelPath,
  type ResetEvent,
  type SocketFacts,
  type SyscallErrorEvent,
  type TraceEvent,
} from './event.js';
import { explain } from './explain.js';
import type { KernelNames } from './kernel.js';
import type { ProcessTable, SocketOwners } from './procinfo.js';
import type { Symbolizer } from './symbols.js';
import { words } from './words.js';

/** An owner known only by the 4-tuple is believed this long after it was seen. */
const TUPLE_OWNER_MAX_MS = 120_000;
/** A syscall error is linked to a reset on its socket at most this much later. */
const LINK_MAX_MS = 60_000;
/** Both ends' events of one local connection are at most this far apart. */
const PEER_MAX_MS = 50;
/** Resets remembered for linking: the newest this many on a socket (with a cookie), and as many without. */
const REMEMBERED_PER_KIND = 32_768;
/**
 * A reset's peer is looked for among this many of the newest resets (and
 * within PEER_MAX_MS). The two ends' resets of a local connection come
 * within a few records of each other (loopback, veth: one softirq), and
 * 1024 are 8 ms of a storm here (~130 k a second). The table stays in the
 * CPU's cache: with 8192 (128 KB) two of every three of its lookups missed
 * it, 0.15 us a record (bench/FINDINGS.md).
 */
const PEER_WINDOW = 1024;
/** Distinct kernel stacks kept symbolized: resets come from a few paths. */
const MAX_STACKS = 4096;

/** One distinct kernel stack, symbolized and read once. */
interface StackInfo {
  bytes: Uint8Array;
  /** shared by every event with this stack: outputs may cache by identity */
  path: KernelPath;
  facts: StackFacts;
}

/** A kernel context's last walked stack, for its records sent without one. */
interface LastWalk {
  stack: StackInfo;
  /** that stack, said to be event `stack_from_event`'s: made once, shared */
  path: KernelPath;
  /** the walked record's context, which a record reusing it must share
   *  (its fields, not the record: that would keep its batch alive) */
  context: StackContext;
}

/** The part of the kernel's stack key that user space sees. */
type StackContext = Pick<RawRecord, 'cpu' | 'kind' | 'reason' | 'state' | 'syscallNr' | 'kthread'>;

function stackContext(r: RawRecord): StackContext {
  return { cpu: r.cpu, kind: r.kind, reason: r.reason, state: r.state, syscallNr: r.syscallNr, kthread: r.kthread };
}

/** Compared field by field: nothing built for the records that reuse a walk. */
function sameStackContext(a: StackContext, b: RawRecord): boolean {
  return a.cpu === b.cpu && a.kind === b.kind && a.reason === b.reason && a.state === b.state && a.syscallNr === b.syscallNr && a.kthread === b.kthread;
}

/** For a record sent without a stack whose walk never came (ring order makes that rare). */
const NO_STACK: StackInfo = {
  bytes: new Uint8Array(0),
  path: { signature: '', stack: [], stack_from_event: null },
  facts: stackFacts([]),
};
const NO_WALK = { stack: NO_STACK, path: NO_STACK.path };

export interface CorrelatorDeps {
  names: KernelNames;
  syscalls: Record<number, string>;
  symbols: Symbolizer;
  clock: Clock;
  processes: ProcessTable;
  /** socket inode -> holder, scanned from /proc at start */
  procOwners: SocketOwners;
}

/**
 * FNV-1a over the low half of each 8-byte return address (the high half is
 * the same for all kernel text): a stack's cache key; collisions are
 * compared away.
 */
function stackHash(b: Uint8Array): number {
  let h = 0x811c9dc5 ^ b.length;
  for (let i = 0; i + 3 < b.length; i += 8) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
  return h & SMI_KEY;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
/** RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2, named; shared by the events (never changed) */
const SHUTDOWN_NAMES: string[][] = [[], ['read'], ['write'], ['read', 'write']];
const NO_CAUSE = { code: 'unknown', summary: words``, fix: null, inferred: false };

export class Correlator {
  private nextId = 1;
  /** the newest resets, by cookie and by direction and 4-tuple */
  private recent = new RecentResets(REMEMBERED_PER_KIND, PEER_WINDOW);
  private stacks = new BoundedMap<number, StackInfo>(MAX_STACKS);
  /** by the kernel's stack key */
  private lastWalks = new BoundedMap<number, LastWalk>(MAX_STACKS);

  constructor(private readonly deps: CorrelatorDeps) {}

  /** Syscall errors that found no reset yet: they get one more batch. */
  private waiting: RawRecord[] = [];
  /**
   * Resets on a socket whose owner nobody saw yet (accepted, not yet read or
   * written: nothing traces accept() without the syscall hook). The owner's
   * read or write on it fails right after; they wait one batch for it, and
   * only then is /proc searched (by the socket's inode).
   */
  private ownerless: { event: ResetEvent; ino: number }[] = [];

  /** Something is held for the next batch: call process([]) soon if none comes. */
  get holding(): boolean {
    return this.waiting.length > 0 || this.ownerless.length > 0;
  }

  /**
   * Resets before the syscall errors they may cause, whatever their order in
   * the ring: tcp_abort() (ss -K) wakes the owner before it sends the RST, so
   * the owner's failed syscall can come first, even a batch earlier.
   */
  process(records: RawRecord[]): TraceEvent[] {
    const freshRecords = records.filter((r) => r.kind !== 'errno');
    const fresh: ResetEvent[] = [];
    for (const r of freshRecords) fresh.push(this.reset(r, fresh));
    // once, with the peers known: the explanation may name the peer
    for (const e of fresh) e.cause = explain(e);
    const errors = [...this.waiting, ...records.filter((r) => r.kind === 'errno')];
    const held = new Set(this.waiting);
    this.waiting = [];
    const failed: SyscallErrorEvent[] = [];
    // resets that may learn their owner from a failed syscall: the held ones, and new ones with a socket and no owner
    const ownerless = new Map<number, { event: ResetEvent; ino: number }>();
    for (const h of this.ownerless) ownerless.set(h.event.id, h);
    fresh.forEach((e, i) => {
      if (e.owner === null && e.sock_cookie !== null) ownerless.set(e.id, { event: e, ino: freshRecords[i]!.sockIno });
    });
    for (const r of errors) {
      if (!held.has(r) && r.sockCookie && this.recent.byCookie(r.sockCookie) === NONE) {
        this.waiting.push(r);
        continue;
      }
      const err = this.syscallError(r);
      failed.push(err);
      const reset = err.reset_id === null ? undefined : ownerless.get(err.reset_id)?.event;
      if (reset) {
        // the process whose syscall on the socket failed holds it; its
        // times are the error's, not the reset's
        const owner = this.kernelOwner(r);
        reset.owner = owner ? { ...owner, last_syscall_ms_before: null, closed_ms_before: null } : this.failedOwner(err);
        reset.cause = explain(reset);
        ownerless.delete(reset.id);
      }
    }
    // releaseOwnerless's array is a literal (see there): pushed to on
    const out: TraceEvent[] = this.releaseOwnerless();
    for (const e of fresh) {
      const waiting = ownerless.get(e.id);
      if (waiting) this.ownerless.push(waiting);
      else out.push(e);
    }
    for (const e of failed) out.push(e);
    return out;
  }

  /** What is still waiting, unlinked: at the end of a run. */
  flush(): TraceEvent[] {
    const out: TraceEvent[] = this.releaseOwnerless();
    for (const r of this.waiting) out.push(this.syscallError(r));
    this.waiting = [];
    return out;
  }

  /** The held resets, their wait over: the ones no failed syscall named are looked up in /proc. */
  private releaseOwnerless(): ResetEvent[] {
    // a literal, pushed to: map()'s arrays are of another kind when empty
    // (as they are in a storm) than when not, a deoptimization of process()
    const out: ResetEvent[] = [];
    for (const { event, ino } of this.ownerless) {
      if (event.owner === null && ino) {
        event.owner = this.procOwner(ino, true);
        if (event.owner) event.cause = explain(event);
      }
      out.push(event);
    }
    this.ownerless = [];
    return out;
  }

  /** A holder named by its failed syscall alone (the kernel map had no owner for it). */
  private failedOwner(err: SyscallErrorEvent): Owner {
    return {
      pid: err.pid,
      tid: err.tid,
      comm: err.comm,
      uid: null,
      ...this.deps.processes.info(err.pid, null),
      source: 'socket',
      last_syscall: err.syscall,
      last_syscall_ms_before: null,
      closed_ms_before: null,
    };
  }

  /**
   * The record's stack and the path to show: its own, or, for one the
   * kernel did not walk (rate limit), its context's last walked stack,
   * naming the event it was walked for.
   */
  private stack(r: RawRecord, id: number): { stack: StackInfo; path: KernelPath } {
    if (r.stackReused) {
      const last = this.lastWalks.get(r.stackKey);
      // the key is the kernel's; never a stack of another context, even if
      // a key were ever handed out twice
      return last && sameStackContext(last.context, r) ? last : NO_WALK;
    }
    const stack = this.walkedStack(r.kstack);
    // the records of this context that follow unwalked show this walk
    if (r.stackKey) this.lastWalks.set(r.stackKey, { stack, path: { ...stack.path, stack_from_event: id }, context: stackContext(r) });
    return { stack, path: stack.path };
  }

  private walkedStack(kstack: Uint8Array): StackInfo {
    // looked up by a hash of the bytes, then compared: no string per record
    const key = stackHash(kstack);
    let info = this.stacks.get(key);
    if (!info || !sameBytes(info.bytes, kstack)) {
      const frames = meaningfulFrames(stackAddresses(kstack).map((a) => this.deps.symbols.name(a)));
      // a copy: the batch the record came in is not kept alive by the cache
      info = {
        bytes: new Uint8Array(kstack),
        path: { signature: pathSignature(frames), stack: frames, stack_from_event: null },
        facts: stackFacts(frames),
      };
      this.stacks.set(key, info);
    }
    return info;
  }

  private syscallName(nr: number): string | null {
    return nr < 0 ? null : (this.deps.syscalls[nr] ?? `syscall_${nr}`);
  }

  private endpoints(r: RawRecord): Endpoints {
    return { family: r.family, laddr: r.laddr, lport: r.lport, raddr: r.raddr, rport: r.rport };
  }

  /**
   * The owner the kernel maps give, else /proc's; `rescan`: /proc may be
   * read again for a socket it did not know (a reset that can wait for its
   * failed syscall looks there only after).
   */
  private owner(r: RawRecord, rescan: boolean): Owner | null {
    return this.kernelOwner(r) ?? (r.sockIno ? this.procOwner(r.sockIno, rescan) : null);
  }

  private kernelOwner(r: RawRecord): Owner | null {
    const { processes } = this.deps;
    const msBefore = (ns: number) => (ns > 0 ? (r.monoNs - ns) / 1e6 : null);
    if (r.owner && !(r.owner.source === 'tuple' && (r.monoNs - r.owner.seenNs) / 1e6 > TUPLE_OWNER_MAX_MS)) {
      const o = r.owner;
      const info = processes.info(o.pid, o.cgroupId);
      // named, not spread: this runs once per record (see reset())
      return {
        pid: o.pid,
        tid: o.tid,
        comm: o.comm,
        uid: o.uid,
        cmdline: info.cmdline,
        cgroup: info.cgroup,
        container_id: info.container_id,
        source: o.source,
        last_syscall: this.syscallName(o.syscallNr),
        last_syscall_ms_before: msBefore(o.seenNs),
        closed_ms_before: msBefore(o.closedNs),
      };
    }
    return null;
  }

  private procOwner(ino: number, rescan: boolean): Owner | null {
    const { processes, procOwners } = this.deps;
    const held = procOwners.get(ino, rescan);
    if (held) {
      return {
        pid: held.pid,
        tid: null,
        comm: held.comm,
        uid: held.uid,
        ...processes.info(held.pid, null),
        source: 'procfs',
        last_syscall: null,
        last_syscall_ms_before: null,
        closed_ms_before: null,
      };
    }
    return null;
  }

  /** `batch`: the resets of this batch so far, ids consecutive: a peer among them is linked back. */
  private reset(r: RawRecord, batch: ResetEvent[]): ResetEvent {
    const { names, clock } = this.deps;
    const id = this.nextId++;
    const ends = this.endpoints(r);
    const { stack, path } = this.stack(r, id);
    const syscall = this.syscallName(r.syscallNr);
    const ctx = contextOf(stack.facts, { comm: r.comm, kthread: r.kthread, syscall });
    const inProcess = ctx.kind === 'syscall' || ctx.kind === 'softirq';
    const direction = r.kind === 'send' ? 'send' : 'recv';

    // the other end's event, when both ends are here: its tuple is ours reversed
    const { recent } = this;
    const peer = recent.newestByTuple(direction === 'send' ? 'recv' : 'send', ends.raddr, ends.rport, ends.laddr, ends.lport);
    const peerId = peer !== NONE && Math.abs(r.monoNs - recent.monoNs(peer)) / 1e6 <= PEER_MAX_MS ? recent.id(peer) : null;
    recent.add(id, r.monoNs, direction, ends, r.sockCookie);
    // the kernel fires the send tracepoint after transmitting, so over
    // loopback the peer's RECV comes first: it learns its peer here, if it
    // is still to be written (in this batch)
    const first = id - batch.length;
    if (peerId !== null && peerId >= first) {
      const earlier = batch[peerId - first];
      if (earlier?.id === peerId && earlier.peer_event_id === null) earlier.peer_event_id = id;
    }

    const socket: SocketFacts | null = r.socket && {
      rcv_unread_bytes: r.socket.rcvUnread,
      snd_unsent_bytes: r.socket.sndUnsent,
      snd_unacked_bytes: r.socket.sndUnacked,
      shutdown: SHUTDOWN_NAMES[r.socket.shutdown & 3]!,
      linger_sec: r.socket.lingerSec,
    };
    const event: ResetEvent = {
      type: 'reset',
      id,
      direction,
      wall_ns: clock.wallNs(r.monoNs),
      mono_ns: r.monoNs,
      // named, not spread: a literal with a spread is built property by
      // property, and V8 deoptimized this function hundreds of times a
      // second over the representations of the fields after it
      family: ends.family,
      laddr: ends.laddr,
      lport: ends.lport,
      raddr: ends.raddr,
      rport: ends.rport,
      state: r.state === null ? null : names.state(r.state),
      reason: r.reason === null ? null : names.reason(r.reason),
      reason_code: r.reason,
      netns: r.netnsIno,
      sock_cookie: r.sockCookie === 0 ? null : r.sockCookie,
      cpu: r.cpu,
      current: { pid: r.pid, tid: r.tid, comm: r.comm },
      // one that will wait for its failed syscall looks in /proc only after
      owner: this.owner(r, r.sockCookie === 0),
      context: {
        kind: ctx.kind,
        syscall: ctx.syscall,
        pid: inProcess ? r.pid : null,
        comm: inProcess ? r.comm : null,
        timer: ctx.timer,
      },
      kernel_path: path,
      socket,
      history: this.history(r),
      segment: r.segment && {
        flags: tcpFlagNames(r.segment.tcpFlags),
        seq: r.segment.seq,
        ack: r.segment.ack,
        window: r.segment.window,
        payload_bytes: r.segment.payloadBytes,
      },
      peer_event_id: peerId,
      cause: NO_CAUSE, // explained with its batch, from the event itself
    };
    return event;
  }

  private history(r: RawRecord): ResetEvent['history'] {
    const { names } = this.deps;
    const out: ResetEvent['history'] = [];
    for (const h of r.history) out.push({ from: names.state(h.from), to: names.state(h.to), ms_before: (r.monoNs - h.tsNs) / 1e6 });
    return out;
  }

  /** The last reset on this connection by 4-tuple, either direction: when there is no cookie. */
  private resetByTuple(r: RawRecord): number {
    const { recent } = this;
    const e = this.endpoints(r);
    const recv = recent.byTuple('recv', e.laddr, e.lport, e.raddr, e.rport);
    const send = recent.byTuple('send', e.laddr, e.lport, e.raddr, e.rport);
    if (recv === NONE || send === NONE) return recv === NONE ? send : recv;
    return recent.monoNs(send) > recent.monoNs(recv) ? send : recv;
  }

  private syscallError(r: RawRecord): SyscallErrorEvent {
    // a cookie names the socket; without one (kernels before 5.12) the 4-tuple, while it lasts
    const { recent } = this;
    const reset = r.sockCookie ? recent.byCookie(r.sockCookie) : r.rport ? this.resetByTuple(r) : NONE;
    const linked = reset !== NONE && (r.monoNs - recent.monoNs(reset)) / 1e6 <= LINK_MAX_MS ? reset : NONE;
    return {
      type: 'syscall_error',
      id: this.nextId++,
      reset_id: linked === NONE ? null : recent.id(linked),
      wall_ns: this.deps.clock.wallNs(r.monoNs),
      mono_ns: r.monoNs,
      ms_after_reset: linked === NONE ? null : (r.monoNs - recent.monoNs(linked)) / 1e6,
      pid: r.pid,
      tid: r.tid,
      comm: r.comm,
      syscall: this.syscallName(r.syscallNr) ?? '?',
      errno: ERRNO_NAMES[r.err] ?? `errno ${r.err}`,
      // a failed connect() has dissolved the socket's addresses by now: the
      // reset saw them whole
      ...(linked === NONE ? this.endpoints(r) : recent.ends(linked)),
      state: r.state === null ? null : this.deps.names.state(r.state),
      netns: r.netnsIno,
      sock_cookie: r.sockCookie === 0 ? null : r.sockCookie,
    };
  }
}
