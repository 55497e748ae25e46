#!/usr/bin/env node
/**
 * `make bench`: how much rsttrace costs, measured side by side, written to
 * bench/RESULTS.md. A tool to run by hand, not a test (CI does not run it).
 *
 *   RSTTRACE="node /path/to/dist/cli.js"   the tool (default: this repo's dist/cli.js)
 *   BENCH_QUICK=1                          fewer and shorter runs, to try the script
 *   BENCH_OUT=FILE                         where to write (default bench/RESULTS.md)
 *
 * Machines are noisy, so every comparison is between variants run in turn in
 * the same session (A B C D A B C D ...), and figures are medians with their
 * range. Each storm runs in a network namespace of its own that only it uses,
 * so the kernel's counters there (TcpOutRsts) are an independent count of the
 * resets rsttrace should have written. Everything started is ended by pid;
 * namespaces and temporary files are removed, also on Ctrl-C.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import {
  closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, readdirSync,
  rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const OUT_BIN = path.join(BENCH_DIR, 'out');
const RESULTS = process.env.BENCH_OUT || path.join(BENCH_DIR, 'RESULTS.md');
// as installed: dist/cli.js runs itself (its #! line carries the V8 heap limits)
const TOOL = (process.env.RSTTRACE || path.join(REPO, 'dist/cli.js')).trim().split(/\s+/);
const QUICK = process.env.BENCH_QUICK === '1';
/** After attaching, before the bystander runs: rsttrace reads kallsyms and /proc once. */
const SETTLE_MS = 500;

/** How much of everything; the full set stays under ~12 minutes on 2 cores. */
const PLAN = {
  stormSeconds: QUICK ? 1.5 : 3,
  // CPU per event: maximum-rate storms this long (a tracing session's one-time
  // costs, V8 compiling the hot path and the kernel's symbol table, spread
  // over ~1.3 M events rather than ~0.4 M)
  cpuStormSeconds: QUICK ? 3 : 10,
  cpuStormReps: QUICK ? 1 : 3,
  stormRates: [
    // [connects per second (0: as fast as possible), repetitions]
    [0, QUICK ? 2 : 5],
    [50000, QUICK ? 1 : 3],
    [10000, QUICK ? 1 : 3],
  ],
  pipeIterations: QUICK ? 1000000 : 5000000,
  tcpIterations: QUICK ? 100000 : 400000,
  bystanderReps: QUICK ? 2 : 5,
  startReps: QUICK ? 2 : 5,
  memoryConnects: QUICK ? 200000 : 5000000,
  memoryMaxSeconds: QUICK ? 30 : 300,
};

const TARGETS = {
  stormRatio: 0.85,
  bystanderPct: 3,
  cpuUsPerEvent: 3,
  rssMB: 200,
  rssGrowth: 0.1, // "flat": the last quarter of the run at most 10 % above the second quarter
  attachS: 0.3,
};

const BPFTRACE_PROBES = 'tracepoint:tcp:tcp_send_reset, tracepoint:tcp:tcp_receive_reset';
const BPFTRACE_PRINT = `BEGIN { printf("ready\\n"); } ${BPFTRACE_PROBES} { printf("%llu %s %d %s %p\\n", nsecs, probe, pid, comm, args->skaddr); }`;
const BPFTRACE_COUNT = `BEGIN { printf("ready\\n"); } ${BPFTRACE_PROBES} { @[probe] = count(); }`;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// ---- bookkeeping: what we started, to end it whatever happens -------------------

const started = new Set(); // pids
const namespaces = new Set();
const TMP = mkdtempSync(path.join(os.tmpdir(), 'rsttrace-bench-'));
let bpfStatsRestore = null;

function cleanup() {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  started.clear();
  for (const ns of namespaces) spawnSync('ip', ['netns', 'delete', ns]);
  namespaces.clear();
  if (bpfStatsRestore !== null) {
    try {
      writeFileSync('/proc/sys/kernel/bpf_stats_enabled', bpfStatsRestore);
    } catch {}
    bpfStatsRestore = null;
  }
  rmSync(TMP, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}

// ---- small helpers ------------------------------------------------------------------

const lastLines = (text, n = 3) => text.trim().split('\n').slice(-n).join(' / ');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => process.stderr.write(`bench: ${s}\n`);
let tmpCounter = 0;
const tmpPath = (name) => path.join(TMP, `${++tmpCounter}-${name}`);

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A child we may have to stop: its pid is remembered until it has exited. */
function start(cmd, args, { stdout = 'ignore', stderr = 'ignore', env = process.env } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', stdout, stderr], env });
  started.add(child.pid);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child.pid);
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      started.delete(child.pid);
      resolve({ code: 127, signal: null, error: err });
    });
  });
  return child;
}

/** Run to completion; stdout as a string. */
async function run(cmd, args) {
  const child = start(cmd, args, { stdout: 'pipe', stderr: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${lastLines(err)}`);
  return out;
}

async function stop(child, signal = 'SIGINT', timeoutMs = 120000) {
  if (!started.has(child.pid)) return child.exited;
  process.kill(child.pid, signal);
  const timer = setTimeout(() => started.has(child.pid) && process.kill(child.pid, 'SIGKILL'), timeoutMs);
  const r = await child.exited;
  clearTimeout(timer);
  return r;
}

async function waitFor(check, child, what, timeoutMs = 30000) {
  const t0 = Date.now();
  while (!check()) {
    if (!started.has(child.pid)) throw new Error(`${what}: the process exited before it was ready`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(2);
  }
}

const fileHas = (file, text) => () => {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
};
const sizeOf = (file) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};
const readOr = (file, dflt = '') => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return dflt;
  }
};

/** utime and stime in seconds, from /proc/PID/stat. */
function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK }; // fields 14 and 15, counted from 1
}

/** A tracer's CPU since it was attached (startRsttrace noted its times then), in seconds. */
function cpuSinceReady(tracer) {
  const t = cpuTimes(tracer.pid);
  const userS = t.user - tracer.timesAtReady.user;
  const sysS = t.sys - tracer.timesAtReady.sys;
  return { userS, sysS, cpuS: userS + sysS };
}

/** A field of /proc/PID/status in MB (VmRSS, VmHWM). */
function statusMB(pid, field) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** "median (min–max)" */
function mr(xs, fmt) {
  const s = xs.filter((x) => Number.isFinite(x));
  if (s.length === 0) return 'n/a';
  return `${fmt(median(s))} (${fmt(Math.min(...s))}–${fmt(Math.max(...s))})`;
}
const kps = (x) => `${(x / 1000).toFixed(1)} k/s`;
const ratio = (x) => `${x.toFixed(2)}×`;
const pct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
const secs = (x) => `${x.toFixed(3)} s`;
const us = (x) => `${x.toFixed(2)} µs`;
const mb = (x) => `${x.toFixed(0)} MB`;
const mark = (ok) => (ok ? '✅' : '❌');
const toolCmd = (args) => [...TOOL, ...args].join(' ');

// ---- someone else's load ---------------------------------------------------------------

/**
 * Other tracers and rsttrace processes (the tree is shared with people at
 * work): each one's BPF programs and CPU add to every variant, so the report
 * says when and which were seen. Checked before every measured run.
 */
const others = { checks: 0, dirty: 0, seen: new Map() };
const FOREIGN = /rsttrace|dist\/cli\.js|bpftrace|\bperf\b|vitest/;

function noteOthers() {
  const found = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid || started.has(Number(d))) continue;
    const cmd = readOr(`/proc/${d}/cmdline`).split('\0').join(' ').trim();
    if (FOREIGN.test(cmd) && !cmd.includes('bench/bench.mjs')) found.push(cmd.slice(0, 120));
  }
  others.checks++;
  if (found.length) others.dirty++;
  for (const c of found) others.seen.set(c, (others.seen.get(c) ?? 0) + 1);
}

/** Share of the CPUs busy over `ms`, from /proc/stat. */
async function busyShare(ms = 1000) {
  const read = () => readOr('/proc/stat').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const a = read();
  await sleep(ms);
  const b = read();
  const d = b.map((x, i) => x - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  return total ? 1 - (d[3] + d[4]) / total : NaN;
}

// ---- network namespaces -------------------------------------------------------------

let nsCounter = 0;
function createNetns() {
  const name = `rstbench-${process.pid}-${++nsCounter}`;
  sh('ip', ['netns', 'add', name]);
  namespaces.add(name);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const inode = statSync(`/run/netns/${name}`).ino;
  return { name, inode };
}

function deleteNetns(ns) {
  spawnSync('ip', ['netns', 'delete', ns.name]);
  namespaces.delete(ns.name);
}

function tcpOutRsts(ns) {
  const out = sh('ip', ['netns', 'exec', ns.name, 'nstat', '-asz', 'TcpOutRsts']);
  const m = out.match(/^TcpOutRsts\s+(\d+)/m);
  if (!m) throw new Error(`nstat: no TcpOutRsts in ${JSON.stringify(out)}`);
  return Number(m[1]);
}

// ---- tracers ----------------------------------------------------------------------------

/**
 * rsttrace writing JSON lines to `file`, attached (its ready file exists).
 * A load can fail transiently while another rsttrace loads at the same time:
 * one retry.
 */
async function startRsttrace(file, extra = [], nodeFlags = []) {
  for (let attempt = 1; ; attempt++) {
    const ready = tmpPath('ready');
    const errFile = tmpPath('rsttrace.err');
    const errFd = openSync(errFile, 'w');
    const [cmd, ...rest] = TOOL;
    const args = [...rest, '-q', '-w', file, '--force', '--ready-file', ready, ...extra];
    const t0 = process.hrtime.bigint();
    // node's own flags through the environment: dist/cli.js may start node itself
    const env = nodeFlags.length ? { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, ...nodeFlags].filter(Boolean).join(' ') } : process.env;
    const child = start(cmd, args, { stderr: errFd, env });
    closeSync(errFd);
    try {
      await waitFor(() => existsSync(ready), child, 'rsttrace');
      child.attachS = Number(process.hrtime.bigint() - t0) / 1e9;
      child.errFile = errFile;
      child.timesAtReady = cpuTimes(child.pid);
      return child;
    } catch (err) {
      await stop(child, 'SIGKILL');
      if (attempt >= 2) throw new Error(`${err.message}: ${readOr(errFile).trim()}`);
      log(`rsttrace did not start (${readOr(errFile).trim().split('\n').pop()}); retrying`);
    }
  }
}

/** bpftrace with its output to `file`, attached (its BEGIN probe has printed). */
async function startBpftrace(program, file) {
  const outFd = openSync(file, 'w');
  const t0 = process.hrtime.bigint();
  const child = start('bpftrace', ['-e', program], { stdout: outFd, stderr: outFd });
  closeSync(outFd);
  await waitFor(fileHas(file, 'ready\n'), child, 'bpftrace');
  child.attachS = Number(process.hrtime.bigint() - t0) / 1e9;
  return child;
}

/** After the load is over: wait until rsttrace has written what it was handed. */
async function waitQuiet(file, quietMs = 300, maxMs = 60000) {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - t0 < maxMs) {
    const size = sizeOf(file);
    if (size !== last) {
      last = size;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    await sleep(50);
  }
}

/** What rsttrace wrote: records per type, those in one namespace, and what it lost. */
async function readCapture(file, netnsInode) {
  const c = { resets: 0, errors: 0, nsResets: 0, nsErrors: 0, lostRecords: 0, lostTotal: 0, end: null, other: 0 };
  const needle = `"netns":${netnsInode},`;
  let rest = '';
  const onLine = (line) => {
    if (line.startsWith('{"type":"reset"')) {
      c.resets++;
      if (line.includes(needle)) c.nsResets++;
    } else if (line.startsWith('{"type":"syscall_error"')) {
      c.errors++;
      if (line.includes(needle)) c.nsErrors++;
    } else if (line.startsWith('{"type":"lost"')) {
      c.lostRecords++;
      c.lostTotal = Math.max(c.lostTotal, JSON.parse(line).lost_total);
    } else if (line.startsWith('{"type":"session_end"')) {
      c.end = JSON.parse(line);
    } else if (line.length > 0) {
      c.other++;
    }
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const l of lines) onLine(l);
  }
  onLine(rest);
  return c;
}

/** bpftrace's output: events printed, events it said it lost, counts it kept. */
function readBpftrace(file) {
  const text = readOr(file);
  let printed = 0;
  let lost = 0;
  for (const line of text.split('\n')) {
    if (/^\d+ tracepoint:/.test(line)) printed++;
    const m = line.match(/Lost (\d+) events/);
    if (m) lost += Number(m[1]);
  }
  let counted = 0;
  for (const m of text.matchAll(/^@\[tracepoint:tcp:tcp_(?:send|receive)_reset\]: (\d+)/gm)) counted += Number(m[1]);
  return { printed, lost, counted };
}

// ---- 1. storm ---------------------------------------------------------------------------

const STORM_VARIANTS = ['untraced', 'rsttrace', 'rsttrace-p-idle', 'bpftrace-print', 'bpftrace-count'];
const VARIANT_LABEL = {
  untraced: 'untraced',
  rsttrace: 'rsttrace -q -w FILE --force (full JSONL)',
  'rsttrace-p-idle': 'rsttrace -p IDLE -q -w FILE (a bystander: the storm is not its)',
  'bpftrace-print': 'bpftrace, printf per event to a file',
  'bpftrace-count': 'bpftrace, count() only',
};

function stormArgs(rate, connects, seconds = PLAN.stormSeconds) {
  const args = connects ? ['-n', String(connects), '-d', String(PLAN.memoryMaxSeconds)] : ['-d', String(seconds)];
  if (rate) args.push('-r', String(rate));
  return args;
}

/** One storm in a fresh namespace, under one variant. */
async function stormOnce(variant, rate, seconds = PLAN.stormSeconds) {
  noteOthers();
  const ns = createNetns();
  const capture = tmpPath(`${variant}.out`);
  const r = { variant, rate };
  let tracer = null;
  let idle = null;
  try {
    // --netns: the losses counted are then the namespace's alone (a reset
    // elsewhere on the host, dropped in a full ring, made one run's
    // accounting one off)
    if (variant === 'rsttrace') tracer = await startRsttrace(capture, ['--netns', ns.name]);
    if (variant === 'rsttrace-p-idle') {
      // issue 4: -p on an idle process while another one storms: nothing may reach user space
      idle = start('sleep', ['1000']);
      tracer = await startRsttrace(capture, ['-p', String(idle.pid)]);
    }
    const t0 = Date.now();
    if (variant === 'bpftrace-print') tracer = await startBpftrace(BPFTRACE_PRINT, capture);
    if (variant === 'bpftrace-count') tracer = await startBpftrace(BPFTRACE_COUNT, capture);
    const before = tcpOutRsts(ns);
    const gen = JSON.parse(await run('ip', ['netns', 'exec', ns.name, path.join(OUT_BIN, 'rststorm'), ...stormArgs(rate, 0, seconds)]));
    r.sent = tcpOutRsts(ns) - before;
    Object.assign(r, { connects: gen.connects, refused: gen.refused, rate: gen.rate, otherErrors: gen.other_errors });
    if (variant === 'rsttrace') {
      await waitQuiet(capture);
      Object.assign(r, cpuSinceReady(tracer));
      r.wallS = (Date.now() - t0) / 1000;
      r.hwmMB = statusMB(tracer.pid, 'VmHWM');
      const exit = await stop(tracer);
      if (exit.code !== 0) throw new Error(`rsttrace exited ${exit.code}: ${readOr(tracer.errFile).trim()}`);
      const c = await readCapture(capture, ns.inode);
      r.capture = c;
      r.lost = Math.max(c.end?.lost ?? 0, c.lostTotal);
      r.events = c.resets + c.errors;
      r.accounting = account(r, c);
    } else if (variant === 'rsttrace-p-idle') {
      const exit = await stop(tracer);
      if (exit.code !== 0) throw new Error(`rsttrace -p exited ${exit.code}: ${readOr(tracer.errFile).trim()}`);
      const c = await readCapture(capture, ns.inode);
      r.lost = Math.max(c.end?.lost ?? 0, c.lostTotal);
      r.userEvents = c.nsResets + c.nsErrors;
      r.accounting = { ok: r.userEvents === 0 && r.lost === 0, detail: `records of the storm in user space: ${r.userEvents}, lost ${r.lost} (expected 0 and 0: filtered in the kernel)` };
    } else if (tracer) {
      await stop(tracer);
      const b = readBpftrace(capture);
      r.lost = b.lost;
      r.bpftrace = b;
    }
  } finally {
    if (tracer) await stop(tracer, 'SIGKILL');
    if (idle) await stop(idle, 'SIGKILL');
    deleteNetns(ns);
    rmSync(capture, { force: true });
  }
  return r;
}

/**
 * Every reset of the namespace is written or counted lost. The kernel says
 * how many were sent (TcpOutRsts); each refused connect() is one received.
 * Its ECONNREFUSED is a syscall_error record only with --syscall-hook, which
 * the storm does not use: none expected. With nothing lost the resets
 * written must be exactly those; with losses (which count records of any
 * kind), written + lost must make up the total.
 */
function account(r, c) {
  const expResets = r.sent + r.refused;
  const expErrors = 0;
  const lost = Math.max(c.end?.lost ?? 0, c.lostTotal);
  const ok =
    c.end !== null &&
    (lost === 0 ? c.nsResets === expResets : c.nsResets <= expResets && c.nsResets + c.nsErrors + lost === expResets + expErrors);
  const detail =
    lost === 0
      ? `reset records in netns ${c.nsResets} vs TcpOutRsts ${r.sent} + ECONNREFUSED ${r.refused} = ${expResets}, lost 0`
      : `reset records in netns ${c.nsResets} + syscall_error ${c.nsErrors} + lost ${lost} = ${c.nsResets + c.nsErrors + lost} vs TcpOutRsts ${r.sent} + ECONNREFUSED ${r.refused} = ${expResets + expErrors}`;
  return { ok, detail: c.end === null ? `no session_end record; ${detail}` : detail };
}

async function measureStorm() {
  const byRate = [];
  for (const [rate, reps] of PLAN.stormRates) {
    const runs = [];
    for (let rep = 1; rep <= reps; rep++) {
      for (const v of STORM_VARIANTS) {
        const r = await stormOnce(v, rate);
        r.rep = rep;
        runs.push(r);
        log(`storm ${rate || 'max'} rep ${rep} ${v}: ${kps(r.rate)}${r.lost ? `, lost ${r.lost}` : ''}${r.accounting ? `, ${r.accounting.ok ? 'PASS' : 'FAIL'}` : ''}`);
      }
    }
    byRate.push({ rate, reps, runs });
  }
  return byRate;
}

/** CPU seconds = onceS + events × perEventUs / 1e6, least squares over the runs; null without two lengths to tell apart. */
function lineFit(runs) {
  const n = runs.length;
  const mx = runs.reduce((s, r) => s + r.events, 0) / n;
  const my = runs.reduce((s, r) => s + r.cpuS, 0) / n;
  const sxx = runs.reduce((s, r) => s + (r.events - mx) ** 2, 0);
  if (n < 3 || !(sxx > 0)) return null;
  const slope = runs.reduce((s, r) => s + (r.events - mx) * (r.cpuS - my), 0) / sxx;
  return { n, perEventUs: slope * 1e6, onceS: my - slope * mx };
}

/** Longer maximum-rate storms under rsttrace alone, for its CPU per event. */
async function measureCpuStorm() {
  const runs = [];
  for (let rep = 1; rep <= PLAN.cpuStormReps; rep++) {
    const r = await stormOnce('rsttrace', 0, PLAN.cpuStormSeconds);
    r.rep = rep;
    runs.push(r);
    log(`cpu storm ${PLAN.cpuStormSeconds} s rep ${rep}: ${kps(r.rate)}, ${r.events} events, ${us((r.cpuS / r.events) * 1e6)}${r.lost ? `, lost ${r.lost}` : ''}, ${r.accounting.ok ? 'PASS' : 'FAIL'}`);
  }
  return runs;
}

function stormSection(byRate) {
  const out = [];
  const cmdGen = (rate) => `ip netns exec NS bench/out/rststorm ${stormArgs(rate).join(' ')}`;
  out.push('## 1. Reset storm', '');
  out.push(
    `Each run: a fresh network namespace NS (\`ip netns add\`, \`lo\` up), the tracer started and attached, then ` +
      `the generator for ${PLAN.stormSeconds} s: socket(), connect() to 127.0.0.1:9 (closed), close(), in a loop; each connect is one RST sent and one received ` +
      '(2 reset events); connect() fails with ECONNREFUSED (a syscall_error record only with --syscall-hook, not used here). Variants run in turn (untraced, rsttrace, rsttrace -p on an idle process, bpftrace printing, bpftrace counting, then again); ' +
      'ratios are to the untraced run of the same round.',
    '',
    'Commands:',
    '',
    '```',
    `${cmdGen(0)}            # max rate; -r 50000 / -r 10000 for the paced rows`,
    toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY', '--netns', 'NS']),
    `${toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY', '-p', 'PID'])}   # PID: a sleep 1000 the bench starts`,
    `bpftrace -e '${BPFTRACE_PRINT}' > FILE`,
    `bpftrace -e '${BPFTRACE_COUNT}' > FILE`,
    'ip netns exec NS nstat -asz TcpOutRsts   # before and after: resets sent',
    '```',
    '',
  );
  for (const { rate, reps, runs } of byRate) {
    out.push(`### ${rate ? `Paced at ${rate / 1000} k connects/s` : 'Maximum rate'} (${reps} rounds)`, '');
    out.push('| variant | connects/s | ratio to untraced | lost events (per run) | accounting |', '| --- | --- | --- | --- | --- |');
    const base = runs.filter((r) => r.variant === 'untraced');
    for (const v of STORM_VARIANTS) {
      const vr = runs.filter((r) => r.variant === v);
      const ratios = vr.map((r) => r.rate / base.find((b) => b.rep === r.rep).rate);
      const lost = v === 'untraced' ? '—' : vr.map((r) => r.lost ?? 0).join(', ');
      const acc = v.startsWith('rsttrace') ? vr.map((r) => (r.accounting.ok ? 'PASS' : 'FAIL')).join(' ') : '—';
      out.push(`| ${VARIANT_LABEL[v]} | ${mr(vr.map((r) => r.rate), kps)} | ${v === 'untraced' ? '1' : mr(ratios, ratio)} | ${lost} | ${acc} |`);
    }
    out.push('');
    out.push('Accounting per run (rsttrace):', '');
    for (const r of runs.filter((x) => x.variant === 'rsttrace')) {
      out.push(`- round ${r.rep}: ${r.accounting.ok ? 'PASS' : 'FAIL'}: ${r.accounting.detail}`);
    }
    out.push('', 'rsttrace -p on an idle process, per run:', '');
    for (const r of runs.filter((x) => x.variant === 'rsttrace-p-idle')) {
      out.push(`- round ${r.rep}: ${r.accounting.ok ? 'PASS' : 'FAIL'}: ${r.accounting.detail}`);
    }
    const bp = runs.filter((x) => x.variant === 'bpftrace-print');
    out.push(
      '',
      `bpftrace printed ${bp.map((r) => `${r.bpftrace.printed}/${r.sent + r.refused}`).join(', ')} events (printed/expected; bpftrace sees the whole host, so resets made elsewhere at the same time count too), ` +
        `said it lost ${bp.map((r) => r.bpftrace.lost).join(', ')}; ` +
        `counting, it counted ${runs.filter((x) => x.variant === 'bpftrace-count').map((r) => `${r.bpftrace.counted}/${r.sent + r.refused}`).join(', ')}.`,
      '',
    );
  }
  return out;
}

// ---- 2. bystander -----------------------------------------------------------------------

async function pidOptionSupported() {
  const r = spawnSync(TOOL[0], [...TOOL.slice(1), '-p', '1', '-d', '0.1', '-q', '-w', '/dev/null', '--force'], { encoding: 'utf8', timeout: 30000 });
  return { ok: r.status === 0, why: (r.stderr || '').trim().split('\n').pop() };
}

/** `tcp`: over a loopback TCP connection instead of a pipe (pipebench -t) */
async function pipebench(tcp = false) {
  const args = tcp ? ['-t', '-n', String(PLAN.tcpIterations)] : ['-n', String(PLAN.pipeIterations)];
  return JSON.parse(await run(path.join(OUT_BIN, 'pipebench'), args)).ops_per_s;
}

async function measureBystander() {
  const pidSupport = await pidOptionSupported();
  const idle = start('sleep', ['1000']);
  const variants = ['untraced', 'rsttrace', ...(pidSupport.ok ? ['rsttrace-p'] : []), 'rsttrace-hook'];
  // the same loop over TCP: a bystander that passes rsttrace's socket tracepoints
  const tcpVariants = ['tcp-untraced', 'tcp-rsttrace'];
  const runs = [];
  try {
    for (let rep = 1; rep <= PLAN.bystanderReps; rep++) {
      for (const v of [...variants, ...tcpVariants]) {
        const file = tmpPath('bystander.jsonl');
        let tracer = null;
        noteOthers();
        if (v === 'rsttrace' || v === 'tcp-rsttrace') tracer = await startRsttrace(file);
        if (v === 'rsttrace-p') tracer = await startRsttrace(file, ['-p', String(idle.pid)]);
        if (v === 'rsttrace-hook') tracer = await startRsttrace(file, ['--syscall-hook']);
        // what rsttrace does once after attaching (kallsyms, /proc) is not the bystander's cost
        if (tracer) await sleep(SETTLE_MS);
        const opsPerS = await pipebench(v.startsWith('tcp-'));
        if (tracer) await stop(tracer);
        rmSync(file, { force: true });
        runs.push({ rep, variant: v, opsPerS });
        log(`bystander rep ${rep} ${v}: ${(opsPerS / 1e6).toFixed(2)} M ops/s`);
      }
    }
  } finally {
    await stop(idle, 'SIGKILL');
  }
  const slowdown = (v) => {
    const base = v.startsWith('tcp-') ? 'tcp-untraced' : 'untraced';
    return runs.filter((r) => r.variant === v).map((r) => (1 - r.opsPerS / runs.find((b) => b.rep === r.rep && b.variant === base).opsPerS) * 100);
  };
  return { runs, variants, tcpVariants, pidSupport, idlePid: idle.pid, slowdown };
}

function bystanderSection(b) {
  const out = ['## 2. Bystander cost', ''];
  out.push(
    `\`bench/out/pipebench -n ${PLAN.pipeIterations}\`: one process pinned to the last CPU write()s 64 bytes into a pipe and read()s them back, ` +
      `${PLAN.pipeIterations} times (nothing blocks: the time is the syscalls' own); no TCP anywhere. By default rsttrace has no program on the syscall path; ` +
      `\`--syscall-hook\` adds one on raw_syscalls:sys_exit, which every one of these syscalls passes. The tracer is attached and left ${SETTLE_MS} ms to settle before the run. ` +
      `${PLAN.bystanderReps} rounds, variants in turn; slowdown is against the untraced run of the same round.`,
    '',
    '```',
    `bench/out/pipebench -n ${PLAN.pipeIterations}`,
    toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY']),
    `${toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY', '-p', 'PID'])}   # PID: a sleep 1000 the bench starts`,
    toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY', '--syscall-hook']),
    '```',
    '',
    '| variant | ops/s | slowdown |',
    '| --- | --- | --- |',
  );
  const label = {
    untraced: 'untraced',
    rsttrace: 'rsttrace attached',
    'rsttrace-p': 'rsttrace -p (an idle `sleep 1000`)',
    'rsttrace-hook': 'rsttrace --syscall-hook (opt-in)',
  };
  for (const v of b.variants) {
    const vr = b.runs.filter((r) => r.variant === v);
    out.push(`| ${label[v]} | ${mr(vr.map((r) => r.opsPerS), (x) => `${(x / 1e6).toFixed(2)} M`)} | ${v === 'untraced' ? '—' : mr(b.slowdown(v), pct)} |`);
  }
  if (!b.pidSupport.ok) {
    out.push('', `\`-p\` row skipped: \`${toolCmd(['-p', '1', '-d', '0.1'])}\` failed (${b.pidSupport.why || 'no message'}).`);
  }
  out.push(
    '',
    `Not a target, for what it shows: the same loop over a TCP connection on loopback (\`bench/out/pipebench -t -n ${PLAN.tcpIterations}\`, TCP_NODELAY), ` +
      'whose every write and read passes sock:sock_send_length / sock_recv_length, where rsttrace notes the socket\'s owner.',
    '',
    '| variant | ops/s | slowdown |',
    '| --- | --- | --- |',
  );
  for (const v of b.tcpVariants) {
    const vr = b.runs.filter((r) => r.variant === v);
    const name = v === 'tcp-untraced' ? 'TCP, untraced' : 'TCP, rsttrace attached';
    out.push(`| ${name} | ${mr(vr.map((r) => r.opsPerS), (x) => `${(x / 1e3).toFixed(0)} k`)} | ${v === 'tcp-untraced' ? '—' : mr(b.slowdown(v), pct)} |`);
  }
  out.push('');
  return out;
}

// ---- 3. rsttrace's own cost -------------------------------------------------------------

/** The rsttrace runs of the storm at `rate` (0: the maximum). */
const rsttraceRuns = (byRate, rate = 0) => byRate.find((x) => x.rate === rate)?.runs.filter((r) => r.variant === 'rsttrace') ?? [];

/** CPU per event of rsttrace storm runs. */
function cpuPerEvent(runs) {
  return runs.map((r) => ({
    usPerEvent: (r.cpuS / r.events) * 1e6,
    userUs: (r.userS / r.events) * 1e6,
    sysUs: (r.sysS / r.events) * 1e6,
    cpuS: r.cpuS,
    busy: r.cpuS / r.wallS,
    events: r.events,
    lost: r.lost,
    hwmMB: r.hwmMB,
  }));
}

/** One long maximum-rate storm (2 reset events per connect), RSS every second. */
async function measureMemory() {
  const ns = createNetns();
  let tracer = null;
  const series = [];
  try {
    tracer = await startRsttrace('/dev/null');
    const sampler = setInterval(() => {
      try {
        series.push(statusMB(tracer.pid, 'VmRSS'));
      } catch {}
    }, 1000);
    const args = stormArgs(0, PLAN.memoryConnects);
    const gen = JSON.parse(await run('ip', ['netns', 'exec', ns.name, path.join(OUT_BIN, 'rststorm'), ...args]));
    await sleep(1500);
    clearInterval(sampler);
    const hwm = statusMB(tracer.pid, 'VmHWM');
    const { cpuS } = cpuSinceReady(tracer);
    await stop(tracer);
    const summary = readOr(tracer.errFile).match(/(\d+) resets \((\d+) sent, (\d+) received\) in ([\d.]+) s, (\d+) lost/);
    return {
      gen,
      args,
      series,
      hwm,
      cpuS,
      resets: summary ? Number(summary[1]) : NaN,
      lost: summary ? Number(summary[5]) : NaN,
    };
  } finally {
    if (tracer) await stop(tracer, 'SIGKILL');
    deleteNetns(ns);
  }
}

/** One sample in N, for at most ~60 numbers on the line. */
const rssStep = (series) => Math.max(1, Math.ceil(series.length / 60));

/** Quarter medians: flat if the last quarter is at most rssGrowth above the second. */
function flatness(series) {
  const q = Math.floor(series.length / 4);
  if (q < 1) return { ok: false, q2: NaN, q4: NaN };
  const q2 = median(series.slice(q, 2 * q));
  const q4 = median(series.slice(3 * q));
  return { ok: q4 <= q2 * (1 + TARGETS.rssGrowth), q2, q4 };
}

/** Start to attached: rsttrace's ready file, bpftrace's BEGIN output; in turn. */
async function measureStart() {
  const rs = [];
  const bt = [];
  const version = [];
  for (let rep = 1; rep <= PLAN.startReps; rep++) {
    const file = tmpPath('start.jsonl');
    const t = await startRsttrace(file);
    rs.push(t.attachS);
    await stop(t);
    rmSync(file, { force: true });
    const t0 = process.hrtime.bigint();
    await run(TOOL[0], [...TOOL.slice(1), '--version']);
    version.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const out = tmpPath('start.bt');
    const b = await startBpftrace(BPFTRACE_COUNT, out);
    bt.push(b.attachS);
    await stop(b);
    rmSync(out, { force: true });
  }
  return { rs, bt, version };
}

/**
 * Where the time goes, for the findings: one more maximum-rate storm under
 * rsttrace with the kernel's BPF run-time statistics on (for this run only)
 * and `perf record` on the rsttrace process. Not node's --cpu-prof: its
 * SIGPROF ticks interrupt the BPF verifier, which then fails the load with
 * EAGAIN. --perf-basic-prof lets perf name node's JIT-compiled functions.
 */
async function profileStorm() {
  const ns = createNetns();
  const capture = tmpPath('profile.jsonl');
  const perfData = tmpPath('perf.data');
  const isNode = path.basename(TOOL[0]) === 'node' || TOOL[0].endsWith('.js');
  const havePerf = spawnSync('perf', ['--version']).status === 0;
  const before = new Set(bpfProgs().map((p) => p.id));
  let tracer = null;
  let perf = null;
  try {
    bpfStatsRestore = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
    tracer = await startRsttrace(capture, [], isNode && havePerf ? ['--perf-basic-prof'] : []);
    if (havePerf) {
      perf = start('perf', ['record', '-F', '999', '-p', String(tracer.pid), '-o', perfData]);
      await sleep(200); // perf attaches
    }
    const foreignBefore = bpfProgs().filter((p) => before.has(p.id));
    const gen = JSON.parse(await run('ip', ['netns', 'exec', ns.name, path.join(OUT_BIN, 'rststorm'), ...stormArgs(0)]));
    const all = bpfProgs();
    const progs = all.filter((p) => !before.has(p.id) && p.name.startsWith('rst_'));
    // programs someone else attached ran on the generator's path too, in every variant
    const foreignNs = all
      .filter((p) => before.has(p.id))
      .reduce((sum, p) => sum + (p.run_time_ns ?? 0) - (foreignBefore.find((b) => b.id === p.id)?.run_time_ns ?? 0), 0);
    await waitQuiet(capture);
    if (perf) await stop(perf);
    const { user: userS, sys: sysS } = cpuTimes(tracer.pid);
    const profile = perf ? perfTop(perfData) : null;
    // the bystander's syscalls, under the same programs
    const pipeBefore = bpfProgs().filter((p) => !before.has(p.id) && p.name.startsWith('rst_'));
    const pipe = JSON.parse(await run(path.join(OUT_BIN, 'pipebench'), ['-n', String(PLAN.pipeIterations)]));
    const pipeProgs = bpfProgs()
      .filter((p) => !before.has(p.id) && p.name.startsWith('rst_'))
      .map((p) => {
        const b = pipeBefore.find((x) => x.id === p.id);
        return { name: p.name, run_cnt: (p.run_cnt ?? 0) - (b?.run_cnt ?? 0), run_time_ns: (p.run_time_ns ?? 0) - (b?.run_time_ns ?? 0) };
      });
    await stop(tracer);
    const c = await readCapture(capture, ns.inode);
    return { gen, progs, foreignNs, userS, sysS, startS: tracer.timesAtReady.user + tracer.timesAtReady.sys, capture: c, profile, pipe, pipeProgs };
  } finally {
    if (perf) await stop(perf, 'SIGKILL');
    if (tracer) {
      await stop(tracer, 'SIGKILL');
      // written by --perf-basic-prof: perf's map, and V8's log in the working
      // directory (--logfile, which would move it, is refused in NODE_OPTIONS)
      rmSync(`/tmp/perf-${tracer.pid}.map`, { force: true });
      const v8Log = new RegExp(`^isolate-0x[0-9a-f]+-${tracer.pid}-v8\\.log$`);
      for (const f of readdirSync('.')) if (v8Log.test(f)) rmSync(f, { force: true });
    }
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', bpfStatsRestore);
    bpfStatsRestore = null;
    deleteNetns(ns);
    rmSync(capture, { force: true });
    rmSync(perfData, { force: true });
  }
}

function bpfProgs() {
  try {
    return JSON.parse(sh('bpftool', ['prog', 'show', '-j']));
  } catch {
    return [];
  }
}

/** perf's flat profile: the top symbols, and shares by kind (GC, kernel, JIT...). */
function perfTop(file, n = 15) {
  const r = spawnSync('perf', ['report', '-i', file, '--stdio', '--no-children', '--sort', 'dso,sym', '-g', 'none'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const rows = [];
  for (const line of (r.stdout || '').split('\n')) {
    const m = line.match(/^\s+([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[([.k])\]\s+(.*)$/);
    if (m) rows.push({ share: Number(m[1]), dso: m[2], kernel: m[3] === 'k', sym: m[4].trim() });
  }
  const kinds = {
    'garbage collection': (x) => /Scaveng|MarkCompact|ConcurrentMarking|Sweeper|Evacuat|Heap::|GCTracer|MarkingVisitor|MarkingWorklist|ObjectVisitor/.test(x.sym),
    kernel: (x) => x.kernel,
    'JS (JIT-compiled)': (x) => x.dso.startsWith('[JIT]') || x.dso.startsWith('perf-'),
    'JSON.stringify': (x) => /JsonStringifier/.test(x.sym),
  };
  const shares = Object.fromEntries(Object.entries(kinds).map(([k, f]) => [k, rows.filter(f).reduce((s, x) => s + x.share, 0)]));
  return { samples: (r.stdout.match(/of event '[^']+'\s*\n# Event count[^\n]*/) ?? [''])[0], top: rows.slice(0, n), shares };
}

function ownCostSection(cpu, mem, st, prof) {
  const out = ['## 3. rsttrace\'s own cost', ''];
  out.push(
    '### CPU per event',
    '',
    `${PLAN.cpuStormReps} maximum-rate storms of ${PLAN.cpuStormSeconds} s under rsttrace alone, each as the rsttrace run of the storm above ` +
      `(\`ip netns exec NS bench/out/rststorm ${stormArgs(0, 0, PLAN.cpuStormSeconds).join(' ')}\`, ` +
      `\`${toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY', '--netns', 'NS'])}\`): utime and stime of the rsttrace process (/proc/PID/stat) ` +
      'from the moment it was attached to just before SIGINT (after its output had stopped growing), divided by the records it wrote ' +
      '(resets and syscall_error records; each connect makes 2). Start-up CPU before attaching is left out (see below); what comes once a run after it ' +
      '(V8 compiling the hot path as it warms, the kernel\'s symbol table read and parsed) is in, spread over the run.',
    '',
    `- CPU per event: ${mr(cpu.map((c) => c.usPerEvent), us)}; user ${mr(cpu.map((c) => c.userUs), us)}, system ${mr(cpu.map((c) => c.sysUs), us)}`,
    `- per run: ${cpu.map((c) => `${c.cpuS.toFixed(2)} s / ${c.events} events (lost ${c.lost})`).join('; ')}`,
    `- accounting per run: ${cpu.runs.map((r) => `${r.accounting.ok ? 'PASS' : 'FAIL'} (${r.accounting.detail})`).join('; ')}`,
    `- in the ${PLAN.stormSeconds} s storms above: ${mr(cpu.short.map((c) => c.usPerEvent), us)}; user ${mr(cpu.short.map((c) => c.userUs), us)}, system ${mr(cpu.short.map((c) => c.sysUs), us)}`,
    ...(cpu.fit ? [`- a straight line through all ${cpu.fit.n} maximum-rate runs (CPU = once + events × each, least squares): ${us(cpu.fit.perEventUs)} each event, ${secs(cpu.fit.onceS)} once a run`] : []),
    ...(cpu.paced?.length
      ? [`- at ${kps(cpu.pacedRate)} in ${PLAN.stormSeconds} s storms (lost per run: ${cpu.paced.map((c) => c.lost).join(', ')}; smaller batches, and the once-a-run cost over fewer events): ${mr(cpu.paced.map((c) => c.usPerEvent), us)}`]
      : []),
    `- share of one CPU rsttrace used from attach to SIGINT (storm and drain): ${mr(cpu.map((c) => c.busy * 100), (x) => `${x.toFixed(0)} %`)}`,
    `- peak RSS in those runs (VmHWM): ${mr(cpu.map((c) => c.hwmMB), mb)}`,
    '',
  );
  const fl = flatness(mem.series);
  out.push(
    '### Memory over a long storm',
    '',
    '```',
    `ip netns exec NS bench/out/rststorm ${mem.args.join(' ')}`,
    toolCmd(['-q', '-w', '/dev/null', '--force', '--ready-file', 'READY']),
    '```',
    '',
    `The JSONL goes to /dev/null here (10 M resets would be ~15 GB on disk); everything else is as in the storm. ` +
      `The generator made ${mem.gen.connects} refused connects (${2 * mem.gen.connects} reset events) in ${mem.gen.seconds.toFixed(0)} s ` +
      `(${kps(mem.gen.rate)}); rsttrace reported ${mem.resets} resets and ${mem.lost} lost records.`,
    '',
    `- peak RSS (VmHWM): ${mb(mem.hwm)}`,
    `- CPU per event over this run: ${us((mem.cpuS / mem.resets) * 1e6)} (${mem.cpuS.toFixed(1)} s / ${mem.resets} events): a run's fixed cost (mostly V8 compiling the hot functions; ` +
      `its size, from short and long storms compared, in bench/FINDINGS.md) spread over 10 M events, and no write into the page cache (/dev/null)`,
    `- flat: median RSS of the second quarter of the run ${mb(fl.q2)}, of the last quarter ${mb(fl.q4)} (${fl.ok ? 'within' : 'more than'} ${TARGETS.rssGrowth * 100} %)`,
    `- RSS sampled every second, MB, one sample in ${rssStep(mem.series)}: ${mem.series.filter((_, i) => i % rssStep(mem.series) === 0).map((x) => x.toFixed(0)).join(' ')}`,
    '',
  );
  out.push(
    '### Start to attached',
    '',
    `rsttrace: spawn of \`${toolCmd(['-q', '-w', 'FILE', '--force', '--ready-file', 'READY'])}\` until READY exists; ` +
      `bpftrace: spawn of \`bpftrace -e '${BPFTRACE_COUNT}'\` until its BEGIN probe's line arrives. ${PLAN.startReps} runs each, in turn.`,
    '',
    `- rsttrace: ${mr(st.rs, secs)}`,
    `- bpftrace: ${mr(st.bt, secs)}`,
    `- for scale: \`${toolCmd(['--version'])}\` (node starting and loading rsttrace's modules, nothing attached) takes ${mr(st.version, secs)}`,
    '',
  );
  return out;
}

// ---- findings (measured evidence) ---------------------------------------------------------

function findingsSection(targets, prof, byRate) {
  const out = ['## Findings', ''];
  const missed = targets.filter((t) => !t.ok);
  out.push(
    missed.length === 0
      ? 'Every target is met.'
      : `Targets missed: ${missed.map((t) => t.name).join('; ')}. The evidence below is measured by this run ` +
          '(one more maximum-rate storm under rsttrace, with the kernel\'s BPF statistics on and perf recording the rsttrace process).',
    '',
  );
  if (prof) {
    const events = prof.capture.resets + prof.capture.errors;
    const lost = Math.max(prof.capture.end?.lost ?? 0, prof.capture.lostTotal);
    out.push(
      `Profiled run: ${prof.gen.connects} connects at ${kps(prof.gen.rate)}, ${events} records written, ${lost} lost; ` +
        `rsttrace used ${prof.userS.toFixed(2)} s user + ${prof.sysS.toFixed(2)} s system CPU in all, ${prof.startS.toFixed(2)} s of it before it was attached; ` +
        `${(((prof.userS + prof.sysS - prof.startS) / events) * 1e6).toFixed(1)} µs per record written after that (perf's overhead included).`,
      '',
    );
    if (prof.progs.length) {
      const totalNs = prof.progs.reduce((s, p) => s + (p.run_time_ns ?? 0), 0);
      out.push(
        'In the kernel (bpftool prog show, run_time_ns / run_cnt): what rsttrace\'s BPF programs add to the generator\'s own syscalls and softirqs:',
        '',
        '| program | runs | ns per run | total ms |',
        '| --- | --- | --- | --- |',
        ...prof.progs
          .filter((p) => p.run_cnt)
          .sort((a, b) => b.run_time_ns - a.run_time_ns)
          .map((p) => `| ${p.name} | ${p.run_cnt} | ${(p.run_time_ns / p.run_cnt).toFixed(0)} | ${(p.run_time_ns / 1e6).toFixed(1)} |`),
        '',
        `In all ${(totalNs / 1e6).toFixed(0)} ms of BPF over ${prof.gen.seconds.toFixed(1)} s, ${(totalNs / prof.gen.connects / 1000).toFixed(2)} µs per connect ` +
          `(an untraced connect takes ${(1e6 / median(byRate.find((x) => x.rate === 0).runs.filter((r) => r.variant === 'untraced').map((r) => r.rate))).toFixed(1)} µs).`,
        '',
      );
    }
    if (prof.foreignNs > 0) {
      out.push(
        `BPF programs that were not the bench's (already attached, see the top) ran ${(prof.foreignNs / 1e6).toFixed(0)} ms during the same storm, ` +
          `${(prof.foreignNs / prof.gen.connects / 1000).toFixed(2)} µs per connect: a cost inside every variant of this report, the untraced one included.`,
        '',
      );
    }
    const pipeRan = (prof.pipeProgs ?? []).filter((p) => p.run_cnt > 0);
    if (pipeRan.length) {
      const ns = pipeRan.reduce((s, p) => s + p.run_time_ns, 0);
      out.push(
        `The bystander under the same programs (pipebench, ${prof.pipe.ops} reads and writes in ${prof.pipe.seconds.toFixed(2)} s): ` +
          pipeRan.map((p) => `${p.name} ran ${p.run_cnt} times, ${(p.run_time_ns / p.run_cnt).toFixed(0)} ns each`).join('; ') +
          `; in all ${(ns / prof.pipe.ops).toFixed(0)} ns of BPF per syscall, where a syscall of pipebench takes about ` +
          `${(prof.pipe.seconds / prof.pipe.ops * 1e9).toFixed(0)} ns (wall time / syscalls, with bpf_stats on).`,
        '',
      );
    } else if (prof.pipe) {
      out.push(`The bystander under the same programs (pipebench, ${prof.pipe.ops} reads and writes): none of rsttrace's programs ran (bpf_stats run counts).`, '');
    }
    if (prof.profile) {
      const sh = prof.profile.shares;
      out.push(
        'Where rsttrace\'s own CPU goes (`perf record -F 999 -p PID`, rsttrace run with node --perf-basic-prof): ' +
          Object.entries(sh).map(([k, v]) => `${k} ${v.toFixed(0)} %`).join(', ') + '. Top symbols:',
        '',
        '| share | where | symbol |',
        '| --- | --- | --- |',
        ...prof.profile.top.map((x) => `| ${x.share.toFixed(1)} % | ${x.dso} | \`${x.sym.slice(0, 90).replace(/\|/g, '\\|')}\` |`),
        '',
      );
    }
  }
  const notes = path.join(BENCH_DIR, 'FINDINGS.md');
  if (existsSync(notes)) out.push(readFileSync(notes, 'utf8').trim(), '');
  return out;
}

// ---- machine and the whole report ---------------------------------------------------------

function machine() {
  const cpuModel = (readOr('/proc/cpuinfo').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model ?? '?';
  const osName = (readOr('/etc/os-release').match(/^PRETTY_NAME="?([^"\n]*)/m) ?? [])[1] ?? '?';
  let bpftrace = '?';
  try {
    bpftrace = sh('bpftrace', ['--version']).trim();
  } catch {}
  let version = '?';
  try {
    version = execFileSync(TOOL[0], [...TOOL.slice(1), '--version'], { encoding: 'utf8' }).trim();
  } catch {}
  const foreign = bpfProgs().filter((p) => p.type === 'tracing' || p.type === 'tracepoint' || p.type === 'raw_tracepoint');
  return { busy: NaN, cpuModel, cores: os.cpus().length, ramGiB: os.totalmem() / 2 ** 30, kernel: os.release(), osName, bpftrace, version, foreign };
}

function machineSection(m, startedAt, finishedAt) {
  const out = [
    '# rsttrace benchmark',
    '',
    `Written by \`make bench\` (bench/bench.mjs). Started ${startedAt.toISOString()}, finished ${finishedAt.toISOString()}.`,
    '',
    `- machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB RAM`,
    `- kernel: ${m.kernel} (${m.osName}); node ${process.version}; ${m.bpftrace}`,
    `- rsttrace: \`${TOOL.join(' ')}\` (version ${m.version})`,
  ];
  out.push(`- CPUs busy in the second before the bench began: ${(m.busy * 100).toFixed(0)} %`);
  if (m.foreign.length) {
    out.push(
      `- ⚠ tracing BPF programs already attached when the bench began (not the bench's; they add their cost to every variant): ` +
        `${[...new Set(m.foreign.map((p) => p.name))].join(', ')}`,
    );
  }
  if (others.dirty) {
    out.push(
      `- ⚠ other tracers or rsttrace processes were running before ${others.dirty} of ${others.checks} measured runs ` +
        '(their CPU and BPF programs weigh on every variant; the side-by-side ratios absorb some of it, not all):',
      ...[...others.seen.entries()].slice(0, 12).map(([c, n]) => `  - ${n}×: \`${c}\``),
    );
  } else {
    out.push(`- no other tracer or rsttrace process was seen before any of the ${others.checks} measured runs`);
  }
  out.push('', 'Figures are "median (min–max)" over the runs; ratios and slowdowns are against the untraced run of the same round.', '');
  return out;
}

function targetsSection(targets) {
  return [
    '## Targets',
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.name} | ${t.measured} | ${mark(t.ok)} |`),
    '',
  ];
}

function evaluate(byRate, bys, cpu, mem, st) {
  const max = byRate.find((x) => x.rate === 0).runs;
  const base = (r) => max.find((b) => b.rep === r.rep && b.variant === 'untraced').rate;
  const traced = max.filter((r) => r.variant === 'rsttrace');
  const ratios = traced.map((r) => r.rate / base(r));
  const lost = traced.map((r) => r.lost);
  const paced = byRate
    .filter((x) => x.rate)
    .map((x) => {
      const t = x.runs.filter((r) => r.variant === 'rsttrace');
      return `${x.rate / 1000} k/s: lost ${t.map((r) => r.lost).join(', ')}`;
    })
    .join('; ');
  const slow = bys.slowdown('rsttrace');
  const slowP = bys.variants.includes('rsttrace-p') ? bys.slowdown('rsttrace-p') : null;
  const fl = flatness(mem.series);
  const cpuMed = median(cpu.map((c) => c.usPerEvent));
  const short = `; in the ${PLAN.stormSeconds} s storms ${mr(cpu.short.map((c) => c.usPerEvent), us)}`;
  return [
    {
      name: `traced storm ≥ ${TARGETS.stormRatio}× untraced, 0 lost (max rate)`,
      measured: `${mr(ratios, ratio)}, lost per run ${lost.join(', ')} (paced ${paced})`,
      ok: median(ratios) >= TARGETS.stormRatio && lost.every((l) => l === 0),
    },
    {
      name: `bystander slowdown ≤ ${TARGETS.bystanderPct} %`,
      measured: `${mr(slow, pct)}${slowP ? `; with -p: ${mr(slowP, pct)}` : '; -p: not supported by this build'}; opt-in --syscall-hook: ${mr(bys.slowdown('rsttrace-hook'), pct)}`,
      ok: median(slow) <= TARGETS.bystanderPct && (!slowP || median(slowP) <= TARGETS.bystanderPct),
    },
    {
      name: `≤ ${TARGETS.cpuUsPerEvent} µs rsttrace CPU per event (JSONL to a file, ${PLAN.cpuStormSeconds} s storms)`,
      measured: `${mr(cpu.map((c) => c.usPerEvent), us)}, lost per run ${cpu.map((c) => c.lost).join(', ')}${short}`,
      ok: cpuMed <= TARGETS.cpuUsPerEvent && cpu.runs.every((r) => r.lost === 0 && r.accounting.ok),
    },
    {
      name: `RSS ≤ ${TARGETS.rssMB} MB and flat over 10 M events`,
      measured: `peak ${mb(mem.hwm)}; ${mb(fl.q2)} → ${mb(fl.q4)} (2nd → 4th quarter)`,
      ok: mem.hwm <= TARGETS.rssMB && fl.ok,
    },
    { name: `attached in ≤ ${TARGETS.attachS} s`, measured: `${mr(st.rs, secs)} (bpftrace ${mr(st.bt, secs)})`, ok: median(st.rs) <= TARGETS.attachS },
  ];
}

/** bench/report.mjs (rsttrace report speed), when it exists: its Markdown as printed. */
async function reportSection() {
  const script = path.join(BENCH_DIR, 'report.mjs');
  if (!existsSync(script)) return [];
  try {
    return [(await run(process.execPath, [script])).trim(), ''];
  } catch (err) {
    return ['## rsttrace report', '', `bench/report.mjs failed: ${err.message}`, ''];
  }
}

// ---- main -------------------------------------------------------------------------------

function preflight() {
  if (process.getuid() !== 0) throw new Error('needs root (BPF, network namespaces)');
  for (const bin of ['rststorm', 'pipebench']) {
    if (!existsSync(path.join(OUT_BIN, bin))) throw new Error(`bench/out/${bin} is missing: run make bench`);
  }
  if (spawnSync('bpftrace', ['--version']).status !== 0) {
    log('bpftrace is missing: installing Debian\'s (apt-get install bpftrace)');
    const r = spawnSync('apt-get', ['install', '-y', '-q', 'bpftrace'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error('cannot install bpftrace');
  }
  const v = spawnSync(TOOL[0], [...TOOL.slice(1), '--version'], { encoding: 'utf8' });
  if (v.status !== 0) {
    const why = (v.stderr || v.error?.message || '').split('\n').find((l) => /Error/.test(l)) ?? 'no message';
    throw new Error(`${TOOL.join(' ')} --version failed (${why.trim()}): build it first (make build), or set RSTTRACE`);
  }
}

async function main() {
  preflight();
  const startedAt = new Date();
  const m = machine();
  m.busy = await busyShare();
  log(`rsttrace: ${TOOL.join(' ')}; results to ${RESULTS}`);
  const st = await measureStart();
  const byRate = await measureStorm();
  const cpuRuns = await measureCpuStorm();
  const bys = await measureBystander();
  const mem = await measureMemory();
  const cpu = cpuPerEvent(cpuRuns);
  cpu.runs = cpuRuns;
  cpu.short = cpuPerEvent(rsttraceRuns(byRate));
  cpu.fit = lineFit([...cpuRuns, ...rsttraceRuns(byRate)]);
  cpu.pacedRate = Math.min(...PLAN.stormRates.map(([rate]) => rate).filter((rate) => rate > 0));
  cpu.paced = cpuPerEvent(rsttraceRuns(byRate, cpu.pacedRate));
  const targets = evaluate(byRate, bys, cpu, mem, st);
  const prof = targets.every((t) => t.ok) ? null : await profileStorm();
  const report = await reportSection();
  const finishedAt = new Date();
  const md = [
    ...machineSection(m, startedAt, finishedAt),
    ...targetsSection(targets),
    ...stormSection(byRate),
    ...bystanderSection(bys),
    ...ownCostSection(cpu, mem, st, prof),
    ...findingsSection(targets, prof, byRate),
    ...report,
  ];
  writeFileSync(RESULTS, md.join('\n'));
  log(`wrote ${RESULTS} in ${((finishedAt - startedAt) / 1000).toFixed(0)} s`);
}

main().then(
  () => cleanup(),
  (err) => {
    log(`error: ${process.env.BENCH_DEBUG ? err.stack : err.message}`);
    cleanup();
    process.exit(1);
  },
);
