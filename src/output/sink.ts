/**
 * Where lines go: stdout or a file. Writes are synchronous and batched (one
 * write per delivery), so nothing is lost when rsttrace stops.
 */
import { closeSync, constants, existsSync, ftruncateSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface Sink {
  write(chunk: string): void;
  close(): void;
  /** remove what was created, for a run that failed before tracing started */
  abandon(): void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Every byte of `chunk`, or an exception. A pipe may take part of a write,
 * or (non-blocking, as stdout can be) none of it: wait for the reader rather
 * than drop the rest.
 */
export function writeAll(fd: number, chunk: string): void {
  const buf = Buffer.from(chunk);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

/** Lines to a file descriptor we do not own (stdout). EPIPE ends the run quietly. */
export function fdSink(fd: number, onClosedByReader: () => void): Sink {
  let broken = false;
  return {
    write(chunk) {
      if (broken || chunk.length === 0) return;
      try {
        writeAll(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
        broken = true;
        onClosedByReader();
      }
    },
    close() {},
    abandon() {},
  };
}

/**
 * A new file, mode 0600 (it holds command lines and addresses), never through
 * a symlink, and never over an existing file unless `force`.
 */
export function fileSink(path: string, force: boolean): Sink {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (force ? constants.O_TRUNC : constants.O_EXCL);
  let fd: number;
  // what abandon() may remove: only a regular file this run created
  const existed = existsSync(path);
  try {
    fd = openSync(path, flags, 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new UserError(`${path} already exists; choose another file or pass --force to overwrite it`, 'EEXIST');
    if (e.code === 'ELOOP') throw new UserError(`${path} is a symbolic link; rsttrace does not write through links`, 'ELOOP');
    throw new UserError(`cannot create ${path}: ${e.message.replace(/^[A-Z]+: /, '')}`, e.code ?? 'EIO');
  }
  let open = true;
  let committed = 0;
  return {
    write(chunk) {
      if (chunk.length === 0) return;
      try {
        writeAll(fd, chunk);
        committed += Buffer.byteLength(chunk);
      } catch (err) {
        // a chunk is whole lines: never leave part of one behind
        try {
          ftruncateSync(fd, committed);
        } catch {
          // the truncate failing too leaves the file as the kernel left it
        }
        throw err;
      }
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
    abandon() {
      this.close();
      if (!existed && lstatSync(path, { throwIfNoEntry: false })?.isFile()) unlinkSync(path);
    },
  };
}
