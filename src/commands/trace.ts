/**
 * The default command: attach, print one line per reset until stopped (signal,
 * --duration, --count, or the reader of stdout going away), then a summary.
 */
import { writeFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { systemClock } from '../clock.js';
import { defineCommand, type Io } from './command.js';
import { Correlator } from '../correlate.js';
import { createDecoder, type RawRecord } from '../decode.js';
import type { TraceEvent } from '../event.js';
import { errnoCode, EXIT_USAGE, UserError } from '../errors.js';
import { detectFeatures, FEATURES, KERNEL_FUNCTIONS, nativeFeatures, type Feature } from '../features.js';
import { kernelNames } from '../kernel.js';
import { loadAddon, requiredTracepoints, RSTTRACE_VERSION, type NativeTracer, type TracerStats } from '../native.js';
import { SCHEMA_VERSION, type SessionEnd } from '../output/jsonl.js';
import { jsonlOutput, textOutput, type Output } from '../output/outputs.js';
import { summaryOutput, type SummaryOutput } from '../output/summary.js';
import { fdSink, fileSink } from '../output/sink.js';
import { AF_INET, AF_INET6, decodeAddress, type Cidr } from '../addr.js';
import {
  listOf,
  parseCgroup,
  parseChoice,
  parseCidrs,
  parseCount,
  parseListen,
  parseNetns,
  parsePath,
  parsePids,
  parsePorts,
  parseReasons,
  parseRingMiB,
  parseSeconds,
} from '../options.js';
import { alive, listeningPortsOf, socketInodesOf, startCommand, sudoInvoker, targetTree, terminalSignalsReachCommand } from '../targets.js';
import { checkBtf, checkPrivileges, checkTracepoints } from '../preflight.js';
import { ProcessTable, SocketOwnerIndex } from '../procinfo.js';
import { kernelSymbols, useKernelSymbols } from '../symbols.js';

export interface TraceOptions {
  output: 'text' | 'jsonl';
  write?: string;
  force: boolean;
  quiet: boolean;
  /** text: one line per reset */
  brief: boolean;
  /** text: owner details and whole stacks */
  verbose: boolean;
  durationSec?: number;
  count?: number;
  ringBufferMib: number;
  /** written once the programs are attached (for tests and scripts) */
  readyFile?: string;
  /** -p: only sockets these processes own */
  pids?: number[];
  /** -- CMD ARGS: start this and trace only it */
  command?: string[];
  /** children of traced processes are traced too */
  followForks: boolean;
  /** with -p: keep tracing after every traced process has exited */
  keepWaiting: boolean;
  filters: TraceFilters;
  /** --summary: tables of counts instead of a line per reset, every intervalSec or at the end */
  summary: boolean;
  intervalSec?: number;
  top: number;
  /** the raw sys_exit hook (--syscall-hook): owners at accept, failed connect() and getsockopt(SO_ERROR); off by default, every syscall on the host pays for it */
  syscallHook: boolean;
  /** --force-fallback: do without these even if the kernel has them */
  forceFallback: Feature[];
  /** --metrics: serve Prometheus metrics here */
  metrics?: { host: string; port: number };
}

/** Kernel-side filters, as given (reason names are checked against this kernel). */
export interface TraceFilters {
  family?: 'ipv4' | 'ipv6';
  direction?: 'send' | 'recv';
  reasons?: string[];
  ports?: number[];
  laddr?: Cidr[];
  raddr?: Cidr[];
  cgroup?: number;
  netns?: number;
}

/** How often -p checks whether any traced process is left. */
const TARGETS_CHECK_MS = 250;
/** How long a command's exit waits for a signal-forwarded end. */
const COMMAND_GRACE_MS = 5000;


const LOSS_CHECK_MS = 1000;
/** How long a reset waiting for its owner's failed syscall (or an error for its reset) waits when no batch follows. */
const HOLD_MS = 20;

function lost(s: TracerStats): number {
  return s.ringbufDrops + s.recursionMisses;
}

function openTracer(create: () => NativeTracer): NativeTracer {
  try {
    return create();
  } catch (err) {
    const code = errnoCode(err) ?? 'EUNKNOWN';
    const first = (err as Error).message.split('\n')[0];
    // privileges were checked before: EACCES at load is the verifier saying no
    if (code === 'EACCES') {
      throw new UserError(
        `${first}: the kernel's verifier rejected a BPF program; run with -v to see libbpf's log, and rsttrace doctor for what this kernel lacks`,
        code,
      );
    }
    if (code === 'EPERM') {
      throw new UserError(
        `${first}: the kernel refused to load BPF programs; run as root, and check kernel lockdown (/sys/kernel/security/lockdown) and kernel.unprivileged_bpf_disabled`,
        code,
      );
    }
    throw new UserError(`cannot start tracing: ${(err as Error).message}`, code);
  }
}

export async function runTrace(opts: TraceOptions, io: Io): Promise<number> {
  checkPrivileges();
  checkBtf();
  const addon = loadAddon();
  const info = addon.kernelInfo(requiredTracepoints(addon), KERNEL_FUNCTIONS);
  checkTracepoints(info);
  const names = kernelNames(info);
  const features = detectFeatures(info, opts.forceFallback);
  const without = FEATURES.filter((f) => !features[f]);
  // before sock:sock_*_length (6.3) the sys_exit program is the only source of failed reads and writes
  const syscallHook = opts.syscallHook || !features['sock-length'];
  if (without.length) io.stderr(`rsttrace: this kernel (or --force-fallback) gives no ${without.join(', ')}: see rsttrace doctor; causes without a kernel reason are inferred`);
  const decoder = createDecoder(addon.layout);

  let readerGone = false;
  let summary: SummaryOutput | undefined;
  const outputs: Output[] = [];
  if (!opts.quiet) {
    const stdout = fdSink(io.stdoutFd, () => {
      readerGone = true;
      stop('stdout closed');
    });
    if (opts.summary) outputs.push((summary = summaryOutput(stdout, opts.top, opts.intervalSec !== undefined)));
    else outputs.push(opts.output === 'jsonl' ? jsonlOutput(stdout) : textOutput(stdout, { brief: opts.brief, verbose: opts.verbose }));
  }
  for (const pid of opts.pids ?? []) {
    if (!alive(pid)) throw new UserError(`no process with pid ${pid}; check it with ps -p ${pid}`, 'ESRCH');
  }
  const f = opts.filters;
  const filters = {
    targets: opts.pids !== undefined || opts.command !== undefined,
    followForks: opts.followForks,
    family: f.family === 'ipv4' ? AF_INET : f.family === 'ipv6' ? AF_INET6 : 0,
    kind: f.direction === 'send' ? addon.layout.constants.RST_KIND_SEND : f.direction === 'recv' ? addon.layout.constants.RST_KIND_RECV : 0,
    reasons: f.reasons && parseReasons('--reason', f.reasons, names.reasonValues()),
    ports: f.ports,
    laddr: f.laddr,
    raddr: f.raddr,
    cgroup: f.cgroup ?? 0,
    netns: f.netns ?? 0,
  };

  // before the programs load: a busy port is a one-line error, not a half-run
  let stats: TracerStats | undefined;
  let tracerOpen = false;
  const metrics =
    opts.metrics &&
    // prom-client loads only when asked for: it is a fifth of start-up
    (await (await import('../output/metrics.js')).startMetrics(opts.metrics.host, opts.metrics.port, () => {
      if (!stats && !tracerOpen) return { lost: 0, filtered: 0 }; // scraped while loading
      const s = stats ?? tracer.stats();
      return { lost: lost(s), filtered: s.filtered };
    }));
  if (metrics) outputs.push(metrics.output);
  // created last, once nothing before it can fail: no empty file after a bad option
  let file: ReturnType<typeof fileSink> | undefined;
  try {
    file = opts.write ? fileSink(opts.write, opts.force) : undefined;
  } catch (err) {
    await metrics?.close();
    throw err;
  }
  if (file) outputs.push(jsonlOutput(file));

  let tracer: NativeTracer;
  try {
    tracer = openTracer(
      () => new addon.Tracer({ ringBufferBytes: opts.ringBufferMib << 20, filters, features: { ...nativeFeatures(features), syscallHook } }),
    );
  } catch (err) {
    file?.abandon();
    await metrics?.close();
    throw err;
  }
  tracerOpen = true;
  if (opts.pids) {
    // processes (and children) as they are now, and the sockets they already hold
    const tree = targetTree(opts.pids, opts.followForks);
    tracer.addTargets(tree);
    const held = socketInodesOf(tree);
    tracer.addTargetInodes(held);
    try {
      tracer.addTargetPorts(listeningPortsOf(held));
    } catch (err) {
      // a full map costs coverage, not the run
      io.stderr(`rsttrace: warning: not every listening port of the traced processes was noted (${(err as Error).message}); what they accept is traced from its first read or write`);
    }
  }
  const command = opts.command && startCommand(opts.command, sudoInvoker());
  if (command) tracer.addTargets([command.pid]);
  let exitStatus = 0;
  const startNs = process.hrtime.bigint();
  const clock = systemClock();
  const correlator = new Correlator({
    names,
    syscalls: addon.syscalls,
    symbols: kernelSymbols(),
    clock,
    processes: new ProcessTable(),
    // sockets opened before the programs were attached, or accepted and not
    // yet used, have no owner in the kernel maps
    procOwners: new SocketOwnerIndex(),
  });
  const nowWall = () => clock.wallNs(Number(process.hrtime.bigint()));

  let resets = 0;
  let lastShownId = 0;
  /** resets left out once -n was reached (only then: a few, while draining) */
  const notShown = new Set<number>();
  let sent = 0;
  let syscallErrors = 0;
  let lostReported = 0;
  let stopping = false;
  let resolveDone: (code: number) => void;
  let rejectDone: (err: Error) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // a write that fails (ENOSPC, EIO...) ends the run: detached, one line, non-zero
  let failure: Error | undefined;
  let started = false;
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    stop(`error: ${failure.message}`);
  };

  const reportLoss = (stats: TracerStats) => {
    const total = lost(stats);
    if (total <= lostReported) return;
    const delta = total - lostReported;
    lostReported = total;
    io.stderr(`rsttrace: warning: ${delta} reset events lost (${total} in all): the ring buffer was full; try a larger --ring-buffer`);
    for (const o of outputs) o.lost(nowWall(), delta, total);
  };

  // the kernel could not check these filters on an error whose socket had
  // lost its 4-tuple: it stands only with the reset it belongs to
  const tupleFiltered = Boolean(f.ports || f.laddr || f.raddr || f.family);
  const emit = (all: TraceEvent[]) => {
    const evs = tupleFiltered ? all.filter((e) => e.type !== 'syscall_error' || e.reset_id !== null || e.rport !== 0) : all;
    // -n counts resets; a failed syscall goes with its reset, if that was
    // shown (ids are not in output order: a reset waiting for its owner
    // comes after later ones)
    const shown: TraceEvent[] = [];
    for (const e of evs) {
      const full = opts.count !== undefined && resets >= opts.count;
      if (e.type === 'reset') {
        if (full) {
          notShown.add(e.id);
          continue;
        }
        resets++;
        lastShownId = Math.max(lastShownId, e.id);
        if (e.direction === 'send') sent++;
      } else {
        if (full && (e.reset_id === null || e.reset_id > lastShownId || notShown.has(e.reset_id))) continue;
        syscallErrors++;
      }
      shown.push(e);
    }
    for (const o of outputs) o.events(shown);
  };

  // what the correlator holds for the next batch is let go if none comes
  let holdTimer: NodeJS.Timeout | undefined;
  const correlate = (records: RawRecord[]) => {
    clearTimeout(holdTimer);
    try {
      emit(correlator.process(records));
    } catch (err) {
      fail(err);
      return;
    }
    if (opts.count !== undefined && resets >= opts.count) stop('count');
    else if (correlator.holding) holdTimer = setTimeout(() => !stopping && correlate([]), HOLD_MS);
  };
  const onBatch = (batch: Buffer) => {
    const records: RawRecord[] = [];
    try {
      const n = decoder.count(batch);
      for (let i = 0; i < n; i++) records.push(decoder.decode(batch, i));
    } catch (err) {
      fail(err);
      return;
    }
    correlate(records);
  };

  const lossTimer = setInterval(() => reportLoss(tracer.stats()), LOSS_CHECK_MS);
  const targetsTimer =
    opts.pids && !opts.keepWaiting
      ? setInterval(() => {
          if (!tracer.targets().some(alive)) stop('traced processes exited');
        }, TARGETS_CHECK_MS)
      : undefined;
  command?.exited.then((status) => {
    exitStatus = status;
    // what its last syscalls made is in the ring already: drain it now
    stop(`command exited with status ${status}`);
  });
  const summaryTimer = summary && opts.intervalSec ? setInterval(() => summary!.flush(nowWall()), opts.intervalSec * 1000) : undefined;
  const durationTimer = opts.durationSec ? setTimeout(() => stop('duration'), opts.durationSec * 1000) : undefined;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    if (command && command.child.exitCode === null && command.child.signalCode === null) {
      // the command decides when it ends; rsttrace follows it out. What the
      // terminal sent (Ctrl-C, hang-up) the command got too: not twice.
      if (!((signal === 'SIGINT' || signal === 'SIGHUP') && terminalSignalsReachCommand(command.pid))) command.child.kill(signal);
      setTimeout(() => stop(`signal ${signal}`), COMMAND_GRACE_MS).unref();
      return;
    }
    stop(`signal ${signal}`);
  };
  for (const s of signals) process.on(s, onSignal);

  function stop(reason: string) {
    if (stopping) return;
    stopping = true;
    clearInterval(lossTimer);
    clearInterval(targetsTimer);
    clearInterval(summaryTimer);
    clearTimeout(holdTimer);
    if (durationTimer) clearTimeout(durationTimer);
    for (const s of signals) process.off(s, onSignal);
    // a command still held at the door must not run untraced: it exits 125
    command?.release();
    // What the kernel already wrote is still ours to print.
    if (!readerGone && !failure && started) {
      try {
        tracer.drain();
        emit(correlator.flush());
      } catch (err) {
        failure ??= err as Error;
      }
    }
    const final = tracer.stats();
    stats = final; // what the metrics show from now on: the tracer is closed
    tracer.close();
    if (!readerGone) reportLoss(final);
    const secs = Number(process.hrtime.bigint() - startNs) / 1e9;
    const end: SessionEnd = {
      reason,
      duration_s: Math.round(secs * 1000) / 1000,
      resets,
      sent,
      received: resets - sent,
      syscall_errors: syscallErrors,
      lost: lost(final),
    };
    for (const o of outputs) {
      try {
        o.end(nowWall(), end);
      } catch (err) {
        failure ??= err as Error;
      }
    }
    // a capture of a run that never started tracing is removed, not left half-written
    if (!started) file?.abandon();
    if (!readerGone && !failure) {
      io.stderr(`rsttrace: ${resets} resets (${sent} sent, ${resets - sent} received) in ${secs.toFixed(1)} s, ${end.lost} lost`);
    }
    void (metrics ? metrics.close() : Promise.resolve()).then(() => {
      if (failure) {
        const code = errnoCode(failure) ?? 'EIO';
        rejectDone(new UserError(`cannot write output: ${failure.message.replace(/^[A-Z]+: /, '')}; ${resets} resets were traced, ${end.lost} lost`, code));
      } else resolveDone(exitStatus);
    });
  }

  const { readyFile, filters: given, forceFallback: _forced, ...rest } = opts;
  const cidr = (c: Cidr) => `${decodeAddress(c.family, c.addr).address}/${c.prefixLen}`;
  const metricsText = opts.metrics && `${opts.metrics.host.includes(':') ? `[${opts.metrics.host}]` : opts.metrics.host}:${opts.metrics.port}`;
  const shown = { ...rest, ...given, laddr: given.laddr?.map(cidr), raddr: given.raddr?.map(cidr), metrics: metricsText, syscallHook };
  const shownOptions = Object.fromEntries(Object.entries(shown).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
  try {
    for (const o of outputs) {
      o.start(nowWall(), {
      host: hostname(),
      kernel: release(),
      rsttrace_version: RSTTRACE_VERSION,
      pid: process.pid,
      mono_ns: Number(process.hrtime.bigint()),
      // what was used: socket storage gives way to the sys_exit hook (native/config.cc)
      features: { ...Object.fromEntries(FEATURES.map((f) => [f.replace('-', '_'), features[f]])), sk_storage: features['sk-storage'] && !syscallHook },
      options: shownOptions,
      });
    }
  } catch (err) {
    fail(err);
  }
  // a reader gone or a write failed already: stop() has detached; nothing to start
  if (stopping) return done;
  tracer.start(onBatch);
  started = true;
  io.stderr(`rsttrace: tracing TCP resets (schema ${SCHEMA_VERSION}); Ctrl-C to end`);
  if (metrics) io.stderr(`rsttrace: Prometheus metrics at http://${metrics.address}/metrics`);
  command?.go();
  if (readyFile) writeFileSync(readyFile, `${process.pid}\n`);
  // attached: now the symbol table, before the first stack wants it. Read
  // after the load, never before: a stack begins with this run's programs,
  // which must be in it to be dropped (context.ts). Read on a pool thread
  // (~50 ms of the kernel's formatting), parsed here.
  void addon
    .readFile('/proc/kallsyms')
    .catch(() => Buffer.alloc(0))
    .then(useKernelSymbols);
  return done;
}

const MAX_PORTS = 8;
const MAX_PREFIXES = 4;

export const traceCommand = defineCommand({
  command: '$0',
  describe: 'trace TCP resets (the default command); `rsttrace [options] -- CMD ARGS` traces a command',
  builder: (y) =>
    y
      .option('output', { alias: 'o', type: 'string', default: 'text', describe: 'stdout format: text | jsonl', group: 'Output:' })
      .option('write', { alias: 'w', type: 'string', describe: 'also write JSON lines to FILE (created 0600)', group: 'Output:' })
      .option('force', { type: 'boolean', default: false, describe: 'let -w overwrite an existing file', group: 'Output:' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'nothing on stdout (with -w)', group: 'Output:' })
      .option('brief', { type: 'boolean', default: false, describe: 'text: one line per reset, no explanation', group: 'Output:' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'text: owner details and the whole kernel stack', group: 'Output:' })
      .option('pid', { alias: 'p', type: 'string', describe: 'only sockets owned by PID[,PID...] (any thread)', group: 'Processes:' })
      .option('follow-forks', { type: 'boolean', default: true, describe: 'children of traced processes are traced too (--no-follow-forks)', group: 'Processes:' })
      .option('keep-waiting', { type: 'boolean', default: false, describe: 'with -p: go on after every traced process has exited', group: 'Processes:' })
      .option('port', { type: 'string', describe: `local or remote port (repeat or comma-separate, ${MAX_PORTS} at most)`, group: 'Filters:' })
      .option('laddr', { type: 'string', describe: 'local address or prefix: 10.0.0.1, 10.0.0.0/8, ::1, 2001:db8::/32', group: 'Filters:' })
      .option('raddr', { type: 'string', describe: 'remote address or prefix', group: 'Filters:' })
      .option('ipv4', { alias: '4', type: 'boolean', describe: 'IPv4 only (v4-mapped IPv6 counts as IPv4)', group: 'Filters:' })
      .option('ipv6', { alias: '6', type: 'boolean', describe: 'IPv6 only', group: 'Filters:' })
      .option('direction', { type: 'string', describe: 'send | recv', group: 'Filters:' })
      .option('reason', { type: 'string', describe: "kernel reason names, e.g. NO_SOCKET,TCP_ABORT_ON_CLOSE (as this kernel spells them, any case)", group: 'Filters:' })
      .option('cgroup', { type: 'string', describe: 'only sockets owned from this cgroup v2 (path under /sys/fs/cgroup)', group: 'Filters:' })
      .option('netns', { type: 'string', describe: 'network namespace: name (ip netns), /proc/PID/ns/net or inode', group: 'Filters:' })
      .option('duration', { alias: 'd', type: 'number', describe: 'stop after SECONDS', group: 'Stop:' })
      .option('count', { alias: 'n', type: 'number', describe: 'stop after N resets', group: 'Stop:' })
      .option('summary', { alias: 's', type: 'boolean', default: false, describe: 'tables of counts by cause, owner, peer, port instead of a line per reset', group: 'Output:' })
      .option('interval', { alias: 'i', type: 'number', describe: 'with --summary: print every SECONDS', group: 'Output:' })
      .option('top', { type: 'number', default: 10, describe: 'with --summary: rows per table', group: 'Output:' })
      .option('syscall-hook', {
        type: 'boolean',
        default: false,
        describe: 'also hook every syscall exit: failed connect() and getsockopt(SO_ERROR) as syscall_error records, owners of accepted sockets at accept(); every syscall on the host pays for it',
        group: 'Tuning:',
      })
      .option('metrics', { type: 'string', describe: 'serve Prometheus metrics on HOST:PORT (e.g. 127.0.0.1:9464)', group: 'Output:' })
      // 32 MiB hold ~110 k records without a stack: ~0.85 s of a
      // maximum-rate storm (~127 k records/s) while user space is held up.
      // 8 MiB, then 16 as the kernel side got cheaper and storms faster,
      // lost records in a bench's first run; RSS counts the ring twice (it
      // is mapped twice): ~165 MB in a storm (bench/FINDINGS.md)
      .option('ring-buffer', { type: 'number', default: 32, describe: 'ring buffer size in MiB (power of two)', group: 'Tuning:' })
      .option('ready-file', { type: 'string', hidden: true })
      .option('force-fallback', { type: 'string', hidden: true, describe: `do without: ${FEATURES.join(', ')}` }),
  run: (args, io, rawArgv) => {
    // yargs leaves '--' out when nothing follows it: look at the raw argv
    const command = (args['--'] as string[] | undefined)?.map(String) ?? (rawArgv.includes('--') ? [] : undefined);
    if (command !== undefined && command.length === 0) throw new UserError('nothing after --: give the command to run, e.g. rsttrace -- curl http://127.0.0.1/', 'EUSAGE', EXIT_USAGE);
    if (command && args.pid !== undefined) throw new UserError('-p and -- CMD exclude each other: trace a running process or start one', 'EUSAGE', EXIT_USAGE);
    if (args.interval !== undefined && !args.summary) throw new UserError('-i goes with --summary: rsttrace --summary -i 5', 'EUSAGE', EXIT_USAGE);
    if (args.summary && args.output === 'jsonl') throw new UserError('--summary prints tables; for JSON lines use -w FILE (or rsttrace report -o json)', 'EUSAGE', EXIT_USAGE);
    if (args.ipv4 && args.ipv6) throw new UserError('-4 and -6 exclude each other', 'EUSAGE', EXIT_USAGE);
    const optional = <T>(v: unknown, parse: (v: unknown) => T): T | undefined => (v === undefined ? undefined : parse(v));
    return runTrace(
      {
        output: parseChoice('--output', args.output, ['text', 'jsonl'] as const),
        write: optional(args.write, (v) => parsePath('--write', v)),
        force: args.force,
        quiet: args.quiet,
        brief: args.brief,
        verbose: args.verbose,
        durationSec: optional(args.duration, (v) => parseSeconds('--duration', v)),
        count: optional(args.count, (v) => parseCount('--count', v)),
        ringBufferMib: parseRingMiB('--ring-buffer', args['ring-buffer']),
        readyFile: args['ready-file'],
        forceFallback: optional(args['force-fallback'], (v) => listOf(v).map((f) => parseChoice('--force-fallback', f, FEATURES))) ?? [],
        summary: args.summary,
        syscallHook: args['syscall-hook'],
        intervalSec: optional(args.interval, (v) => parseSeconds('--interval', v)),
        top: parseCount('--top', args.top),
        metrics: optional(args.metrics, (v) => parseListen('--metrics', v)),
        pids: optional(args.pid, (v) => parsePids('--pid', v)),
        command,
        followForks: args['follow-forks'],
        keepWaiting: args['keep-waiting'],
        filters: {
          family: args.ipv4 ? 'ipv4' : args.ipv6 ? 'ipv6' : undefined,
          direction: optional(args.direction, (v) => parseChoice('--direction', v, ['send', 'recv'] as const)),
          reasons: optional(args.reason, listOf),
          ports: optional(args.port, (v) => parsePorts('--port', v, MAX_PORTS)),
          laddr: optional(args.laddr, (v) => parseCidrs('--laddr', v, MAX_PREFIXES)),
          raddr: optional(args.raddr, (v) => parseCidrs('--raddr', v, MAX_PREFIXES)),
          cgroup: optional(args.cgroup, (v) => parseCgroup('--cgroup', v)),
          netns: optional(args.netns, (v) => parseNetns('--netns', v)),
        },
      },
      io,
    );
  },
});
