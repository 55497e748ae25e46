/**
 * schema/rsttrace.schema.json, without root: it compiles in ajv's strict
 * mode, documents every field, takes what rsttrace's own formatters write,
 * and refuses records that drift (a field missing, added, or of another
 * type). test/e2e/schema.test.ts holds it against a real run.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SyscallErrorEvent } from '../../src/event.js';
import { formatJsonLine, formatLost, formatSessionEnd, formatSessionStart, SCHEMA_VERSION } from '../../src/output/jsonl.js';
import { OWNER, resetFixture, WALL } from './fixtures.js';
import { words } from '../../src/words.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'rsttrace.schema.json'), 'utf8'));
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(schema);

function errorsOf(line: string): ErrorObject[] {
  return validate(JSON.parse(line)) ? [] : validate.errors!;
}

function expectValid(line: string): void {
  expect(errorsOf(line), `${line}\n${ajv.errorsText(validate.errors)}`).toEqual([]);
}

const LOST = '{"type":"lost","schema_version":1,"time":"2026-11-21T08:14:57.625334618Z","ts_ns":1795248897625334618,"lost":12,"lost_total":40}';

function edit(line: string, f: (o: Record<string, unknown>) => void): string {
  const o = JSON.parse(line);
  f(o);
  return JSON.stringify(o);
}

describe('the JSONL schema', () => {
  it('is for schema_version 1, the version rsttrace writes', () => {
    expect(schema.$defs.schema_version.const).toBe(SCHEMA_VERSION);
  });

  it('describes every field of every record type', () => {
    const missing: string[] = [];
    const resolve = (s: any) => (s.$ref ? schema.$defs[s.$ref.split('/').pop()] : s);
    const walk = (s: any, at: string) => {
      for (const [name, sub] of Object.entries<any>(s.properties ?? {})) {
        const r = resolve(sub);
        if (!r.description && !sub.description) missing.push(`${at}.${name}`);
        walk(r, `${at}.${name}`);
      }
      if (s.items) walk(resolve(s.items), `${at}[]`);
    };
    for (const type of ['reset', 'syscall_error', 'lost', 'session_start', 'session_end']) walk(schema.$defs[type], type);
    expect(missing).toEqual([]);
  });

  it('requires every field but the options a run was not given: absent and null are not the same', () => {
    for (const type of ['reset', 'syscall_error', 'lost', 'session_start', 'session_end']) {
      const def = schema.$defs[type];
      expect(def.additionalProperties, type).toBe(false);
      expect([...def.required].sort(), type).toEqual(Object.keys(def.properties).sort());
    }
  });

  it('takes what the formatters write: resets with and without owner, socket, segment; failed syscalls; lost; start and end', () => {
    const owner = OWNER;
    expectValid(formatJsonLine(resetFixture()));
    expectValid(
      formatJsonLine(
        resetFixture({
          direction: 'recv',
          state: 'ESTABLISHED',
          reason: null,
          reason_code: null,
          sock_cookie: 77,
          owner,
          context: { kind: 'timer', syscall: null, pid: null, comm: null, timer: 'tcp_keepalive_timer' },
          socket: { rcv_unread_bytes: 14, snd_unsent_bytes: 0, snd_unacked_bytes: 3, shutdown: ['read', 'write'], linger_sec: 0 },
          history: [{ from: 'ESTABLISHED', to: 'CLOSE', ms_before: 0.05 }],
          segment: null,
          cause: { code: 'keepalive-timeout', summary: words`no answer`, fix: null, inferred: false },
          peer_event_id: 3,
        }),
      ),
    );
    const error: SyscallErrorEvent = {
      type: 'syscall_error',
      id: 8,
      reset_id: null,
      wall_ns: WALL,
      mono_ns: 289_729_202_447,
      ms_after_reset: null,
      pid: 4711,
      tid: 4712,
      comm: 'curl',
      syscall: 'getsockopt',
      errno: 'ECONNREFUSED',
      family: 'ipv6',
      laddr: '::1',
      lport: 51234,
      raddr: '::1',
      rport: 9,
      state: null,
      netns: 4026531833,
      sock_cookie: null,
    };
    expectValid(formatJsonLine(error));
    expectValid(formatJsonLine({ ...error, reset_id: 7, ms_after_reset: 0.25, state: 'CLOSE', sock_cookie: 12, errno: 'errno 113' }));
    expectValid(formatLost(WALL, 5, 5));
    expectValid(
      formatSessionStart(WALL, {
        host: 'vm',
        kernel: '6.18.0',
        rsttrace_version: '0.1.0',
        features: { reason: false, sock_length: true, task_regs: true, socket_cookie: false, sk_storage: true },
        pid: 4242,
        mono_ns: 1_373_000_000_000,
        options: { output: 'jsonl', write: '/tmp/x.jsonl', force: false, quiet: false, brief: false, verbose: false, duration_sec: 1.5, count: 3, ring_buffer_mib: 8, syscall_hook: true },
      }),
    );
    expectValid(formatSessionEnd(WALL, { reason: 'signal SIGINT', duration_s: 1.25, resets: 4, sent: 2, received: 2, syscall_errors: 1, lost: 0 }));
  });

  it('takes hand-made lost records', () => {
    expectValid(LOST);
    expectValid(LOST.replace('"lost":12,"lost_total":40', '"lost":1,"lost_total":1'));
  });

  it('refuses lost records that drift: each error names the field', () => {
    const cases: [string, string, RegExp][] = [
      ['no schema_version', edit(LOST, (o) => delete o.schema_version), /must have required property 'schema_version'/],
      ['schema_version 2', edit(LOST, (o) => (o.schema_version = 2)), /\/schema_version must be equal to constant/],
      ['an unknown field', edit(LOST, (o) => (o.dropped = 3)), /must NOT have additional properties.*dropped/],
      ['lost as a string', edit(LOST, (o) => (o.lost = '12')), /\/lost must be integer/],
      ['lost as a fraction', edit(LOST, (o) => (o.lost = 1.5)), /\/lost must be integer/],
      ['no lost_total', edit(LOST, (o) => delete o.lost_total), /must have required property 'lost_total'/],
      ['ts_ns as a string', edit(LOST, (o) => (o.ts_ns = '1795248897625334618')), /\/ts_ns must be integer/],
      ['time without ns', edit(LOST, (o) => (o.time = '2026-11-21T08:14:57Z')), /\/time must match pattern/],
      ['an unknown type', edit(LOST, (o) => (o.type = 'lots')), /\/type must be equal to one of the allowed values/],
    ];
    for (const [what, line, message] of cases) {
      const errors = errorsOf(line);
      expect(errors.length, what).toBeGreaterThan(0);
      expect(errors.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('\n'), what).toMatch(message);
    }
  });

  it('refuses resets and failed syscalls that drift', () => {
    const reset = formatJsonLine(resetFixture());
    expect(errorsOf(edit(reset, (o) => delete o.peer_event_id))).not.toEqual([]);
    expect(errorsOf(edit(reset, (o) => ((o.owner as any) = { pid: 1 })))).not.toEqual([]);
    expect(errorsOf(edit(reset, (o) => ((o.cause as any).extra = 1)))).not.toEqual([]);
    expect(errorsOf(edit(reset, (o) => (o.lport = 70000)))).not.toEqual([]);
    expect(errorsOf(edit(reset, (o) => (o.direction = 'both')))).not.toEqual([]);
    expect(errorsOf(edit(reset, (o) => ((o.segment as any).flags = ['SYN', 'NOPE'])))).not.toEqual([]);
    // a reset's fields on a failed syscall, and the other way round
    expect(errorsOf(edit(reset, (o) => (o.type = 'syscall_error')))).not.toEqual([]);
    expect(errorsOf(edit(LOST, (o) => (o.type = 'session_end')))).not.toEqual([]);
  });
});
