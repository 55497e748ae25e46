/**
 * How a command is declared: its words, its options (yargs builder) and the
 * function that runs it and returns the exit status. cli.ts lists them.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';

export interface Io {
  stdoutFd: number;
  stderr: (line: string) => void;
}

export interface Command {
  command: string | readonly string[];
  describe: string;
  builder: (y: Argv) => Argv<any>;
  /** `argv`: the command line as given, for what the parser hides (a bare `--`) */
  run: (args: ArgumentsCamelCase<any>, io: Io, argv: readonly string[]) => Promise<number>;
}

/** Keeps the builder's option types for `run`, then erases them for the list. */
export function defineCommand<A>(def: {
  command: string | readonly string[];
  describe: string;
  builder: (y: Argv) => Argv<A>;
  run: (args: ArgumentsCamelCase<A>, io: Io, argv: readonly string[]) => Promise<number>;
}): Command {
  return def as Command;
}
