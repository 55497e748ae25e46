#!/usr/bin/env node
/**
 * Command line: parse, validate, run. Only main() decides the exit status.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { runTrace } from './commands/trace.js';
import { EXIT_USAGE, UserError } from './errors.js';
import { parseChoice, parseCount, parsePath, parseRingMiB, parseSeconds } from './options.js';

const EPILOG = `Examples:
  sudo rsttrace                 one line per TCP reset on this host
  sudo rsttrace -o jsonl        JSON lines on stdout
  sudo rsttrace -w resets.jsonl keep a capture while watching
  sudo rsttrace -d 10 -n 100    stop after 10 s or 100 resets`;

export async function main(argv: string[], io = { stdoutFd: 1, stderr: (l: string) => process.stderr.write(l + '\n') }): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('rsttrace')
    .parserConfiguration({ 'camel-case-expansion': false })
    .usage('$0 [options]\n\nTraces every TCP reset this host sends or receives and says why.')
    .command(
      '$0',
      'trace TCP resets',
      (y) =>
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
      async (args) => {
        exitCode = await runTrace(
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
        );
      },
    )
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
