/**
 * Raw records from the ring buffer -> plain objects, reading each field at the
 * offset the addon exported (bpf/rsttrace.h is the one definition).
 */
import { decodeAddress, type Family } from './addr.js';
import { SMI_KEY } from './bounded-map.js';
import type { RecordLayout } from './native.js';

export type RecordKind = 'send' | 'recv' | 'errno';

/** The provoking segment of a passive reset, as it arrived (host byte order). */
export interface RawSegment {
  tcpFlags: number;
  seq: number;
  ack: number;
  window: number;
  payloadBytes: number;
}

/** What the application left in a full socket. */
export interface RawSocketFacts {
  rcvUnread: number;
  sndUnsent: number;
  sndUnacked: number;
  /** RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
  shutdown: number;
  /** SO_LINGER seconds, null when SO_LINGER is off */
  lingerSec: number | null;
}

export interface RawOwner {
  source: 'socket' | 'tuple';
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  cgroupId: bigint;
  seenNs: number;
  /** 0 when the close was not seen */
  closedNs: number;
  syscallNr: number;
}

export interface RawTransition {
  tsNs: number;
  from: number;
  to: number;
}

/** One record, undecorated: numbers as the kernel gave them. */
export interface RawRecord {
  kind: RecordKind;
  monoNs: number;
  sockCookie: number;
  sockIno: number;
  netnsIno: number;
  cpu: number;
  pid: number;
  tid: number;
  comm: string;
  kthread: boolean;
  /** current's syscall number (meaningful in process context) */
  syscallNr: number;
  /** errno of a failed syscall (kind 'errno'), else 0 */
  err: number;
  /** enum sk_rst_reason value; null when the kernel gives none */
  reason: number | null;
  /** the addresses' family as shown: a v4-mapped IPv6 socket's are IPv4 (addr.ts) */
  family: Family;
  lport: number;
  rport: number;
  /** TCP state value; null without a socket */
  state: number | null;
  /** the addresses as text, as tcpdump and ss print them */
  laddr: string;
  raddr: string;
  segment: RawSegment | null;
  socket: RawSocketFacts | null;
  owner: RawOwner | null;
  /** state transitions, oldest first */
  history: RawTransition[];
  /** the kernel stack as recorded: 8-byte return addresses, innermost first
   *  (stackAddresses() reads them); empty if the stack was not read. A view
   *  into the batch: the same bytes are the same stack. */
  kstack: Uint8Array;
  /** the kernel context the stack belongs to (0: none); with stackReused,
   *  the stack was not walked: it is the last walked one of this key */
  stackKey: number;
  stackReused: boolean;
}

export function stackAddresses(kstack: Uint8Array): bigint[] {
  const v = new DataView(kstack.buffer, kstack.byteOffset, kstack.byteLength);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= kstack.byteLength; at += 8) out.push(v.getBigUint64(at, true));
  return out;
}

const TWO_32 = 2 ** 32;

/**
 * A copy of `len` bytes: a Buffer's slice() is a view, which would keep the
 * whole batch alive (128 KiB) and change when its memory is reused.
 */
function copyOf(batch: Uint8Array, at: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = batch[at + i]!;
  return out;
}

/**
 * A u64 field. A value that fits 31 bits comes out as a small integer
 * whether this runs optimized or not: with `lo + hi * 2^32` alone, optimized
 * code gave heap numbers, and the events built from both kinds deoptimized
 * the correlator hundreds of times a second.
 */
function u64(v: DataView, at: number): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  return hi === 0 && lo <= 0x7fffffff ? lo | 0 : lo + hi * TWO_32;
}

/** The stack of a record without one: shared, never written. */
const NO_STACK = new Uint8Array(0);
/** comm is bytes as the process set them, UTF-8 as a rule; bad sequences become U+FFFD */
const utf8 = new TextDecoder('utf-8');
/** comms kept decoded; past that many the cache starts over */
const MAX_COMMS = 4096;

export interface Decoder {
  recordSize: number;
  /** Records in `batch`; a trailing partial record is an error, not ignored. */
  count(batch: Uint8Array): number;
  /** The kind of record `index`, without decoding the rest. */
  kind(batch: Uint8Array, index: number): RecordKind;
  decode(batch: Uint8Array, index: number): RawRecord;
}

export function createDecoder(layout: RecordLayout): Decoder {
  const f = (name: string): number => {
    const field = layout.fields[name];
    if (!field) throw new Error(`record layout has no field ${name}: addon and decoder disagree`);
    return field.offset;
  };
  const c = (name: string): number => {
    const value = layout.constants[name];
    if (value === undefined) throw new Error(`record layout has no constant ${name}`);
    return value;
  };
  const size = layout.recordSize;
  const o = {
    ts: f('ts_ns'),
    cookie: f('sock_cookie'),
    ino: f('sock_ino'),
    netns: f('netns_ino'),
    cpu: f('cpu'),
    pid: f('pid'),
    tid: f('tid'),
    reason: f('reason'),
    syscallNr: f('syscall_nr'),
    err: f('err'),
    family: f('family'),
    lport: f('lport'),
    rport: f('rport'),
    kind: f('kind'),
    state: f('state'),
    flags: f('flags'),
    segFlags: f('seg_tcp_flags'),
    shutdown: f('sk_shutdown'),
    ownerSource: f('owner_source'),
    segWindow: f('seg_window'),
    segSeq: f('seg_seq'),
    segAck: f('seg_ack'),
    segPayload: f('seg_payload_bytes'),
    unread: f('rcv_unread_bytes'),
    unsent: f('snd_unsent_bytes'),
    unacked: f('snd_unacked_bytes'),
    linger: f('linger_sec'),
    laddr: f('laddr'),
    raddr: f('raddr'),
    comm: f('comm'),
    oSeen: f('owner.seen_ns'),
    oClosed: f('owner.closed_ns'),
    oCgroup: f('owner.cgroup_id'),
    oPid: f('owner.pid'),
    oTid: f('owner.tid'),
    oUid: f('owner.uid'),
    oSyscall: f('owner.syscall_nr'),
    oComm: f('owner.comm'),
    hTs: f('history.ts_ns'),
    hOld: f('history.old_state'),
    hNew: f('history.new_state'),
    hCount: f('history.count'),
    kstackBytes: f('kstack_bytes'),
    kstack: f('kstack'),
    stackKey: f('stack_key'),
  };
  const commLen = c('RST_COMM_LEN');
  const historyLen = c('RST_HISTORY_LEN');
  const kinds: Record<number, RecordKind> = {
    [c('RST_KIND_SEND')]: 'send',
    [c('RST_KIND_RECV')]: 'recv',
    [c('RST_KIND_ERRNO')]: 'errno',
  };
  const F_SOCK = c('RST_F_SOCK');
  const F_SEGMENT = c('RST_F_SEGMENT');
  const F_REASON = c('RST_F_REASON');
  const F_FULLSOCK = c('RST_F_FULLSOCK');
  const F_KTHREAD = c('RST_F_KTHREAD');
  const F_LINGER = c('RST_F_LINGER');
  const F_STACK_REUSED = c('RST_F_STACK_REUSED');
  const OWNER_SOCKET = c('RST_OWNER_SOCKET');
  const OWNER_TUPLE = c('RST_OWNER_TUPLE');

  const str = (batch: Uint8Array, at: number, len: number): string => {
    const bytes = batch.subarray(at, at + len);
    const nul = bytes.indexOf(0);
    return utf8.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
  };
  // the same few comms come back record after record: each decoded once,
  // found again by a hash of its bytes and compared
  const comms = new Map<number, { bytes: Uint8Array; name: string }>();
  const comm = (batch: Uint8Array, at: number): string => {
    let h = 0x811c9dc5;
    for (let i = 0; i < commLen; i++) h = Math.imul(h ^ batch[at + i]!, 0x01000193);
    h &= SMI_KEY;
    const known = comms.get(h);
    if (known !== undefined) {
      let i = 0;
      while (i < commLen && known.bytes[i] === batch[at + i]) i++;
      if (i === commLen) return known.name;
    }
    const name = str(batch, at, commLen);
    if (comms.size >= MAX_COMMS) comms.clear();
    comms.set(h, { bytes: copyOf(batch, at, commLen), name });
    return name;
  };
  const kindAt = (batch: Uint8Array, index: number): RecordKind => {
    const k = kinds[batch[index * size + o.kind]!];
    if (!k) throw new Error(`record ${index} has unknown kind ${batch[index * size + o.kind]}`);
    return k;
  };

  let viewed: Uint8Array | null = null;
  let view: DataView = new DataView(new ArrayBuffer(0));

  return {
    recordSize: size,
    count(batch) {
      if (batch.byteLength % size !== 0) {
        throw new Error(`batch of ${batch.byteLength} bytes is not a whole number of ${size}-byte records`);
      }
      return batch.byteLength / size;
    },
    kind: kindAt,
    decode(batch, index) {
      const base = index * size;
      // one view of a batch for all its records: not an allocation a record
      if (batch !== viewed) {
        viewed = batch;
        view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
      }
      const v = view;
      const flags = v.getUint8(base + o.flags);
      const ownerSource = v.getUint8(base + o.ownerSource);

      const stackBytes = Math.max(0, v.getInt32(base + o.kstackBytes, true)) & ~7;
      const kstack = stackBytes === 0 ? NO_STACK : batch.subarray(base + o.kstack, base + o.kstack + Math.min(stackBytes, size - o.kstack));

      // as text here, from the batch: copies of their bytes were two typed
      // arrays a record (bench/FINDINGS.md)
      const af = v.getUint16(base + o.family, true);
      const local = decodeAddress(af, batch, base + o.laddr);
      const remote = decodeAddress(af, batch, base + o.raddr);

      const history: RawTransition[] = [];
      const total = v.getUint32(base + o.hCount, true);
      for (let n = Math.max(0, total - historyLen); n < total; n++) {
        const i = n % historyLen;
        history.push({ tsNs: u64(v, base + o.hTs + i * 8), from: v.getUint8(base + o.hOld + i), to: v.getUint8(base + o.hNew + i) });
      }

      return {
        kind: kindAt(batch, index),
        monoNs: u64(v, base + o.ts),
        sockCookie: u64(v, base + o.cookie),
        sockIno: u64(v, base + o.ino),
        netnsIno: v.getUint32(base + o.netns, true),
        cpu: v.getUint32(base + o.cpu, true),
        pid: v.getUint32(base + o.pid, true),
        tid: v.getUint32(base + o.tid, true),
        comm: comm(batch, base + o.comm),
        kthread: (flags & F_KTHREAD) !== 0,
        syscallNr: v.getInt32(base + o.syscallNr, true),
        err: v.getInt32(base + o.err, true),
        reason: flags & F_REASON ? v.getUint32(base + o.reason, true) : null,
        family: remote.family,
        lport: v.getUint16(base + o.lport, true),
        rport: v.getUint16(base + o.rport, true),
        state: flags & F_SOCK ? v.getUint8(base + o.state) : null,
        laddr: local.address,
        raddr: remote.address,
        segment:
          flags & F_SEGMENT
            ? {
                tcpFlags: v.getUint8(base + o.segFlags),
                seq: v.getUint32(base + o.segSeq, true),
                ack: v.getUint32(base + o.segAck, true),
                window: v.getUint16(base + o.segWindow, true),
                payloadBytes: v.getUint32(base + o.segPayload, true),
              }
            : null,
        socket:
          flags & F_FULLSOCK
            ? {
                rcvUnread: v.getUint32(base + o.unread, true),
                sndUnsent: v.getUint32(base + o.unsent, true),
                sndUnacked: v.getUint32(base + o.unacked, true),
                shutdown: v.getUint8(base + o.shutdown),
                lingerSec: flags & F_LINGER ? v.getUint32(base + o.linger, true) : null,
              }
            : null,
        owner:
          ownerSource === OWNER_SOCKET || ownerSource === OWNER_TUPLE
            ? {
                source: ownerSource === OWNER_SOCKET ? 'socket' : 'tuple',
                pid: v.getUint32(base + o.oPid, true),
                tid: v.getUint32(base + o.oTid, true),
                uid: v.getUint32(base + o.oUid, true),
                comm: comm(batch, base + o.oComm),
                cgroupId: v.getBigUint64(base + o.oCgroup, true),
                seenNs: u64(v, base + o.oSeen),
                closedNs: u64(v, base + o.oClosed),
                syscallNr: v.getInt32(base + o.oSyscall, true),
              }
            : null,
        history,
        kstack,
        stackKey: v.getUint32(base + o.stackKey, true),
        stackReused: (flags & F_STACK_REUSED) !== 0,
      };
    },
  };
}
