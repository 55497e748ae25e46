/**
 * schema/rsttrace.schema.json against what a real run writes: rsttrace
 * traces real resets (refused connects over IPv4 and IPv6, close() with
 * unread data, KB Q152474's TIME_WAIT form, ss -K) in a namespace of this
 * file's own, and every line it writes, on stdout and with -w, must
 * validate in ajv's strict mode. Only `lost` cannot be made to order; the
 * unit test covers it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, inNetns, Netns, reportSkip, ROOT, startTrace } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/schema');

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schema', 'rsttrace.schema.json'), 'utf8')));

/** Each line that does not validate, with what ajv says of it (field, rule, the rule's parameters): empty when all do. */
function invalidLines(text: string, where: string): string[] {
  const bad: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '' || validate(JSON.parse(line))) return;
    // "must match then schema" only repeats the errors under it
    const why = validate.errors!.filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    bad.push(`${where}:${i + 1}: ${why.join('; ')}\n  ${line}`);
  });
  return bad;
}

describe.skipIf(skip)('the JSONL schema against a real run', () => {
  let ns: Netns;
  let dir: string;
  beforeAll(() => {
    ns = new Netns('schema');
    dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-schema-'));
  });
  afterAll(() => {
    ns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every line rsttrace writes validates: session_start, resets, failed syscalls, session_end', async () => {
    const file = path.join(dir, 'capture.jsonl');
    const trace = await startTrace(['--netns', ns.name, '--syscall-hook', '-w', file]);
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('refused', '::1', '9');
    ns.scenario('unread-close', '127.0.0.1');
    ns.scenario('kb-timewait', '127.0.0.1');
    ns.scenario('kill', '127.0.0.1');
    const { code, stdout, records } = await trace.stop();
    expect(code).toBe(0);

    expect(invalidLines(stdout, 'stdout')).toEqual([]);
    expect(invalidLines(readFileSync(file, 'utf8'), file)).toEqual([]);

    // the run had something of every kind to say (and `lost` if a busy machine made it drop some), and said it of these scenarios
    const types = new Set(records.map((r) => r.type));
    types.delete('lost');
    expect(types).toEqual(new Set(['session_start', 'reset', 'syscall_error', 'session_end']));
    const mine = inNetns(records, ns);
    expect(mine.length).toBeGreaterThanOrEqual(10);
    expect(new Set(mine.map((r) => r.cause.code))).toEqual(
      new Set(['closed-port', 'connection-refused', 'close-unread', 'reset-by-peer', 'late-data-timewait', 'killed']),
    );
    expect(mine.some((r) => r.family === 'ipv6')).toBe(true);
    expect(records.filter((r) => r.type === 'syscall_error' && r.netns === ns.inode).length).toBeGreaterThanOrEqual(5);
  });
});
