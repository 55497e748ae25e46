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
import { errnoCode, UserError } from '../errors.js';
import { kernelNames } from '../kernel.js';
import { loadAddon, RSTTRACE_VERSION, type NativeTracer, type TracerStats } from '../native.js';
import { SCHEMA_VERSION, type SessionEnd } from '../output/jsonl.js';
import { jsonlOutput, textOutput, type Output } from '../output/outputs.js';
import { fdSink, fileSink } from '../output/sink.js';
import { parseChoice, parseCount, parsePath, parseRingMiB, parseSeconds } from '../options.js';
import { checkBtf, checkPrivileges, checkTracepoints } from '../preflight.js';
import { ProcessTable, scanSocketOwners } from '../procinfo.js';
import { kernelSymbols } from '../symbols.js';

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
}


const LOSS_CHECK_MS = 1000;

function lost(s: TracerStats): number {
  return s.ringbufDrops + s.recursionMisses;
}

function openTracer(create: () => NativeTracer): NativeTracer {
  try {
    return create();
  } catch (err) {
    const code = errnoCode(err) ?? 'EUNKNOWN';
    const first = (err as Error).message.split('\n')[0];
    if (code === 'EPERM' || code === 'EACCES') {
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
  const info = addon.kernelInfo();
  checkTracepoints(info);
  const names = kernelNames(info);
  const decoder = createDecoder(addon.layout);

  let readerGone = false;
  const outputs: Output[] = [];
  if (!opts.quiet) {
    const stdout = fdSink(io.stdoutFd, () => {
      readerGone = true;
      stop('stdout closed');
    });
    outputs.push(opts.output === 'jsonl' ? jsonlOutput(stdout) : textOutput(stdout, { brief: opts.brief, verbose: opts.verbose }));
  }
  const file = opts.write ? fileSink(opts.write, opts.force) : undefined;
  if (file) outputs.push(jsonlOutput(file));

  let tracer: NativeTracer;
  try {
    tracer = openTracer(() => new addon.Tracer({ ringBufferBytes: opts.ringBufferMib << 20 }));
  } catch (err) {
    file?.abandon();
    throw err;
  }
  const startNs = process.hrtime.bigint();
  const clock = systemClock();
  const correlator = new Correlator({
    names,
    syscalls: addon.syscalls,
    symbols: kernelSymbols(),
    clock,
    processes: new ProcessTable(),
    // sockets opened before the programs were attached have no owner in the kernel maps
    procOwners: scanSocketOwners(),
  });
  const nowWall = () => clock.wallNs(Number(process.hrtime.bigint()));

  let resets = 0;
  let sent = 0;
  let syscallErrors = 0;
  let lostReported = 0;
  let stopping = false;
  let resolveDone: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const reportLoss = (stats: TracerStats) => {
    const total = lost(stats);
    if (total <= lostReported) return;
    const delta = total - lostReported;
    lostReported = total;
    io.stderr(`rsttrace: warning: ${delta} reset events lost (${total} in all): the ring buffer was full; try a larger --ring-buffer`);
    for (const o of outputs) o.lost(nowWall(), delta, total);
  };

  const emit = (evs: TraceEvent[]) => {
    let n = 0;
    for (const e of evs) {
      if (e.type === 'reset') {
        if (opts.count !== undefined && resets >= opts.count) break;
        resets++;
        if (e.direction === 'send') sent++;
      } else {
        syscallErrors++;
      }
      n++;
    }
    const shown = n === evs.length ? evs : evs.slice(0, n);
    for (const o of outputs) o.events(shown);
  };

  const onBatch = (batch: Buffer) => {
    const n = decoder.count(batch);
    const records: RawRecord[] = [];
    for (let i = 0; i < n; i++) records.push(decoder.decode(batch, i));
    emit(correlator.process(records));
    if (opts.count !== undefined && resets >= opts.count) stop('count');
  };

  const lossTimer = setInterval(() => reportLoss(tracer.stats()), LOSS_CHECK_MS);
  const durationTimer = opts.durationSec ? setTimeout(() => stop('duration'), opts.durationSec * 1000) : undefined;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => stop(`signal ${signal}`);
  for (const s of signals) process.on(s, onSignal);

  function stop(reason: string) {
    if (stopping) return;
    stopping = true;
    clearInterval(lossTimer);
    if (durationTimer) clearTimeout(durationTimer);
    for (const s of signals) process.off(s, onSignal);
    // What the kernel already wrote is still ours to print.
    if (!readerGone) {
      tracer.drain();
      emit(correlator.flush());
    }
    const stats = tracer.stats();
    tracer.close();
    if (!readerGone) reportLoss(stats);
    const secs = Number(process.hrtime.bigint() - startNs) / 1e9;
    const end: SessionEnd = {
      reason,
      duration_s: Math.round(secs * 1000) / 1000,
      resets,
      sent,
      received: resets - sent,
      syscall_errors: syscallErrors,
      lost: lost(stats),
    };
    for (const o of outputs) o.end(nowWall(), end);
    if (!readerGone) {
      io.stderr(`rsttrace: ${resets} resets (${sent} sent, ${resets - sent} received) in ${secs.toFixed(1)} s, ${end.lost} lost`);
    }
    resolveDone(0);
  }

  const { readyFile, ...shown } = opts;
  const shownOptions = Object.fromEntries(Object.entries(shown).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
  for (const o of outputs) {
    o.start(nowWall(), {
      host: hostname(),
      kernel: release(),
      rsttrace_version: RSTTRACE_VERSION,
      pid: process.pid,
      mono_ns: Number(process.hrtime.bigint()),
      options: shownOptions,
    });
  }
  tracer.start(onBatch);
  io.stderr(`rsttrace: tracing TCP resets (schema ${SCHEMA_VERSION}); Ctrl-C to end`);
  if (readyFile) writeFileSync(readyFile, `${process.pid}\n`);
  return done;
}

export const traceCommand = defineCommand({
  command: '$0',
  describe: 'trace TCP resets (the default command)',
  builder: (y) =>
    y
      .option('output', { alias: 'o', type: 'string', default: 'text', describe: 'stdout format: text | jsonl', group: 'Output:' })
      .option('write', { alias: 'w', type: 'string', describe: 'also write JSON lines to FILE (created 0600)', group: 'Output:' })
      .option('force', { type: 'boolean', default: false, describe: 'let -w overwrite an existing file', group: 'Output:' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'nothing on stdout (with -w)', group: 'Output:' })
      .option('brief', { type: 'boolean', default: false, describe: 'text: one line per reset, no explanation', group: 'Output:' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'text: owner details and the whole kernel stack', group: 'Output:' })
      .option('duration', { alias: 'd', type: 'number', describe: 'stop after SECONDS', group: 'Stop:' })
      .option('count', { alias: 'n', type: 'number', describe: 'stop after N resets', group: 'Stop:' })
      .option('ring-buffer', { type: 'number', default: 8, describe: 'ring buffer size in MiB (power of two)', group: 'Tuning:' })
      .option('ready-file', { type: 'string', hidden: true }),
  run: (args, io) =>
    runTrace(
      {
        output: parseChoice('--output', args.output, ['text', 'jsonl'] as const),
        write: args.write === undefined ? undefined : parsePath('--write', args.write),
        force: args.force,
        quiet: args.quiet,
        brief: args.brief,
        verbose: args.verbose,
        durationSec: args.duration === undefined ? undefined : parseSeconds('--duration', args.duration),
        count: args.count === undefined ? undefined : parseCount('--count', args.count),
        ringBufferMib: parseRingMiB('--ring-buffer', args['ring-buffer']),
        readyFile: args['ready-file'],
      },
      io,
    ),
});
