/**
 * rsttrace report on small captures: the reader against what a damaged
 * file holds (garbage, cut lines, a huge line, blank lines, CRLF, other
 * schema versions), the bounded counters and histogram, and the text and
 * JSON that lines written by a real run turn into.
 */
process.env.TZ = 'UTC';

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { SyscallErrorEvent } from '../../src/event.js';
import { formatJsonLine, formatLost } from '../../src/output/jsonl.js';
import { Aggregator } from '../../src/report/aggregate.js';
import { formatReportJson, formatReportText, formatWidth, wallNsOf, type Report } from '../../src/report/format.js';
import { TimeHistogram } from '../../src/report/histogram.js';
import { JsonlReader, MAX_LINE_BYTES, type ReadItem } from '../../src/report/reader.js';
import { TopCounter } from '../../src/report/topn.js';
import { resetFixture, WALL } from './fixtures.js';

/**
 * Lines a real run wrote (rsttrace -w, Linux 6.18): the start; a refused
 * connect (the RST sent for the closed port, the one the client took, its
 * connect() failing); KB Q152474's TIME_WAIT form (the late reply's RST,
 * the server taking it, its send() failing with EPIPE); the end.
 */
const REAL = [
  String.raw`{"type":"session_start","schema_version":1,"time":"2026-11-21T08:18:12.998703494Z","ts_ns":1795249092998703494,"host":"vm","kernel":"6.18.44-fc-v657","rsttrace_version":"0.1.0","pid":20372,"mono_ns":1372990345011,"options":{"output":"text","write":"/tmp/rr/cap.jsonl","force":false,"quiet":true,"brief":false,"verbose":false,"ring_buffer_mib":8}}`,
  String.raw`{"type":"reset","schema_version":1,"time":"2026-11-21T08:18:13.090846114Z","ts_ns":1795249093090846114,"id":1,"direction":"send","mono_ns":1373082427632,"family":"ipv4","laddr":"127.0.0.1","lport":9,"raddr":"127.0.0.1","rport":54972,"state":null,"reason":"NO_SOCKET","reason_code":1,"netns":4026532177,"sock_cookie":null,"cpu":0,"current":{"pid":20409,"tid":20409,"comm":"rstscen"},"owner":null,"context":{"kind":"softirq","syscall":"connect","pid":20409,"comm":"rstscen","timer":null},"kernel_path":{"signature":"tcp_v4_rcv → tcp_v4_send_reset","stack":["tcp_v4_send_reset","tcp_v4_rcv","ip_protocol_deliver_rcu","ip_local_deliver_finish","__netif_receive_skb_one_core","process_backlog","__napi_poll","net_rx_action","handle_softirqs","do_softirq.part.0","__local_bh_enable_ip","__dev_queue_xmit","ip_finish_output2","ip_output","__ip_queue_xmit","__tcp_transmit_skb","tcp_connect","tcp_v4_connect","__inet_stream_connect","inet_stream_connect","__sys_connect","__x64_sys_connect","do_syscall_64","entry_SYSCALL_64_after_hwframe"]},"socket":null,"history":[],"segment":{"flags":["SYN"],"seq":893347561,"ack":0,"window":65495,"payload_bytes":0},"peer_event_id":null,"cause":{"code":"closed-port","summary":"connection attempt from 127.0.0.1:54972 to 127.0.0.1:9: nothing listens on port 9","fix":"start the service on port 9, or point the client at the right address and port"}}`,
  String.raw`{"type":"reset","schema_version":1,"time":"2026-11-21T08:18:13.090935166Z","ts_ns":1795249093090935166,"id":2,"direction":"recv","mono_ns":1373082516684,"family":"ipv4","laddr":"127.0.0.1","lport":54972,"raddr":"127.0.0.1","rport":9,"state":"SYN_SENT","reason":null,"reason_code":null,"netns":4026532177,"sock_cookie":11646,"cpu":0,"current":{"pid":20409,"tid":20409,"comm":"rstscen"},"owner":{"pid":20409,"tid":20409,"comm":"rstscen","uid":0,"cmdline":null,"cgroup":"/unified","container_id":null,"source":"socket","last_syscall":"connect","last_syscall_ms_before":0.126879,"closed_ms_before":null},"context":{"kind":"syscall","syscall":"connect","pid":20409,"comm":"rstscen","timer":null},"kernel_path":{"signature":"tcp_rcv_state_process → tcp_reset","stack":["tcp_reset","tcp_rcv_state_process","tcp_v4_do_rcv","__release_sock","release_sock","__inet_stream_connect","inet_stream_connect","__sys_connect","__x64_sys_connect","do_syscall_64","entry_SYSCALL_64_after_hwframe"]},"socket":{"rcv_unread_bytes":0,"snd_unsent_bytes":0,"snd_unacked_bytes":1,"shutdown":[],"linger_sec":null},"history":[{"from":"CLOSE","to":"SYN_SENT","ms_before":0.125947}],"segment":null,"peer_event_id":1,"cause":{"code":"connection-refused","summary":"connect() from pid 20409 (rstscen) to 127.0.0.1:9 was refused: nothing listens there (or a firewall rejects with RST)","fix":"start the service on 127.0.0.1:9, or fix the address and port the client uses"}}`,
  String.raw`{"type":"syscall_error","schema_version":1,"time":"2026-11-21T08:18:13.090954786Z","ts_ns":1795249093090954786,"id":3,"reset_id":2,"mono_ns":1373082536304,"ms_after_reset":0.01962,"pid":20409,"tid":20409,"comm":"rstscen","syscall":"connect","errno":"ECONNREFUSED","family":"ipv4","laddr":"127.0.0.1","lport":54972,"raddr":"127.0.0.1","rport":9,"state":"CLOSE","netns":4026532177,"sock_cookie":11646}`,
  String.raw`{"type":"reset","schema_version":1,"time":"2026-11-21T08:18:13.140908291Z","ts_ns":1795249093140908291,"id":7,"direction":"send","mono_ns":1373132489809,"family":"ipv4","laddr":"127.0.0.1","lport":36292,"raddr":"127.0.0.1","rport":37591,"state":"TIME_WAIT","reason":"TCP_TIMEWAIT_SOCKET","reason_code":9,"netns":4026532177,"sock_cookie":17387,"cpu":1,"current":{"pid":20413,"tid":20413,"comm":"rstscen"},"owner":{"pid":20412,"tid":20412,"comm":"rstscen","uid":0,"cmdline":"build/scenarios/rstscen kb-timewait 127.0.0.1","cgroup":"/","container_id":null,"source":"tuple","last_syscall":"close","last_syscall_ms_before":0.099939,"closed_ms_before":0.099939},"context":{"kind":"softirq","syscall":"sendto","pid":20413,"comm":"rstscen","timer":null},"kernel_path":{"signature":"tcp_v4_rcv → tcp_v4_send_reset","stack":["tcp_v4_send_reset","tcp_v4_rcv","ip_protocol_deliver_rcu","ip_local_deliver_finish","__netif_receive_skb_one_core","process_backlog","__napi_poll","net_rx_action","handle_softirqs","do_softirq.part.0","__local_bh_enable_ip","__dev_queue_xmit","ip_finish_output2","ip_output","__ip_queue_xmit","__tcp_transmit_skb","tcp_write_xmit","__tcp_push_pending_frames","tcp_sendmsg_locked","tcp_sendmsg","__sys_sendto","__x64_sys_sendto","do_syscall_64","entry_SYSCALL_64_after_hwframe"]},"socket":null,"history":[{"from":"CLOSE","to":"SYN_SENT","ms_before":42.224272},{"from":"SYN_SENT","to":"ESTABLISHED","ms_before":42.18242},{"from":"ESTABLISHED","to":"FIN_WAIT1","ms_before":42.063563},{"from":"FIN_WAIT1","to":"FIN_WAIT2","ms_before":0.41539},{"from":"FIN_WAIT2","to":"FIN_WAIT2","ms_before":0.091707},{"from":"FIN_WAIT2","to":"CLOSE","ms_before":0.085057}],"segment":{"flags":["PSH","ACK"],"seq":1530448481,"ack":440171818,"window":64,"payload_bytes":29},"peer_event_id":null,"cause":{"code":"late-data-timewait","summary":"29 bytes from 127.0.0.1:37591 arrived 0.100 ms after pid 20412 (rstscen) closed the connection (now in TIME_WAIT): the peer was still sending","fix":"don't close() while the peer may still send: after shutdown(SHUT_WR), read until EOF (the peer's close), then close(); or have the protocol say when the peer is done"}}`,
  String.raw`{"type":"reset","schema_version":1,"time":"2026-11-21T08:18:13.140991685Z","ts_ns":1795249093140991685,"id":8,"direction":"recv","mono_ns":1373132573203,"family":"ipv4","laddr":"127.0.0.1","lport":37591,"raddr":"127.0.0.1","rport":36292,"state":"CLOSE_WAIT","reason":null,"reason_code":null,"netns":4026532177,"sock_cookie":17388,"cpu":1,"current":{"pid":20413,"tid":20413,"comm":"rstscen"},"owner":{"pid":20413,"tid":20413,"comm":"rstscen","uid":0,"cmdline":null,"cgroup":"/","container_id":null,"source":"socket","last_syscall":"accept","last_syscall_ms_before":42.201087,"closed_ms_before":null},"context":{"kind":"syscall","syscall":"sendto","pid":20413,"comm":"rstscen","timer":null},"kernel_path":{"signature":"tcp_validate_incoming → tcp_reset","stack":["tcp_reset","tcp_validate_incoming","tcp_rcv_state_process","tcp_v4_do_rcv","__release_sock","release_sock","tcp_sendmsg","__sys_sendto","__x64_sys_sendto","do_syscall_64","entry_SYSCALL_64_after_hwframe"]},"socket":{"rcv_unread_bytes":0,"snd_unsent_bytes":0,"snd_unacked_bytes":29,"shutdown":["read"],"linger_sec":null},"history":[{"from":"LISTEN","to":"SYN_RECV","ms_before":42.258583},{"from":"SYN_RECV","to":"ESTABLISHED","ms_before":42.253706},{"from":"ESTABLISHED","to":"CLOSE_WAIT","ms_before":42.143491}],"segment":null,"peer_event_id":7,"cause":{"code":"reset-by-peer","summary":"127.0.0.1:36292 reset the connection (here in CLOSE_WAIT); pid 20413 (rstscen) sees EPIPE; the peer is on this host: see event #7","fix":"see why the peer reset it (event #7)"}}`,
  String.raw`{"type":"syscall_error","schema_version":1,"time":"2026-11-21T08:18:13.141006017Z","ts_ns":1795249093141006017,"id":9,"reset_id":8,"mono_ns":1373132587535,"ms_after_reset":0.014332,"pid":20413,"tid":20413,"comm":"rstscen","syscall":"sendto","errno":"EPIPE","family":"ipv4","laddr":"127.0.0.1","lport":37591,"raddr":"127.0.0.1","rport":36292,"state":"CLOSE","netns":4026532177,"sock_cookie":17388}`,
  String.raw`{"type":"session_end","schema_version":1,"time":"2026-11-21T08:18:13.809967630Z","ts_ns":1795249093809967630,"reason":"signal SIGINT","duration_s":0.961,"resets":15,"sent":7,"received":8,"syscall_errors":8,"lost":0}`,
];

function errorLine(over: Partial<SyscallErrorEvent> = {}): string {
  return formatJsonLine({
    type: 'syscall_error',
    id: 8,
    reset_id: 7,
    wall_ns: WALL + 50_000n,
    mono_ns: 289_729_202_447,
    ms_after_reset: 0.05,
    pid: 4711,
    tid: 4711,
    comm: 'curl',
    syscall: 'connect',
    errno: 'ECONNREFUSED',
    family: 'ipv6',
    laddr: '::1',
    lport: 51234,
    raddr: '::1',
    rport: 9,
    state: 'CLOSE',
    netns: 4026531833,
    sock_cookie: 12,
    ...over,
  });
}

async function readAll(chunks: (string | Uint8Array)[], maxLineBytes?: number): Promise<{ items: ReadItem[]; lines: number }> {
  const reader = new JsonlReader(maxLineBytes);
  const items: ReadItem[] = [];
  for await (const item of reader.read(Readable.from(chunks))) items.push(item);
  return { items, lines: reader.lines };
}

const kinds = (items: ReadItem[]) => items.map((i) => `${i.line}:${i.kind}`);
const problem = (items: ReadItem[], line: number) => {
  const found = items.find((i) => i.line === line);
  return found?.kind === 'problem' ? found.problem : `no problem on line ${line}: ${JSON.stringify(found)}`;
};

/** What the command does, minus the file: reader → aggregator. */
async function reportOf(lines: string[], top = 10): Promise<Report> {
  const agg = new Aggregator({ top });
  const { items, lines: n } = await readAll([lines.join('\n') + '\n']);
  let skipped = 0;
  for (const item of items) {
    if (item.kind === 'record') agg.add(item.record);
    else skipped++;
  }
  return { input: 'capture.jsonl', lines: n, skipped, ...agg.summary() };
}

describe('reading JSON lines', () => {
  it('real lines are records, numbered from 1; blank lines and a last line without newline are fine', async () => {
    const { items, lines } = await readAll([`${REAL[0]}\n\n${REAL[1]}\n   \n${REAL[2]}`]);
    expect(kinds(items)).toEqual(['1:record', '3:record', '5:record']);
    expect(lines).toBe(5);
    expect(items.map((i) => i.kind === 'record' && i.record.type)).toEqual(['session_start', 'reset', 'reset']);
  });

  it('CRLF line ends are read as LF', async () => {
    const { items } = await readAll([REAL.slice(1, 4).join('\r\n') + '\r\n\r\n']);
    expect(kinds(items)).toEqual(['1:record', '2:record', '3:record']);
  });

  it('however the bytes are cut into chunks, the same records come out (a character split between chunks too)', async () => {
    const owner = { pid: 7, tid: 7, comm: 'naïve→düsen', uid: 0, cmdline: null, cgroup: null, container_id: null, source: 'socket' as const, last_syscall: null, last_syscall_ms_before: null, closed_ms_before: null };
    const text = Buffer.from([...REAL, formatJsonLine(resetFixture({ owner }))].join('\n') + '\n');
    const whole = await readAll([text]);
    const byByte = await readAll([...text].map((b) => Uint8Array.of(b)));
    expect(byByte.items).toEqual(whole.items);
    expect(whole.items).toHaveLength(REAL.length + 1);
    expect(whole.items.every((i) => i.kind === 'record')).toBe(true);
    expect(byByte.items.at(-1)).toMatchObject({ record: { owner: { pid: 7, comm: 'naïve→düsen' } } });
  });

  it('garbage, cut lines, wrong types and other versions: each named with its line number, the good lines still read', async () => {
    const cut = REAL[4]!.slice(0, 300);
    const lines = [
      REAL[1]!, // 1
      'Nov 21 08:18:13 vm kernel: TCP: request_sock_TCP: Possible SYN flooding', // 2
      cut, // 3
      '[1, 2, 3]', // 4
      '{"schema_version":1,"time":"x"}', // 5
      REAL[2]!.replace('"schema_version":1', '"schema_version":2'), // 6
      REAL[2]!.replace('"lport":54972', '"lport":"54972"'), // 7
      REAL[1]!.replace(/"cause":\{"code":"closed-port",/, '"cause":{"code":7,'), // 8
      REAL[2]!.replace(/,"schema_version":1/, ''), // 9
      '{"type":"exotic","schema_version":1,"time":"2026-11-21T08:18:13.090846114Z","ts_ns":1795249093090846114}', // 10
      errorLine({ errno: 'EPIPE' }).replace('"ts_ns":', '"ts_ns":"').replace(',"id"', '","id"'), // 11
      'null', // 12
      REAL[3]!, // 13
      cut, // 14: the last, without newline
    ];
    const { items, lines: n } = await readAll([lines.join('\n')]);
    expect(n).toBe(14);
    expect(kinds(items)).toEqual([
      '1:record', '2:problem', '3:problem', '4:problem', '5:problem', '6:problem', '7:problem',
      '8:problem', '9:problem', '10:record', '11:problem', '12:problem', '13:record', '14:problem',
    ]);
    expect(problem(items, 2)).toMatch(/^not JSON \(Unexpected token/);
    expect(problem(items, 3)).toMatch(/^not JSON \(/);
    expect(problem(items, 3)).not.toMatch(/cut short/);
    expect(problem(items, 4)).toBe('not a JSON object (an array)');
    expect(problem(items, 5)).toBe('no "type": not an rsttrace record');
    expect(problem(items, 6)).toBe('schema_version 2 is not one this rsttrace reads (1)');
    expect(problem(items, 7)).toBe('reset: "lport" is "54972", expected a whole number from 0');
    expect(problem(items, 8)).toBe('reset: "cause.code" is 7, expected a string');
    expect(problem(items, 9)).toBe('no "schema_version": not an rsttrace record');
    expect(items[9]).toMatchObject({ kind: 'record', record: { type: 'other', name: 'exotic' } });
    expect(problem(items, 11)).toMatch(/^syscall_error: "ts_ns" is "1795248009737415224", expected ns since the epoch$/);
    expect(problem(items, 12)).toBe('not a JSON object (null)');
    expect(problem(items, 14)).toMatch(/the last line has no newline: was the capture cut short\?$/);
  });

  it('a line longer than the limit is one problem, never held whole; the next line keeps its number', async () => {
    const big = `{"type":"reset","pad":"${'x'.repeat(3 * 1024)}"}`;
    const { items } = await readAll([REAL[1]! + '\n', big.slice(0, 1000), big.slice(1000) + '\n' + REAL[2]! + '\n'], 2048);
    expect(kinds(items)).toEqual(['1:record', '2:problem', '3:record']);
    expect(problem(items, 2)).toBe(`line of ${big.length} bytes, longer than the 2048 a record may have`);
  });

  it('the default limit takes the longest real line with room to spare, and refuses a 2 MiB one', async () => {
    expect(Math.max(...REAL.map((l) => l.length)) * 100).toBeLessThan(MAX_LINE_BYTES);
    const huge = Buffer.alloc(2 * MAX_LINE_BYTES, 'a');
    const { items } = await readAll([huge, Buffer.from('\n' + REAL[1]! + '\n')]);
    expect(kinds(items)).toEqual(['1:problem', '2:record']);
  });

  it('bytes that are not UTF-8 or not text at all are problems, not crashes', async () => {
    const { items } = await readAll([Uint8Array.of(0xff, 0xfe, 0x00, 0x7b, 0x0a, 0xc3, 0x28, 0x0a)]);
    expect(kinds(items)).toEqual(['1:problem', '2:problem']);
  });
});

describe('bounded counting', () => {
  it('TopCounter is exact up to its capacity', () => {
    const c = new TopCounter<string>(3);
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) c.add(k);
    expect(c.top(2)).toEqual([
      { key: 'a', count: 3, error: 0 },
      { key: 'b', count: 2, error: 0 },
    ]);
    expect(c.approximate).toBe(false);
    expect(c.total).toBe(6);
  });

  it('past its capacity it keeps the heavy hitters, with counts never too low and errors that say by how much they may be high', () => {
    const c = new TopCounter<number>(10);
    const truth = new Map<number, number>();
    let x = 1;
    for (let i = 0; i < 20_000; i++) {
      // 3 heavy keys among a long tail of 5000
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const key = i % 4 === 0 ? 0 : i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 100 + (x % 5000);
      c.add(key);
      truth.set(key, (truth.get(key) ?? 0) + 1);
    }
    expect(c.size).toBe(10);
    expect(c.approximate).toBe(true);
    const top = c.top(3);
    expect(top.map((r) => r.key)).toEqual([0, 1, 2]);
    for (const r of c.top(10)) {
      expect(r.count).toBeGreaterThanOrEqual(truth.get(r.key)!);
      expect(r.count - r.error).toBeLessThanOrEqual(truth.get(r.key)!);
    }
  });

  it('the histogram widens in steps that divide each other, never losing a count, and starts buckets at whole multiples', () => {
    const h = new TimeHistogram(40);
    const t0 = 1_795_249_093_090; // ms
    for (let i = 0; i < 121; i++) h.add(t0 + i); // 121 ms at 1 ms: too many buckets
    expect(h.widthMs).toBe(10);
    const b = h.buckets();
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(121);
    expect(b.every((x) => x.startMs % 10 === 0)).toBe(true);
    expect(b.length).toBeLessThanOrEqual(40);
    h.add(t0 + 3_600_000); // an hour later
    expect(h.widthMs).toBe(120_000);
    expect(h.buckets().reduce((s, x) => s + x.count, 0)).toBe(122);
    h.add(t0 - 86_400_000 * 30); // a month earlier, out of order
    expect(h.buckets().length).toBeLessThanOrEqual(40);
    expect(h.buckets().reduce((s, x) => s + x.count, 0)).toBe(123);
    expect(formatWidth(h.widthMs)).toMatch(/^\d+ days?$/);
    expect([1, 200, 2000, 60_000, 7_200_000, 86_400_000].map(formatWidth)).toEqual(['1 ms', '200 ms', '2 s', '1 min', '2 h', '1 day']);
  });

  it('a timeline keeps the first 20 events of a connection and counts the rest; both ends are one connection', async () => {
    const lines = [];
    for (let i = 0; i < 30; i++) {
      const a = { laddr: '10.0.0.1', lport: 443, raddr: '10.0.0.2', rport: 51000 };
      const b = { laddr: '10.0.0.2', lport: 51000, raddr: '10.0.0.1', rport: 443 };
      lines.push(formatJsonLine(resetFixture({ id: 2 * i + 1, family: 'ipv4', ...(i % 2 ? a : b), wall_ns: WALL + BigInt(i) * 1_000_000n })));
    }
    lines.push(errorLine({ id: 99, reset_id: 1, family: 'ipv4', laddr: '10.0.0.2', lport: 51000, raddr: '10.0.0.1', rport: 443, wall_ns: WALL + 40_000_000n }));
    // an error on a connection with no reset is no reset's consequence: not in a timeline
    lines.push(errorLine({ id: 100, family: 'ipv4', laddr: '10.0.0.9', lport: 1, raddr: '10.0.0.8', rport: 2 }));
    const r = await reportOf(lines);
    expect(r.connections).toHaveLength(1);
    expect(r.connections[0]).toMatchObject({ endpoints: ['10.0.0.1:443', '10.0.0.2:51000'], resets: 30, syscall_errors: 1, partial: false, more: 11 });
    expect(r.connections[0]!.events).toHaveLength(20);
    expect(r.syscall_errors.total).toBe(2);
    expect(formatReportText(r)).toContain('  … and 11 more events');
  });

  it('one reset per connection for many connections keeps memory bounded and says its counts are approximate', async () => {
    const lines = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(formatJsonLine(resetFixture({ id: i + 1, raddr: `198.18.${i >> 8}.${i & 255}`, rport: 1000 + i, wall_ns: WALL + BigInt(i) * 1000n })));
    }
    const r = await reportOf(lines, 5);
    expect(r.resets.total).toBe(3000);
    expect(r.remote_addresses.approximate).toBe(true);
    expect(r.remote_addresses.rows).toHaveLength(5);
    expect(r.connections).toHaveLength(5);
    expect(r.histogram.buckets.length).toBeLessThanOrEqual(40);
    expect(formatReportText(r)).toContain('~ marks a count that may be too high');
  });
});

describe('the report of a real capture', () => {
  it('counts by direction, cause, owner, peer, port and errno; one timeline per connection, both ends together', async () => {
    const r = await reportOf(REAL);
    expect(r).toMatchObject({
      lines: 8,
      records: 8,
      skipped: 0,
      sessions: 1,
      lost: 0,
      first: '2026-11-21T08:18:12.998703494Z',
      last: '2026-11-21T08:18:13.809967630Z',
      resets: { total: 4, sent: 2, received: 2 },
      syscall_errors: { total: 2, linked: 2 },
    });
    expect(r.causes.rows.map((x) => [x.key, x.count])).toEqual([
      ['closed-port', 1],
      ['connection-refused', 1],
      ['late-data-timewait', 1],
      ['reset-by-peer', 1],
    ]);
    expect(r.owners.rows.map((x) => x.key)).toEqual(['-', '20409/rstscen', '20412/rstscen', '20413/rstscen']);
    expect(r.errnos.rows.map((x) => [x.key, x.count])).toEqual([
      ['ECONNREFUSED', 1],
      ['EPIPE', 1],
    ]);
    const kb = r.connections.find((c) => c.endpoints.includes('127.0.0.1:36292'))!;
    expect(kb).toMatchObject({ endpoints: ['127.0.0.1:36292', '127.0.0.1:37591'], resets: 2, syscall_errors: 1, partial: false, more: 0 });
    expect(kb.events.map((e) => [e.id, e.type])).toEqual([
      [7, 'reset'],
      [8, 'reset'],
      [9, 'syscall_error'],
    ]);
  });

  it('as text', async () => {
    expect(formatReportText(await reportOf(REAL))).toBe(TEXT);
  });

  it('as JSON: the same numbers, times as ISO-8601, for scripts', async () => {
    const j = JSON.parse(formatReportJson(await reportOf(REAL)));
    expect(j).toMatchObject({ input: 'capture.jsonl', resets: { total: 4 }, histogram: { bucket_ms: 10 } });
    expect(j.connections[1].events[2]).toEqual({
      type: 'syscall_error',
      time: '2026-11-21T08:18:13.141006017Z',
      id: 9,
      reset_id: 8,
      ms_after_reset: 0.014332,
      pid: 20413,
      comm: 'rstscen',
      syscall: 'sendto',
      errno: 'EPIPE',
      family: 'ipv4',
      laddr: '127.0.0.1',
      lport: 37591,
      raddr: '127.0.0.1',
      rport: 36292,
    });
    expect(j.histogram.buckets[0]).toEqual({ start: '2026-11-21T08:18:13.090Z', resets: 2 });
  });

  it('lost records add up; an empty capture is a report of nothing', async () => {
    const r = await reportOf([formatLost(WALL, 3, 3), formatLost(WALL + 1000n, 2, 5)]);
    expect(r.lost).toBe(5);
    const empty = formatReportText(await reportOf([]));
    expect(empty).toContain('no records');
    expect(empty).not.toContain('CAUSE');
  });

  it('exact times come from the ISO field, not the rounded ts_ns', () => {
    expect(wallNsOf('2026-11-21T08:18:13.141006017Z')).toBe(1_795_249_093_141_006_017n);
  });
});

describe('rsttrace report FILE', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(argv: string[]) {
    const err: string[] = [];
    const outFile = path.join(dir, `out-${Math.random()}`);
    const fd = openSync(outFile, 'w');
    let code: number;
    try {
      code = await main(argv, { stdoutFd: fd, stderr: (l) => err.push(l) });
    } finally {
      closeSync(fd);
    }
    return { code, err, out: readFileSync(outFile, 'utf8') };
  }

  function capture(name: string, lines: string[]): string {
    const file = path.join(dir, name);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  it('a good capture: the report, exit status 0, nothing on stderr', async () => {
    const { code, err, out } = await run(['report', capture('good.jsonl', REAL)]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toContain('  4 resets: 2 sent, 2 received');
  });

  it('malformed lines: the first 10 named as FILE:LINE, then a count; the rest reported; exit status 1', async () => {
    const lines = [REAL[1]!];
    for (let i = 0; i < 12; i++) lines.push(`garbage ${i}`);
    lines.push(REAL[2]!);
    const file = capture('bad.jsonl', lines);
    const { code, err, out } = await run(['report', file]);
    expect(code).toBe(1);
    expect(err.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => expect.stringMatching(new RegExp(`^rsttrace: ${file}:${i + 2}: not JSON \\(`))));
    expect(err.slice(10)).toEqual([`rsttrace: ${file}: 2 more malformed lines not shown`, `rsttrace: 12 malformed lines of 14 skipped in ${file}`]);
    expect(out).toContain('12 malformed lines skipped (see stderr)');
    expect(out).toContain('  2 resets: 1 sent, 1 received');
  });

  it('--strict stops at the first malformed line, prints no report, exit status 1', async () => {
    const file = capture('strict.jsonl', [REAL[1]!, '{"type":"reset","schema_version":7}', 'junk']);
    const { code, err, out } = await run(['report', '--strict', file]);
    expect(code).toBe(1);
    expect(err).toEqual([`rsttrace: ${file}:2: schema_version 7 is not one this rsttrace reads (1)`, 'rsttrace: stopped at the first malformed line (--strict)']);
    expect(out).toBe('');
  });

  it('-o json writes one object', async () => {
    const { code, out } = await run(['report', '-o', 'json', '--top', '1', capture('json.jsonl', REAL)]);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.causes.rows).toHaveLength(1);
    expect(j.connections).toHaveLength(1);
  });

  it('a file that is not there, or a directory: one line, exit status 1', async () => {
    const missing = await run(['report', path.join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`rsttrace: cannot read ${path.join(dir, 'nope.jsonl')}: no such file or directory`]);
    const directory = await run(['report', dir]);
    expect(directory.code).toBe(1);
    expect(directory.err).toEqual([`rsttrace: cannot read ${dir}: it is a directory; give the JSON lines file written by rsttrace -w`]);
  });

  it('bad options are usage errors (exit status 2)', async () => {
    expect((await run(['report', '--top', '0', 'x'])).code).toBe(2);
    expect((await run(['report', '-o', 'xml', 'x'])).code).toBe(2);
    expect((await run(['report'])).code).toBe(2);
  });
});

const TEXT = `rsttrace report: capture.jsonl
  8 lines · 8 records · 1 session · 0 lost
  2026-11-21 08:18:12.998703 → 08:18:13.809967 (0.811 s)
  4 resets: 2 sent, 2 received · 2 syscall errors, 2 linked to a reset

CAUSE               RESETS      %
closed-port              1   25.0
connection-refused       1   25.0
late-data-timewait       1   25.0
reset-by-peer            1   25.0

OWNER          RESETS      %
-                   1   25.0
20409/rstscen       1   25.0
20412/rstscen       1   25.0
20413/rstscen       1   25.0

REMOTE ADDRESS  RESETS      %
127.0.0.1            4  100.0

LOCAL PORT  RESETS      %
9                1   25.0
36292            1   25.0
37591            1   25.0
54972            1   25.0

ERRNO         ERRORS      %
ECONNREFUSED       1   50.0
EPIPE              1   50.0

CONNECTIONS WITH THE MOST RESETS
127.0.0.1:9 ↔ 127.0.0.1:54972: 2 resets, 1 syscall error
  08:18:13.090846 #1 SEND 127.0.0.1:9           →  127.0.0.1:54972       -           NO_SOCKET               closed-port        -
  08:18:13.090935 #2 RECV 127.0.0.1:54972       →  127.0.0.1:9           SYN_SENT    -                       connection-refused 20409/rstscen
  08:18:13.090954 #3 ↳ 20409/rstscen connect() failed: ECONNREFUSED on 127.0.0.1:54972, 0.020 ms after #2

127.0.0.1:36292 ↔ 127.0.0.1:37591: 2 resets, 1 syscall error
  08:18:13.140908 #7 SEND 127.0.0.1:36292       →  127.0.0.1:37591       TIME_WAIT   TCP_TIMEWAIT_SOCKET     late-data-timewait 20412/rstscen
  08:18:13.140991 #8 RECV 127.0.0.1:37591       →  127.0.0.1:36292       CLOSE_WAIT  -                       reset-by-peer      20413/rstscen
  08:18:13.141006 #9 ↳ 20413/rstscen sendto() failed: EPIPE on 127.0.0.1:37591, 0.014 ms after #8

RESETS PER 10 ms
TIME          COUNT  DISTRIBUTION
08:18:13.090      2  |****************************************|
08:18:13.100      0  |                                        |
08:18:13.110      0  |                                        |
08:18:13.120      0  |                                        |
08:18:13.130      0  |                                        |
08:18:13.140      2  |****************************************|
`;
