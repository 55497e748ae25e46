/**
 * The default command: attach, print one line per reset until stopped (signal,
 * --duration, --count, or the reader of stdout going away), then a summary.
 */
import { writeFileSync } from 'node:fs';
import { systemClock } from '../clock.js';
import { defineCommand, type Io } from './command.js';
import { Correlator } from '../correlate.js';
import { createDecoder, type RawRecord } from '../decode.js';
import type { TraceEvent } from '../event.js';
import { errnoCode, UserError } from '../errors.js';
import { kernelNames } from '../kernel.js';
import { loadAddon, type NativeTracer, type TracerStats } from '../native.js';
import { formatJsonLine, SCHEMA_VERSION } from '../output/jsonl.js';
import { fdSink, fileSink, type Sink } from '../output/sink.js';
import { formatText, TEXT_HEADER } from '../output/text.js';
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
  ringMiB: number;
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
  const sinks: { sink: Sink; format: (e: TraceEvent) => string }[] = [];
  if (!opts.quiet) {
    const textOpts = { brief: opts.brief, verbose: opts.verbose };
    const format = opts.output === 'jsonl' ? formatJsonLine : (e: TraceEvent) => formatText(e, textOpts);
    sinks.push({ sink: fdSink(io.stdoutFd, () => ((readerGone = true), stop())), format });
  }
  const file = opts.write ? fileSink(opts.write, opts.force) : undefined;
  if (file) sinks.push({ sink: file, format: formatJsonLine });

  let tracer: NativeTracer;
  try {
    tracer = openTracer(() => new addon.Tracer({ ringBufferBytes: opts.ringMiB << 20 }));
  } catch (err) {
    file?.abandon();
    throw err;
  }
  const startNs = process.hrtime.bigint();
  const correlator = new Correlator({
    names,
    syscalls: addon.syscalls,
    symbols: kernelSymbols(),
    clock: systemClock(),
    processes: new ProcessTable(),
    // sockets opened before the programs were attached have no owner in the kernel maps
    procOwners: scanSocketOwners(),
  });

  let events = 0;
  let sent = 0;
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
    const record = JSON.stringify({ type: 'lost', schema_version: SCHEMA_VERSION, time: new Date().toISOString(), lost: delta, lost_total: total });
    for (const { sink, format } of sinks) if (format === formatJsonLine) sink.write(record + '\n');
  };

  const emit = (evs: TraceEvent[]) => {
    const chunks = sinks.map(() => [] as string[]);
    for (const e of evs) {
      if (e.type === 'reset') {
        if (opts.count !== undefined && events >= opts.count) break;
        events++;
        if (e.direction === 'send') sent++;
      }
      sinks.forEach(({ format }, k) => chunks[k]!.push(format(e)));
    }
    sinks.forEach(({ sink }, k) => {
      if (chunks[k]!.length) sink.write(chunks[k]!.join('\n') + '\n');
    });
  };

  const onBatch = (batch: Buffer) => {
    const n = decoder.count(batch);
    const records: RawRecord[] = [];
    for (let i = 0; i < n; i++) records.push(decoder.decode(batch, i));
    emit(correlator.process(records));
    if (opts.count !== undefined && events >= opts.count) stop();
  };

  const lossTimer = setInterval(() => reportLoss(tracer.stats()), LOSS_CHECK_MS);
  const durationTimer = opts.durationSec ? setTimeout(() => stop(), opts.durationSec * 1000) : undefined;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = () => stop();
  for (const s of signals) process.on(s, onSignal);

  function stop() {
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
    for (const { sink } of sinks) sink.close();
    if (!readerGone) {
      const secs = Number(process.hrtime.bigint() - startNs) / 1e9;
      io.stderr(
        `rsttrace: ${events} resets (${sent} sent, ${events - sent} received) in ${secs.toFixed(1)} s, ${lost(stats)} lost`,
      );
    }
    resolveDone(0);
  }

  if (opts.output === 'text' && !opts.quiet) sinks[0]!.sink.write(TEXT_HEADER + '\n');
  tracer.start(onBatch);
  io.stderr(`rsttrace: tracing TCP resets (schema ${SCHEMA_VERSION}); Ctrl-C to end`);
  if (opts.readyFile) writeFileSync(opts.readyFile, `${process.pid}\n`);
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
        ringMiB: parseRingMiB('--ring-buffer', args['ring-buffer']),
        readyFile: args['ready-file'],
      },
      io,
    ),
});
