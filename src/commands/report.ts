/**
 * `rsttrace report FILE`: what a JSON lines capture says, offline, with no
 * privileges. One streaming pass in bounded memory. A malformed line is
 * named on stderr (file:line: what is wrong), left out and counted, and
 * makes the exit status 1, so that a script notices a damaged capture.
 */
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { defineCommand, type Io } from './command.js';
import { errnoCode, UserError } from '../errors.js';
import { parseChoice, parseCount, parsePath } from '../options.js';
import { fdSink } from '../output/sink.js';
import { Aggregator } from '../report/aggregate.js';
import { formatReportJson, formatReportText } from '../report/format.js';
import { JsonlReader } from '../report/reader.js';

export interface ReportOptions {
  /** a path, or "-" for stdin */
  file: string;
  top: number;
  /** stop at the first malformed line */
  strict: boolean;
  output: 'text' | 'json';
}

/** Malformed lines named one by one; past this many, only counted. */
export const PROBLEMS_SHOWN = 10;

const READ_CHUNK_BYTES = 1 << 20;

function reason(err: unknown): string {
  return (err as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

function openInput(file: string): Readable {
  if (file === '-') return process.stdin;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${reason(err)}`, errnoCode(err) ?? 'EIO');
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new UserError(`cannot read ${file}: it is a directory; give the JSON lines file written by rsttrace -w`, 'EISDIR');
  }
  return createReadStream(file, { fd, highWaterMark: READ_CHUNK_BYTES });
}

export async function runReport(opts: ReportOptions, io: Io): Promise<number> {
  const name = opts.file === '-' ? '<stdin>' : opts.file;
  const input = openInput(opts.file);
  const reader = new JsonlReader();
  const aggregator = new Aggregator({ top: opts.top });
  let skipped = 0;
  try {
    for await (const item of reader.read(input)) {
      if (item.kind === 'record') {
        aggregator.add(item.record);
        continue;
      }
      skipped++;
      if (skipped <= PROBLEMS_SHOWN || opts.strict) io.stderr(`rsttrace: ${name}:${item.line}: ${item.problem}`);
      if (opts.strict) {
        io.stderr(`rsttrace: stopped at the first malformed line (--strict)`);
        return 1;
      }
    }
  } catch (err) {
    throw new UserError(`cannot read ${name}: ${reason(err)}`, errnoCode(err) ?? 'EIO');
  } finally {
    input.destroy();
  }
  if (skipped > PROBLEMS_SHOWN) io.stderr(`rsttrace: ${name}: ${skipped - PROBLEMS_SHOWN} more malformed lines not shown`);

  const report = { input: name, lines: reader.lines, skipped, ...aggregator.summary() };
  const text = opts.output === 'json' ? formatReportJson(report) : formatReportText(report);
  // a reader that went away (| head) has what it wanted
  fdSink(io.stdoutFd, () => {}).write(text);
  if (skipped) {
    io.stderr(`rsttrace: ${skipped} malformed ${skipped === 1 ? 'line' : 'lines'} of ${reader.lines} skipped in ${name}`);
    return 1;
  }
  return 0;
}

export const reportCommand = defineCommand({
  command: 'report <file>',
  describe: 'summarize a JSON lines capture (FILE, or - for stdin): causes, owners, peers, timelines',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'the capture, or - for stdin' })
      .option('top', { type: 'number', default: 10, describe: 'rows per table and connections with a timeline' })
      .option('strict', { type: 'boolean', default: false, describe: 'stop at the first malformed line (exit status 1)' })
      .option('output', { alias: 'o', type: 'string', default: 'text', describe: 'text | json (the aggregates as one object)' }),
  run: (args, io) =>
    runReport(
      {
        // yargs turns a positional "-" into "" (it reads it as a flag with no value); nobody means a file named ""
        file: args.file === '' ? '-' : parsePath('FILE', args.file),
        top: parseCount('--top', args.top),
        strict: args.strict,
        output: parseChoice('--output', args.output, ['text', 'json'] as const),
      },
      io,
    ),
});
