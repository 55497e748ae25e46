/**
 * The report as people read it (tables like bcc tools' summaries, a
 * timeline per connection, an ASCII histogram) and as scripts read it (one
 * JSON object). Pure functions of the summary.
 */
import { formatEndpoint } from '../addr.js';
import { formatMs, localTimeUs } from '../clock.js';
import { resetColumns } from '../output/text.js';
import type { Summary, Table } from './aggregate.js';
import type { ConnectionEvent, ConnectionTimeline } from './connections.js';

export interface Report extends Summary {
  /** the file name, or <stdin> */
  input: string;
  lines: number;
  /** malformed lines, reported on stderr and left out */
  skipped: number;
}

const BAR_WIDTH = 40;
const KEY_WIDTH_MAX = 45;

/** Exact ns since the epoch from the ISO time (ts_ns is a rounded double once parsed). */
export function wallNsOf(iso: string): bigint {
  return BigInt(Date.parse(`${iso.slice(0, 19)}Z`)) * 1_000_000n + BigInt(iso.slice(20, 29));
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function localDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

function localDateTime(iso: string): string {
  const ns = wallNsOf(iso);
  return `${localDate(Number(ns / 1_000_000n))} ${localTimeUs(ns)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(1)} s`;
}

function fit(s: string, width: number): string {
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width);
}

function formatTable<K>(title: string, unit: string, t: Table<K>): string[] {
  if (t.rows.length === 0) return [];
  const keyWidth = Math.min(KEY_WIDTH_MAX, Math.max(title.length, ...t.rows.map((r) => String(r.key).length)));
  const countWidth = Math.max(unit.length, ...t.rows.map((r) => String(r.count).length + 1));
  const out = [`${title.padEnd(keyWidth)}  ${unit.padStart(countWidth)}      %`];
  for (const r of t.rows) {
    const count = `${r.error > 0 ? '~' : ''}${r.count}`;
    const pct = t.total ? ((100 * r.count) / t.total).toFixed(1) : '0.0';
    out.push(`${fit(String(r.key), keyWidth)}  ${count.padStart(countWidth)}  ${pct.padStart(5)}`);
  }
  if (t.approximate) out.push(`(more distinct values than could be kept: ~ marks a count that may be too high)`);
  return out;
}

interface Widths {
  id: number;
  cause: number;
}

function formatEvent(e: ConnectionEvent, w: Widths): string {
  const head = `  ${localTimeUs(wallNsOf(e.time))} ${`#${e.id}`.padEnd(w.id)}`;
  if (e.type === 'reset') {
    return [head, ...resetColumns(e), e.cause.padEnd(w.cause), e.owner ? `${e.owner.pid}/${e.owner.comm}` : '-'].join(' ');
  }
  const after = e.reset_id !== null && e.ms_after_reset !== null ? `, ${formatMs(e.ms_after_reset)} after #${e.reset_id}` : '';
  return `${head} ↳ ${e.pid}/${e.comm} ${e.syscall}() failed: ${e.errno} on ${formatEndpoint(e.laddr, e.lport)}${after}`;
}

function formatConnection(c: ConnectionTimeline, w: Widths): string[] {
  const counts = [plural(c.resets, 'reset'), plural(c.syscall_errors, 'syscall error')].join(', ');
  const partial = c.partial ? ' (followed from its middle: earlier resets not kept)' : '';
  const out = [`${c.endpoints[0]} ↔ ${c.endpoints[1]}: ${counts}${partial}`];
  for (const e of c.events) out.push(formatEvent(e, w));
  if (c.more > 0) out.push(`  … and ${plural(c.more, 'more event')}`);
  return out;
}

function formatConnections(list: ConnectionTimeline[]): string[] {
  if (list.length === 0) return [];
  const events = list.flatMap((c) => c.events);
  const w = {
    id: Math.max(...events.map((e) => String(e.id).length + 1)),
    cause: Math.max(5, ...events.map((e) => (e.type === 'reset' ? e.cause.length : 0))),
  };
  return ['CONNECTIONS WITH THE MOST RESETS', ...list.flatMap((c, i) => (i ? ['', ...formatConnection(c, w)] : formatConnection(c, w)))];
}

/** 1 ms, 200 ms, 10 s, 2 min, 6 h, 1 day */
export function formatWidth(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${ms / 60_000} min`;
  if (ms < 86_400_000) return `${ms / 3_600_000} h`;
  return plural(ms / 86_400_000, 'day');
}

function bucketLabel(ms: number, widthMs: number, withDate: boolean): string {
  const d = new Date(ms);
  const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const time = widthMs < 1000 ? `${hms}.${String(d.getMilliseconds()).padStart(3, '0')}` : widthMs < 86_400_000 ? hms : '';
  return withDate || !time ? `${localDate(ms)} ${time}`.trimEnd() : time;
}

function formatHistogram(h: Summary['histogram']): string[] {
  if (h.buckets.length === 0) return [];
  const first = h.buckets[0]!.start_ms;
  const last = h.buckets[h.buckets.length - 1]!.start_ms;
  const withDate = localDate(first) !== localDate(last);
  const labels = h.buckets.map((b) => bucketLabel(b.start_ms, h.bucket_ms, withDate));
  const labelWidth = Math.max(4, ...labels.map((l) => l.length));
  const max = Math.max(...h.buckets.map((b) => b.resets));
  const countWidth = Math.max(6, String(max).length);
  const out = [`RESETS PER ${formatWidth(h.bucket_ms)}`, `${'TIME'.padEnd(labelWidth)} ${'COUNT'.padStart(countWidth)}  DISTRIBUTION`];
  h.buckets.forEach((b, i) => {
    const n = b.resets === 0 ? 0 : Math.max(1, Math.round((b.resets / max) * BAR_WIDTH));
    out.push(`${labels[i]!.padEnd(labelWidth)} ${String(b.resets).padStart(countWidth)}  |${'*'.repeat(n).padEnd(BAR_WIDTH)}|`);
  });
  return out;
}

function spanText(first: string, last: string, span_s: number): string {
  const from = localDateTime(first);
  const to = localDateTime(last);
  // the date once, unless the capture crosses midnight
  return `${from} → ${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to} (${seconds(span_s)})`;
}

/** `live`: a summary of this run (rsttrace --summary), not of a file: no lines or sessions to speak of. */
export function formatReportText(r: Report, live = false): string {
  const span = r.first && r.last ? spanText(r.first, r.last, r.span_s) : 'no records';
  const read = live ? [`${r.lost} lost`] : [plural(r.lines, 'line'), plural(r.records, 'record'), plural(r.sessions, 'session'), `${r.lost} lost`];
  if (r.skipped) read.push(`${plural(r.skipped, 'malformed line')} skipped (see stderr)`);
  if (r.other_records) read.push(`${plural(r.other_records, 'record')} of types this version does not know`);
  const e = r.syscall_errors;
  const sections: string[][] = [
    [
      `rsttrace ${live ? 'summary' : 'report'}: ${r.input}`,
      `  ${read.join(' · ')}`,
      `  ${span}`,
      `  ${plural(r.resets.total, 'reset')}: ${r.resets.sent} sent, ${r.resets.received} received · ${plural(e.total, 'syscall error')}, ${e.linked} linked to a reset`,
    ],
    formatTable('CAUSE', 'RESETS', r.causes),
    formatTable('OWNER', 'RESETS', r.owners),
    formatTable('REMOTE ADDRESS', 'RESETS', r.remote_addresses),
    formatTable('LOCAL PORT', 'RESETS', r.local_ports),
    formatTable('ERRNO', 'ERRORS', r.errnos),
    formatConnections(r.connections),
    formatHistogram(r.histogram),
  ];
  return sections
    .filter((s) => s.length)
    .map((s) => s.join('\n'))
    .join('\n\n')
    .concat('\n');
}

/** One object; times as ISO-8601 (ts_ns, rounded once parsed, is left out). */
export function formatReportJson(r: Report): string {
  const { connections, histogram, ...rest } = r;
  return (
    JSON.stringify({
      ...rest,
      connections: connections.map((c) => ({ ...c, events: c.events.map(({ ts_ns: _ts, ...ev }) => ev) })),
      histogram: {
        bucket_ms: histogram.bucket_ms,
        buckets: histogram.buckets.map((b) => ({ start: new Date(b.start_ms).toISOString(), resets: b.resets })),
      },
    }) + '\n'
  );
}
