#!/usr/bin/env -S node --max-old-space-size=96 --max-semi-space-size=8 --single-threaded
/**
 * Command line: parse, validate, run. Only main() decides the exit status.
 *
 * The #! line caps V8's heap (old space 96 MB, semi-spaces 8 MB): every table
 * rsttrace keeps is bounded, and uncapped V8 let a storm's garbage grow the
 * process to 300+ MB before collecting it (bench/RESULTS.md). And it keeps
 * V8's work on the main thread (--single-threaded: no collector or compiler
 * threads): on a machine of few cores those ran beside the very workload
 * being traced, and cost more CPU in all than the same work done in line
 * (bench/FINDINGS.md). V8's inlining budget is its default: half of it
 * compiled a storm's hot path in 45 ms less, once a run, but left the
 * decoder twice as slow, every record after (bench/FINDINGS.md).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import type { Command, Io } from './commands/command.js';
import { reportCommand } from './commands/report.js';
import { doctorCommand } from './commands/doctor.js';
import { traceCommand } from './commands/trace.js';
import { EXIT_USAGE, UserError } from './errors.js';

/** Every command rsttrace has; the first is the default. */
const COMMANDS: Command[] = [traceCommand, reportCommand, doctorCommand];

const EPILOG = `Examples:
  sudo rsttrace                 one line per TCP reset on this host
  sudo rsttrace -o jsonl        JSON lines on stdout
  sudo rsttrace -w resets.jsonl keep a capture while watching
  sudo rsttrace -d 10 -n 100    stop after 10 s or 100 resets`;

export async function main(argv: string[], io: Io = { stdoutFd: 1, stderr: (l: string) => process.stderr.write(l + '\n') }): Promise<number> {
  let exitCode = 0;
  let parser = yargs(argv)
    .scriptName('rsttrace')
    // one parser configuration for all commands: a command's own replaces it
    .parserConfiguration({ 'camel-case-expansion': false, 'populate--': true })
    .usage('$0 [command] [options]\n\nTraces every TCP reset this host sends or receives and says why.');
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder, async (args) => {
      exitCode = await c.run(args, io, argv);
    });
  }
  parser = parser
    .strict()
    .epilog(EPILOG)
    .help()
    .alias('help', 'h')
    .version()
    .alias('version', 'V')
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(`${msg} (see rsttrace --help)`, 'EUSAGE', EXIT_USAGE);
    });

  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    if (err instanceof UserError) {
      io.stderr(`rsttrace: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`rsttrace: internal error (a bug, please report it): ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
