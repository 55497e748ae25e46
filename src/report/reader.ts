/**
 * JSON lines from a stream, one record at a time with its line number.
 * Lines are split on bytes, not with node:readline, so that one line is
 * never held beyond `maxLineBytes` however long it runs (a corrupt capture
 * can have no newline for gigabytes). Every line ends as exactly one of: a
 * record, a problem, or blank (skipped: a trailing newline, a CRLF file).
 */
import { checkRecord, type ReportRecord } from './record.js';

/** A real reset line is 1 to 5 KiB; anything near this is not one. */
export const MAX_LINE_BYTES = 1 << 20;

export type ReadItem =
  | { kind: 'record'; line: number; record: ReportRecord }
  | { kind: 'problem'; line: number; problem: string };

const LF = 0x0a;
const BLANK = /^[ \t\r]*$/;

function bytes(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function parseLine(text: string, line: number, unterminated: boolean): ReadItem | null {
  if (BLANK.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = (err as Error).message.slice(0, 120);
    const cut = unterminated ? '; the last line has no newline: was the capture cut short?' : '';
    return { kind: 'problem', line, problem: `not JSON (${why})${cut}` };
  }
  const checked = checkRecord(value);
  return checked.ok ? { kind: 'record', line, record: checked.record } : { kind: 'problem', line, problem: checked.problem };
}

function tooLong(line: number, size: number, max: number): ReadItem {
  return { kind: 'problem', line, problem: `line of ${size} bytes, longer than the ${max} a record may have` };
}

export class JsonlReader {
  /** lines seen so far, blank ones included */
  lines = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  async *read(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<ReadItem> {
    const max = this.maxLineBytes;
    // the current line's bytes from earlier chunks; past `max` only its length is kept
    let parts: Buffer[] = [];
    let partBytes = 0;
    const joined = (unterminated: boolean): ReadItem | null => {
      const line = ++this.lines;
      const size = partBytes;
      const text = size > max ? null : Buffer.concat(parts, size).toString('utf8');
      parts = [];
      partBytes = 0;
      return text === null ? tooLong(line, size, max) : parseLine(text, line, unterminated);
    };

    for await (const c of input) {
      const chunk = bytes(c);
      let pos = 0;
      for (;;) {
        const nl = chunk.indexOf(LF, pos);
        if (nl >= 0 && partBytes === 0) {
          // the common case: the whole line is in this chunk
          const line = ++this.lines;
          const size = nl - pos;
          const item = size > max ? tooLong(line, size, max) : parseLine(chunk.toString('utf8', pos, nl), line, false);
          if (item) yield item;
          pos = nl + 1;
          continue;
        }
        const end = nl < 0 ? chunk.length : nl;
        if (partBytes + (end - pos) <= max) {
          if (end > pos) parts.push(Buffer.from(chunk.subarray(pos, end)));
        } else {
          parts = [];
        }
        partBytes += end - pos;
        if (nl < 0) break;
        const item = joined(false);
        if (item) yield item;
        pos = nl + 1;
      }
    }
    if (partBytes > 0) {
      const item = joined(true);
      if (item) yield item;
    }
  }
}
