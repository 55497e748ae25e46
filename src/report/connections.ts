/**
 * The connections with the most resets, each with its resets and failed
 * syscalls in time order. Both ends of a connection on this host (a
 * loopback pair: one side sends the RST, the other takes it and its next
 * send fails) are one connection: the key is the two endpoints, ordered.
 * Memory is bounded twice: which connections are followed (TopCounter) and
 * how many events each keeps.
 */
import { formatEndpoint } from '../addr.js';
import type { ResetFacts, SyscallErrorFacts } from './record.js';
import { TopCounter } from './topn.js';

export type ConnectionEvent = ResetFacts | SyscallErrorFacts;

export interface ConnectionTimeline {
  /** the two endpoints, in a fixed order, as "addr:port" ("[v6]:port") */
  endpoints: [string, string];
  /** resets seen since it was followed */
  resets: number;
  syscall_errors: number;
  /** whether resets of it may have come before it was followed (the capture had too many connections) */
  partial: boolean;
  /** the first events kept, in time order */
  events: ConnectionEvent[];
  /** events after those, counted only */
  more: number;
}

interface Followed {
  endpoints: [string, string];
  resets: number;
  errors: number;
  events: ConnectionEvent[];
  more: number;
}

/** Whether the local end comes first in the connection's one order: by address, then port number (9 before 54972). */
function localFirst(r: ConnectionEvent): boolean {
  return r.laddr < r.raddr || (r.laddr === r.raddr && r.lport <= r.rport);
}

/** The same for both ends of a connection, and unambiguous (the first address is length-prefixed). */
function keyOf(r: ConnectionEvent): string {
  return localFirst(r) ? `${r.laddr.length}/${r.laddr}/${r.lport}/${r.raddr}/${r.rport}` : `${r.raddr.length}/${r.raddr}/${r.rport}/${r.laddr}/${r.lport}`;
}

function ends(r: ConnectionEvent): [string, string] {
  const a = formatEndpoint(r.laddr, r.lport);
  const b = formatEndpoint(r.raddr, r.rport);
  return localFirst(r) ? [a, b] : [b, a];
}

export class Connections {
  private counter: TopCounter<string>;
  private followed = new Map<string, Followed>();

  constructor(
    capacity: number,
    readonly eventsPerConnection = 20,
  ) {
    this.counter = new TopCounter(capacity);
  }

  addReset(r: ResetFacts): void {
    const key = keyOf(r);
    const evicted = this.counter.add(key);
    if (evicted !== undefined) this.followed.delete(evicted);
    let f = this.followed.get(key);
    if (!f) this.followed.set(key, (f = { endpoints: ends(r), resets: 0, errors: 0, events: [], more: 0 }));
    f.resets++;
    this.keep(f, r);
  }

  /** An error on a connection with no reset followed is not a reset's consequence here: left out. */
  addError(e: SyscallErrorFacts): void {
    const f = this.followed.get(keyOf(e));
    if (!f) return;
    f.errors++;
    this.keep(f, e);
  }

  /** The `n` with the most resets seen while followed; of equals, those with more failed syscalls, then the earliest. */
  top(n: number): ConnectionTimeline[] {
    return [...this.followed]
      .map(([key, f]) => ({ key, f, events: [...f.events].sort((a, b) => a.ts_ns - b.ts_ns || a.id - b.id) }))
      .sort((a, b) => b.f.resets - a.f.resets || b.f.errors - a.f.errors || a.events[0]!.ts_ns - b.events[0]!.ts_ns)
      .slice(0, n)
      .map(({ key, f, events }) => ({
        endpoints: f.endpoints,
        resets: f.resets,
        syscall_errors: f.errors,
        partial: (this.counter.get(key)?.error ?? 0) > 0,
        events,
        more: f.more,
      }));
  }

  private keep(f: Followed, e: ConnectionEvent): void {
    if (f.events.length < this.eventsPerConnection) f.events.push(e);
    else f.more++;
  }
}
