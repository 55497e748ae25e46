/**
 * Raw records from the ring buffer -> plain objects, reading each field at the
 * offset the addon exported (bpf/rsttrace.h is the one definition).
 */
import type { RecordLayout } from './native.js';

export type Direction = 'send' | 'recv';

/** The provoking segment of a passive reset, as it arrived (host byte order). */
export interface RawSegment {
  tcpFlags: number;
  seq: number;
  ack: number;
  window: number;
  payloadBytes: number;
}

/** One record, undecorated: numbers as the kernel gave them. */
export interface RawReset {
  monoNs: number;
  sockCookie: number;
  netnsIno: number;
  cpu: number;
  pid: number;
  tid: number;
  /** enum sk_rst_reason value; null when the kernel gives none */
  reason: number | null;
  family: number;
  lport: number;
  rport: number;
  direction: Direction;
  /** TCP state value; null without a socket */
  state: number | null;
  laddr: Uint8Array;
  raddr: Uint8Array;
  comm: string;
  segment: RawSegment | null;
  /** kernel return addresses, innermost first; empty if the stack was not read */
  kstack: bigint[];
}

const TWO_32 = 2 ** 32;
const latin1 = new TextDecoder('latin1');

export interface Decoder {
  recordSize: number;
  /** Records in `batch`; a trailing partial record is an error, not ignored. */
  count(batch: Uint8Array): number;
  decode(batch: Uint8Array, index: number): RawReset;
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
    netns: f('netns_ino'),
    cpu: f('cpu'),
    pid: f('pid'),
    tid: f('tid'),
    reason: f('reason'),
    family: f('family'),
    lport: f('lport'),
    rport: f('rport'),
    direction: f('direction'),
    state: f('state'),
    flags: f('flags'),
    segFlags: f('seg_tcp_flags'),
    segWindow: f('seg_window'),
    segSeq: f('seg_seq'),
    segAck: f('seg_ack'),
    segPayload: f('seg_payload_bytes'),
    laddr: f('laddr'),
    raddr: f('raddr'),
    comm: f('comm'),
    kstackBytes: f('kstack_bytes'),
    kstack: f('kstack'),
  };
  const commLen = c('RST_COMM_LEN');
  const DIR_SEND = c('RST_DIR_SEND');
  const F_SOCK = c('RST_F_SOCK');
  const F_SEGMENT = c('RST_F_SEGMENT');
  const F_REASON = c('RST_F_REASON');

  return {
    recordSize: size,
    count(batch) {
      if (batch.byteLength % size !== 0) {
        throw new Error(`batch of ${batch.byteLength} bytes is not a whole number of ${size}-byte records`);
      }
      return batch.byteLength / size;
    },
    decode(batch, index) {
      const base = index * size;
      const v = new DataView(batch.buffer, batch.byteOffset + base, size);
      const u64 = (at: number) => v.getUint32(at, true) + v.getUint32(at + 4, true) * TWO_32;
      const flags = v.getUint8(o.flags);
      const commBytes = batch.subarray(base + o.comm, base + o.comm + commLen);
      const nul = commBytes.indexOf(0);
      const stackBytes = v.getInt32(o.kstackBytes, true);
      const kstack: bigint[] = [];
      for (let i = 0; stackBytes > 0 && i < stackBytes / 8; i++) kstack.push(v.getBigUint64(o.kstack + i * 8, true));
      return {
        monoNs: u64(o.ts),
        sockCookie: u64(o.cookie),
        netnsIno: v.getUint32(o.netns, true),
        cpu: v.getUint32(o.cpu, true),
        pid: v.getUint32(o.pid, true),
        tid: v.getUint32(o.tid, true),
        reason: flags & F_REASON ? v.getUint32(o.reason, true) : null,
        family: v.getUint16(o.family, true),
        lport: v.getUint16(o.lport, true),
        rport: v.getUint16(o.rport, true),
        direction: v.getUint8(o.direction) === DIR_SEND ? 'send' : 'recv',
        state: flags & F_SOCK ? v.getUint8(o.state) : null,
        laddr: batch.slice(base + o.laddr, base + o.laddr + 16),
        raddr: batch.slice(base + o.raddr, base + o.raddr + 16),
        comm: latin1.decode(nul >= 0 ? commBytes.subarray(0, nul) : commBytes),
        segment:
          flags & F_SEGMENT
            ? {
                tcpFlags: v.getUint8(o.segFlags),
                seq: v.getUint32(o.segSeq, true),
                ack: v.getUint32(o.segAck, true),
                window: v.getUint16(o.segWindow, true),
                payloadBytes: v.getUint32(o.segPayload, true),
              }
            : null,
        kstack,
      };
    },
  };
}
