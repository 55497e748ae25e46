/**
 * Where lines go: stdout or a file. Writes are synchronous and batched (one
 * write per delivery), so nothing is lost when rsttrace stops.
 */
import { closeSync, constants, existsSync, ftruncateSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';
import { ByteWriter } from './bytes.js';

export interface Sink {
  write(chunk: string): void;
  /** each line followed by a newline, in one write */
  writeLines(lines: readonly string[]): void;
  /** what `fill` writes, in one write (whole lines: nothing is put out if it throws) */
  writeBytes(fill: (out: ByteWriter) => void): void;
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
export function writeAll(fd: number, chunk: string | Uint8Array): void {
  const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
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

/** write(), writeLines() and writeBytes() over one way of putting bytes out. */
function sinkOf(put: (bytes: Uint8Array) => void, rest: Pick<Sink, 'close' | 'abandon'>): Sink {
  // kept from batch to batch: a batch's lines are encoded into it, not
  // joined into a string and copied into a new Buffer each time
  const out = new ByteWriter();
  const writeBytes = (fill: (out: ByteWriter) => void) => {
    out.clear();
    fill(out);
    if (out.length > 0) put(out.bytes());
  };
  return {
    write(chunk) {
      if (chunk.length > 0) put(Buffer.from(chunk));
    },
    writeLines(lines) {
      writeBytes((o) => {
        for (const l of lines) {
          o.utf8(l);
          o.byte(0x0a);
        }
      });
    },
    writeBytes,
    ...rest,
  };
}

/** Lines to a file descriptor we do not own (stdout). EPIPE ends the run quietly. */
export function fdSink(fd: number, onClosedByReader: () => void): Sink {
  let broken = false;
  const put = (bytes: Uint8Array) => {
    if (broken) return;
    try {
      writeAll(fd, bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      broken = true;
      onClosedByReader();
    }
  };
  return sinkOf(put, { close() {}, abandon() {} });
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
  const put = (bytes: Uint8Array) => {
    try {
      writeAll(fd, bytes);
      committed += bytes.length;
    } catch (err) {
      // a chunk is whole lines: never leave part of one behind
      try {
        ftruncateSync(fd, committed);
      } catch {
        // the truncate failing too leaves the file as the kernel left it
      }
      throw err;
    }
  };
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return sinkOf(put, {
    close,
    abandon() {
      close();
      if (!existed && lstatSync(path, { throwIfNoEntry: false })?.isFile()) unlinkSync(path);
    },
  });
}
