/**
 * The JSON lines reader under arbitrary input (fast-check): whatever the
 * bytes and however they are cut into chunks, it does not throw, and every
 * line ends as exactly one thing: a valid record is delivered once, with
 * its line number; anything else that is not blank is counted as a problem
 * at its line; nothing else comes out.
 */
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SyscallErrorEvent } from '../../src/event.js';
import { formatJsonLine, formatLost, formatSessionEnd, formatSessionStart } from '../../src/output/jsonl.js';
import { JsonlReader, type ReadItem } from '../../src/report/reader.js';
import { resetFixture } from './fixtures.js';

async function readAll(chunks: Uint8Array[] | string[], maxLineBytes?: number): Promise<{ items: ReadItem[]; lines: number }> {
  const reader = new JsonlReader(maxLineBytes);
  const items: ReadItem[] = [];
  for await (const item of reader.read(Readable.from(chunks))) items.push(item);
  return { items, lines: reader.lines };
}

/** `buf` cut at the given points (any numbers: taken modulo its length). */
function cut(buf: Buffer, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => (buf.length ? p % (buf.length + 1) : 0)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...at, buf.length]) {
    if (p > from) pieces.push(buf.subarray(from, p));
    from = Math.max(from, p);
  }
  return pieces;
}

const port = fc.integer({ min: 0, max: 65535 });
const time = fc.bigInt({ min: 0n, max: 2n ** 62n });
const text = fc.string({ unit: 'binary', maxLength: 20 });

/** A line as rsttrace writes it, made by its own formatter, and what it is. */
const validLine: fc.Arbitrary<{ line: string; type: string; id?: number }> = fc.oneof(
  fc
    .record({
      id: fc.integer({ min: 1, max: 2 ** 40 }),
      wall: time,
      direction: fc.constantFrom('send' as const, 'recv' as const),
      lport: port,
      rport: port,
      raddr: text.filter((s) => s.length > 0),
      code: text,
      owner: fc.option(fc.record({ pid: fc.integer({ min: 0, max: 2 ** 22 }), comm: text })),
    })
    .map((r) => {
      const owner = r.owner && {
        ...r.owner,
        tid: r.owner.pid,
        uid: 0,
        cmdline: null,
        cgroup: null,
        container_id: null,
        source: 'socket' as const,
        last_syscall: null,
        last_syscall_ms_before: null,
        closed_ms_before: null,
      };
      const e = resetFixture({ id: r.id, wall_ns: r.wall, direction: r.direction, lport: r.lport, rport: r.rport, raddr: r.raddr, owner });
      e.cause = { ...e.cause, code: r.code };
      return { line: formatJsonLine(e), type: 'reset', id: r.id };
    }),
  fc.record({ id: fc.integer({ min: 1, max: 2 ** 40 }), wall: time, errno: text, resetId: fc.option(fc.integer({ min: 1, max: 1000 })) }).map((r) => {
    const e: SyscallErrorEvent = {
      type: 'syscall_error',
      id: r.id,
      reset_id: r.resetId,
      wall_ns: r.wall,
      mono_ns: 1,
      ms_after_reset: r.resetId === null ? null : 0.5,
      pid: 1,
      tid: 1,
      comm: 'x',
      syscall: 'recvfrom',
      errno: r.errno,
      family: 'ipv4',
      laddr: '127.0.0.1',
      lport: 1,
      raddr: '127.0.0.1',
      rport: 2,
      state: null,
      netns: 1,
      sock_cookie: null,
    };
    return { line: formatJsonLine(e), type: 'syscall_error', id: r.id };
  }),
  fc.record({ wall: time, lost: fc.integer({ min: 1, max: 1000 }) }).map((r) => ({ line: formatLost(r.wall, r.lost, r.lost), type: 'lost' })),
  time.map((w) => ({
    line: formatSessionStart(w, { host: 'h', kernel: 'k', rsttrace_version: '0', pid: 1, mono_ns: 1, features: { reason: true, sock_length: true, task_regs: true, socket_cookie: true, sk_storage: true }, options: {} }),
    type: 'session_start',
  })),
  time.map((w) => ({
    line: formatSessionEnd(w, { reason: 'count', duration_s: 1, resets: 0, sent: 0, received: 0, syscall_errors: 0, lost: 0 }),
    type: 'session_end',
  })),
);

const REAL_LIKE = formatJsonLine(resetFixture());

/** Lines that are not valid records (or are blank); none holds a newline. */
const junkLine: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'undefined'),
  fc.integer({ min: 1, max: REAL_LIKE.length - 1 }).map((n) => REAL_LIKE.slice(0, n)),
  fc.integer({ min: 2, max: 99 }).map((v) => REAL_LIKE.replace('"schema_version":1', `"schema_version":${v}`)),
  fc.constantFrom('"lport":"9"', '"direction":"sideways"', '"cause":null', '"ts_ns":-1', '"owner":[]').map((bad) =>
    REAL_LIKE.replace(new RegExp(`"${bad.split('"')[1]}":(\\{[^}]*\\}|[^,]*)`), bad),
  ),
  fc.constantFrom('', ' ', '\t', '\r', ' \r'),
).map((s) => s.replaceAll('\n', ' '));

const BLANK = /^[ \t\r]*$/;

describe('the JSONL reader, fuzzed', () => {
  it('never throws on arbitrary bytes in arbitrary chunks, and numbers every line once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 4096 }), async (bytes, points, max) => {
        const buf = Buffer.from(bytes);
        const { items, lines } = await readAll(cut(buf, points), max);
        const newlines = buf.filter((b) => b === 0x0a).length;
        const tail = buf.length > 0 && buf[buf.length - 1] !== 0x0a ? 1 : 0;
        expect(lines).toBe(newlines + tail);
        const numbers = items.map((i) => i.line);
        expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
        expect(numbers.every((n) => n >= 1 && n <= lines)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 10 }), async (chunks) => {
        const { items, lines } = await readAll(chunks);
        expect(items.length).toBeLessThanOrEqual(lines);
      }),
    );
  });

  it('delivers every valid line once with its number, and counts every other non-blank line as a problem at its number', async () => {
    const line = fc.oneof({ arbitrary: validLine, weight: 2 }, { arbitrary: junkLine.map((j) => ({ line: j, type: 'junk' as const })), weight: 1 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ l: line, crlf: fc.boolean() }), { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 30 }),
        // no limit, any limit, or one at a line's own length (the edge)
        fc.oneof(fc.constant(null), fc.integer({ min: 64, max: 3000 }), fc.record({ pick: fc.nat(), delta: fc.integer({ min: -1, max: 1 }) })),
        async (lines, lastTerminated, points, max) => {
          const texts = lines.map(({ l, crlf }) => l.line + (crlf ? '\r' : ''));
          const maxBytes =
            max === null ? undefined : typeof max === 'number' ? max : Math.max(1, Buffer.byteLength(texts[max.pick % Math.max(1, texts.length)] ?? '') + max.delta);
          const input = texts.join('\n') + (lastTerminated && texts.length ? '\n' : '');
          const { items, lines: count } = await readAll(cut(Buffer.from(input), points), maxBytes);

          const expected = new Map<number, { kind: 'record' | 'problem'; type?: string; id?: number }>();
          texts.forEach((t, i) => {
            const n = i + 1;
            const l = lines[i]!.l;
            const tooLong = maxBytes !== undefined && Buffer.byteLength(t) > maxBytes;
            if (tooLong) expected.set(n, { kind: 'problem' });
            else if (l.type !== 'junk') expected.set(n, { kind: 'record', type: l.type, id: 'id' in l ? l.id : undefined });
            else if (!BLANK.test(t)) expected.set(n, { kind: 'problem' });
          });
          // a last line that is empty and unterminated is no line at all
          const lastEmpty = !lastTerminated && texts.length > 0 && texts[texts.length - 1] === '';
          expect(count).toBe(texts.length - (lastEmpty ? 1 : 0));

          expect(items.map((i) => i.line)).toEqual([...expected.keys()]);
          for (const item of items) {
            const want = expected.get(item.line)!;
            expect(item.kind, `line ${item.line}: ${texts[item.line - 1]!.slice(0, 200)}`).toBe(want.kind);
            if (item.kind === 'record') {
              expect(item.record.type).toBe(want.type);
              if (want.id !== undefined) expect(item.record).toMatchObject({ id: want.id });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

