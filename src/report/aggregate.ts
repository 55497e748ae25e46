/**
 * Everything the report says about a capture, gathered in one pass over its
 * records in memory that does not grow with the capture: counters, bounded
 * top-N tables, bounded timelines, a histogram of at most 24 buckets.
 */
import { Connections, type ConnectionTimeline } from './connections.js';
import { TimeHistogram } from './histogram.js';
import type { ReportRecord } from './record.js';
import { TopCounter } from './topn.js';

export interface TableRow<K> {
  key: K;
  count: number;
  /** 0 when exact; else how much too high `count` may be */
  error: number;
}

export interface Table<K> {
  /** what was counted in all (resets, or syscall errors for errnos) */
  total: number;
  /** more distinct keys than could be kept: counts are upper bounds */
  approximate: boolean;
  rows: TableRow<K>[];
}

export interface Summary {
  records: number;
  /** records of a type this version does not know, by name: counted, not read */
  other_records: number;
  sessions: number;
  /** the earliest and the latest record of the capture (ISO-8601 UTC) */
  first: string | null;
  last: string | null;
  span_s: number;
  resets: { total: number; sent: number; received: number };
  syscall_errors: { total: number; linked: number };
  /** events rsttrace lost while capturing: the sum of the lost records */
  lost: number;
  causes: Table<string>;
  /** "pid/comm", or "-" when no owner was known */
  owners: Table<string>;
  remote_addresses: Table<string>;
  local_ports: Table<number>;
  errnos: Table<string>;
  connections: ConnectionTimeline[];
  histogram: { bucket_ms: number; buckets: { start_ms: number; resets: number }[] };
}

export interface AggregateOptions {
  /** rows per table and connections with a timeline */
  top: number;
}

/** distinct keys kept per table: exact below it, Space-Saving above */
function capacityFor(top: number): number {
  return Math.max(1000, 100 * top);
}

export class Aggregator {
  private records = 0;
  private other = 0;
  private sessions = 0;
  private first: { ts: number; time: string } | null = null;
  private last: { ts: number; time: string } | null = null;
  private sent = 0;
  private received = 0;
  private errors = 0;
  private linked = 0;
  private lost = 0;
  private causes: TopCounter<string>;
  private owners: TopCounter<string>;
  private remotes: TopCounter<string>;
  private errnos: TopCounter<string>;
  private ports = new Float64Array(65536);
  private connections: Connections;
  private histogram = new TimeHistogram();

  constructor(private readonly opts: AggregateOptions) {
    const capacity = capacityFor(opts.top);
    this.causes = new TopCounter(capacity);
    this.owners = new TopCounter(capacity);
    this.remotes = new TopCounter(capacity);
    this.errnos = new TopCounter(capacity);
    // each followed connection holds up to 20 events: fewer of them
    this.connections = new Connections(Math.max(200, 10 * opts.top));
  }

  add(r: ReportRecord): void {
    this.records++;
    if (!this.first || r.ts_ns < this.first.ts) this.first = { ts: r.ts_ns, time: r.time };
    if (!this.last || r.ts_ns > this.last.ts) this.last = { ts: r.ts_ns, time: r.time };
    switch (r.type) {
      case 'reset':
        if (r.direction === 'send') this.sent++;
        else this.received++;
        this.causes.add(r.cause);
        this.owners.add(r.owner ? `${r.owner.pid}/${r.owner.comm}` : '-');
        this.remotes.add(r.raddr);
        this.ports[r.lport]!++;
        this.histogram.add(r.ts_ns / 1e6);
        this.connections.addReset(r);
        break;
      case 'syscall_error':
        this.errors++;
        if (r.reset_id !== null) this.linked++;
        this.errnos.add(r.errno);
        this.connections.addError(r);
        break;
      case 'lost':
        this.lost += r.lost;
        break;
      case 'session_start':
        this.sessions++;
        break;
      case 'session_end':
        break;
      case 'other':
        this.other++;
        break;
    }
  }

  summary(): Summary {
    const top = this.opts.top;
    const table = <K>(c: TopCounter<K>): Table<K> => ({ total: c.total, approximate: c.approximate, rows: c.top(top) });
    const resets = this.sent + this.received;
    return {
      records: this.records,
      other_records: this.other,
      sessions: this.sessions,
      first: this.first?.time ?? null,
      last: this.last?.time ?? null,
      span_s: this.first && this.last ? (this.last.ts - this.first.ts) / 1e9 : 0,
      resets: { total: resets, sent: this.sent, received: this.received },
      syscall_errors: { total: this.errors, linked: this.linked },
      lost: this.lost,
      causes: table(this.causes),
      owners: table(this.owners),
      remote_addresses: table(this.remotes),
      local_ports: { total: resets, approximate: false, rows: this.topPorts(top) },
      errnos: table(this.errnos),
      connections: this.connections.top(top),
      histogram: {
        bucket_ms: this.histogram.widthMs,
        buckets: this.histogram.buckets().map((b) => ({ start_ms: b.startMs, resets: b.count })),
      },
    };
  }

  private topPorts(n: number): TableRow<number>[] {
    const rows: TableRow<number>[] = [];
    this.ports.forEach((count, key) => {
      if (count > 0) rows.push({ key, count, error: 0 });
    });
    return rows.sort((a, b) => b.count - a.count || a.key - b.key).slice(0, n);
  }
}
