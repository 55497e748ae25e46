#!/usr/bin/env node
/**
 * How fast `rsttrace report` reads a large capture, and in how much memory.
 * Writes a synthetic capture of LINES events (default 1,000,000) to a temp
 * directory: one session_start, then resets and failed syscalls shaped
 * exactly like real ones (the two templates below are lines a real run
 * wrote; ids, times, ports, peers, owners and causes vary), then a
 * session_end. Then times `node dist/cli.js report FILE` in a child that
 * reports its own peak RSS, and prints a Markdown section on stdout.
 *
 *   node bench/report.mjs [--lines N] [--keep]
 *
 * Needs dist/ (npx tsc -p tsconfig.json); no root, no addon.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

// Written by `rsttrace -w` on Linux 6.18 (scenario kb-timewait): the reset
// the client's TIME_WAIT socket sent, and the server's send() that failed.
const RESET_LINE = String.raw`{"type":"reset","schema_version":1,"time":"2026-11-21T08:18:13.140908291Z","ts_ns":1795249093140908291,"id":7,"direction":"send","mono_ns":1373132489809,"family":"ipv4","laddr":"127.0.0.1","lport":36292,"raddr":"127.0.0.1","rport":37591,"state":"TIME_WAIT","reason":"TCP_TIMEWAIT_SOCKET","reason_code":9,"netns":4026532177,"sock_cookie":17387,"cpu":1,"current":{"pid":20413,"tid":20413,"comm":"rstscen"},"owner":{"pid":20412,"tid":20412,"comm":"rstscen","uid":0,"cmdline":"build/scenarios/rstscen kb-timewait 127.0.0.1","cgroup":"/","container_id":null,"source":"tuple","last_syscall":"close","last_syscall_ms_before":0.099939,"closed_ms_before":0.099939},"context":{"kind":"softirq","syscall":"sendto","pid":20413,"comm":"rstscen","timer":null},"kernel_path":{"signature":"tcp_v4_rcv → tcp_v4_send_reset","stack":["tcp_v4_send_reset","tcp_v4_rcv","ip_protocol_deliver_rcu","ip_local_deliver_finish","__netif_receive_skb_one_core","process_backlog","__napi_poll","net_rx_action","handle_softirqs","do_softirq.part.0","__local_bh_enable_ip","__dev_queue_xmit","ip_finish_output2","ip_output","__ip_queue_xmit","__tcp_transmit_skb","tcp_write_xmit","__tcp_push_pending_frames","tcp_sendmsg_locked","tcp_sendmsg","__sys_sendto","__x64_sys_sendto","do_syscall_64","entry_SYSCALL_64_after_hwframe"],"stack_from_event":null},"socket":null,"history":[{"from":"CLOSE","to":"SYN_SENT","ms_before":42.224272},{"from":"SYN_SENT","to":"ESTABLISHED","ms_before":42.18242},{"from":"ESTABLISHED","to":"FIN_WAIT1","ms_before":42.063563},{"from":"FIN_WAIT1","to":"FIN_WAIT2","ms_before":0.41539},{"from":"FIN_WAIT2","to":"FIN_WAIT2","ms_before":0.091707},{"from":"FIN_WAIT2","to":"CLOSE","ms_before":0.085057}],"segment":{"flags":["PSH","ACK"],"seq":1530448481,"ack":440171818,"window":64,"payload_bytes":29},"peer_event_id":null,"cause":{"code":"late-data-timewait","summary":"29 bytes from 127.0.0.1:37591 arrived 0.100 ms after pid 20412 (rstscen) closed the connection (now in TIME_WAIT): the peer was still sending","fix":"don't close() while the peer may still send: after shutdown(SHUT_WR), read until EOF (the peer's close), then close(); or have the protocol say when the peer is done"}}`;
const ERROR_LINE = String.raw`{"type":"syscall_error","schema_version":1,"time":"2026-11-21T08:18:13.141006017Z","ts_ns":1795249093141006017,"id":9,"reset_id":8,"mono_ns":1373132587535,"ms_after_reset":0.014332,"pid":20413,"tid":20413,"comm":"rstscen","syscall":"sendto","errno":"EPIPE","family":"ipv4","laddr":"127.0.0.1","lport":37591,"raddr":"127.0.0.1","rport":36292,"state":"CLOSE","netns":4026532177,"sock_cookie":17388}`;

const CAUSES = ['late-data-timewait', 'reset-by-peer', 'close-unread', 'closed-port', 'connection-refused', 'linger-zero', 'killed', 'data-after-close'];
const ERRNOS = ['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT'];
const START_NS = 1_795_249_093_140_908_291n;
const TS = '"@TS@"';

function args() {
  const a = process.argv.slice(2);
  const at = a.indexOf('--lines');
  const lines = at >= 0 ? Number(a[at + 1]) : 1_000_000;
  if (!Number.isSafeInteger(lines) || lines < 3) throw new Error(`--lines wants a whole number of 3 or more, not ${a[at + 1]}`);
  return { lines, keep: a.includes('--keep') };
}

/** A small deterministic generator: the same capture every run. */
function xorshift(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function isoNs(ns) {
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${frac}Z`;
}

/** The JSON text of `o` with its ts_ns as the exact integer, as rsttrace writes it. */
function line(o, ns) {
  o.time = isoNs(ns);
  return JSON.stringify(o).replace(TS, ns.toString());
}

async function writeCapture(file, total) {
  const out = createWriteStream(file);
  const rnd = xorshift(0x5eed);
  const reset = { ...JSON.parse(RESET_LINE), ts_ns: TS.slice(1, -1) };
  const error = { ...JSON.parse(ERROR_LINE), ts_ns: TS.slice(1, -1) };
  let ns = START_NS;
  const session = (type, rest) => line({ type, schema_version: 1, time: '', ts_ns: TS.slice(1, -1), ...rest }, ns);
  let batch = [
    session('session_start', { host: 'bench', kernel: '6.18.0', rsttrace_version: '0.1.0', pid: 4242, mono_ns: 1_373_000_000_000, options: { output: 'text', write: file, force: false, quiet: true, brief: false, verbose: false, ring_buffer_mib: 8 } }),
  ];
  let lastResetId = 1;
  for (let id = 1; id <= total - 2; id++) {
    ns += BigInt(1 + Math.floor(rnd() * 20_000)); // up to 20 µs apart: a storm
    const peer = `198.18.${Math.floor(rnd() * 8)}.${1 + Math.floor(rnd() * 250)}`;
    const lport = 1024 + Math.floor(rnd() * 60_000);
    const rport = [80, 443, 8080, 5432][Math.floor(rnd() * 4)];
    const pid = 1000 + Math.floor(rnd() * 300);
    if (id % 3 === 0) {
      Object.assign(error, { id, reset_id: lastResetId, ms_after_reset: Math.round(rnd() * 1e6) / 1e6, pid, tid: pid, errno: ERRNOS[id % ERRNOS.length], lport, raddr: peer, rport });
      batch.push(line(error, ns));
    } else {
      lastResetId = id;
      Object.assign(reset, { id, direction: id % 3 === 1 ? 'send' : 'recv', mono_ns: 1_373_132_489_809 + id * 10_000, lport, raddr: peer, rport });
      reset.owner = rnd() < 0.2 ? null : { ...JSON.parse(RESET_LINE).owner, pid, tid: pid };
      reset.cause = { ...reset.cause, code: CAUSES[Math.floor(rnd() ** 2 * CAUSES.length)] };
      batch.push(line(reset, ns));
    }
    if (batch.length === 10_000) {
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain');
      batch = [];
    }
  }
  batch.push(session('session_end', { reason: 'signal SIGINT', duration_s: Number(ns - START_NS) / 1e9, resets: 0, sent: 0, received: 0, syscall_errors: 0, lost: 0 }));
  out.end(batch.join('\n') + '\n');
  await once(out, 'finish');
}

/** Runs the CLI in a child that reports its own peak RSS (KiB) on fd 3. */
function timeReport(file) {
  const probe = `
    import { writeSync } from 'node:fs';
    process.on('exit', () => writeSync(3, String(process.resourceUsage().maxRSS)));
    process.argv = [process.argv[0], ${JSON.stringify(CLI)}, 'report', ${JSON.stringify(file)}];
    await import(${JSON.stringify(new URL(`file://${CLI}`).href)});`;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`rsttrace report exited ${r.status}: ${r.stderr}`);
  return { seconds, rssKiB: Number(String(r.output[3])), stdout: String(r.stdout) };
}

const { lines, keep } = args();
const dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-bench-'));
const file = path.join(dir, 'capture.jsonl');
try {
  await writeCapture(file, lines);
  const size = statSync(file).size;
  const run = timeReport(file);
  const resets = /^ {2}(\d+) resets:/m.exec(run.stdout)?.[1] ?? '?';
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  process.stdout.write(
    [
      '### rsttrace report',
      '',
      `A synthetic capture of ${fmt(lines)} events (${resets} resets; ${(size / 2 ** 20).toFixed(0)} MiB), records shaped like real ones. Node ${process.version}.`,
      '',
      '| command | events/s | seconds | peak RSS |',
      '| --- | ---: | ---: | ---: |',
      `| \`node dist/cli.js report capture.jsonl\` | ${fmt(lines / run.seconds)} | ${run.seconds.toFixed(2)} | ${(run.rssKiB / 1024).toFixed(0)} MB |`,
      '',
    ].join('\n'),
  );
  if (keep) process.stderr.write(`kept ${file}\n`);
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
