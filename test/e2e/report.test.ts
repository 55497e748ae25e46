/**
 * `rsttrace report` on a capture of a real run: rsttrace -w records real
 * resets made in a namespace of this file's own, then the report, run as a
 * user runs it (a child process), must say what the capture holds: the
 * same counts per cause, direction and errno, and for KB Q152474's pair
 * the RST sent from TIME_WAIT, the one the server took and its failed
 * send(), in that order. Then a damaged copy, --strict, and stdin.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, e2eSkipReason, Netns, reportSkip, startTrace, type JsonRecord } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/report');

function report(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, 'report', ...args], { encoding: 'utf8', input, env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function countBy(records: JsonRecord[], key: (r: JsonRecord) => string | number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}

function rowsOf(table: { rows: { key: string | number; count: number }[] }): Record<string, number> {
  return Object.fromEntries(table.rows.map((r) => [r.key, r.count]));
}

describe.skipIf(skip)('rsttrace report on a real capture', () => {
  let ns: Netns;
  let dir: string;
  let file: string;
  let records: JsonRecord[];
  let kb: any;

  beforeAll(async () => {
    ns = new Netns('report');
    dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-report-e2e-'));
    file = path.join(dir, 'capture.jsonl');
    const trace = await startTrace(['--netns', ns.name, '-q', '-w', file]);
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('unread-close', '127.0.0.1');
    kb = ns.scenario('kb-timewait', '127.0.0.1');
    ns.scenario('kill', '127.0.0.1');
    const { code } = await trace.stop();
    expect(code).toBe(0);
    records = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  });
  afterAll(() => {
    ns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says what the capture holds: totals, causes, owners, errnos', () => {
    // other test files trace at the same time: the capture may hold their resets too; the numbers must match all of it
    const { code, stdout, stderr } = report(['-o', 'json', '--top', '1000', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    const resets = records.filter((r) => r.type === 'reset');
    const errors = records.filter((r) => r.type === 'syscall_error');
    expect(j).toMatchObject({
      input: file,
      lines: records.length,
      records: records.length,
      skipped: 0,
      sessions: 1,
      lost: records.filter((r) => r.type === 'lost').reduce((sum, r) => sum + r.lost, 0),
      first: records[0]!.time,
      last: records[records.length - 1]!.time,
      resets: { total: resets.length, sent: resets.filter((r) => r.direction === 'send').length, received: resets.filter((r) => r.direction === 'recv').length },
      syscall_errors: { total: errors.length, linked: errors.filter((r) => r.reset_id !== null).length },
    });
    expect(resets.length).toBeGreaterThanOrEqual(8);
    expect(rowsOf(j.causes)).toEqual(countBy(resets, (r) => r.cause.code));
    expect(rowsOf(j.owners)).toEqual(countBy(resets, (r) => (r.owner ? `${r.owner.pid}/${r.owner.comm}` : '-')));
    expect(rowsOf(j.remote_addresses)).toEqual(countBy(resets, (r) => r.raddr));
    expect(rowsOf(j.local_ports)).toEqual(countBy(resets, (r) => r.lport));
    expect(rowsOf(j.errnos)).toEqual(countBy(errors, (r) => r.errno));
    expect(j.histogram.buckets.reduce((s: number, b: { resets: number }) => s + b.resets, 0)).toBe(resets.length);
  });

  it('the KB Q152474 pair is one connection: the RST from TIME_WAIT, the one the server took, its send() failing with EPIPE', () => {
    const j = JSON.parse(report(['-o', 'json', '--top', '1000', file]).stdout);
    const client = `127.0.0.1:${kb.client_port}`;
    const server = `127.0.0.1:${kb.server_port}`;
    const conn = j.connections.find((c: any) => c.endpoints.includes(client) && c.endpoints.includes(server));
    expect(conn, JSON.stringify(j.connections)).toBeDefined();
    const inFile = records.filter(
      (r) => (r.type === 'reset' || r.type === 'syscall_error') && [`${r.laddr}:${r.lport}`, `${r.raddr}:${r.rport}`].sort().join() === [client, server].sort().join(),
    );
    expect(conn).toMatchObject({ resets: 2, syscall_errors: 1, partial: false, more: 0 });
    expect(conn.events).toMatchObject([
      { type: 'reset', direction: 'send', state: 'TIME_WAIT', reason: 'TCP_TIMEWAIT_SOCKET', cause: 'late-data-timewait', owner: { pid: kb.client_pid }, lport: kb.client_port },
      { type: 'reset', direction: 'recv', state: 'CLOSE_WAIT', cause: 'reset-by-peer', owner: { pid: kb.server_pid }, lport: kb.server_port },
      { type: 'syscall_error', pid: kb.server_pid, errno: 'EPIPE', syscall: 'sendto' },
    ]);
    expect(conn.events.map((e: any) => e.id)).toEqual(
      [...inFile].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id - b.id)).map((r) => r.id),
    );
    expect(conn.events[2].reset_id).toBe(conn.events[1].id);

    // and as text: the connection's line and its three events under it
    const text = report(['--top', '1000', file]).stdout.split('\n');
    const at = text.findIndex((l) => l.startsWith(`${conn.endpoints.join(' ↔ ')}: 2 resets, 1 syscall error`));
    expect(at, text.join('\n')).toBeGreaterThan(0);
    expect(text[at + 1]).toMatch(new RegExp(`^  \\d\\d:\\d\\d:\\d\\d\\.\\d{6} #${conn.events[0].id} +SEND ${client} +→ +${server} +TIME_WAIT +TCP_TIMEWAIT_SOCKET +late-data-timewait +${kb.client_pid}/rstscen$`));
    expect(text[at + 2]).toMatch(new RegExp(`#${conn.events[1].id} +RECV ${server} +→ +${client} +CLOSE_WAIT +- +reset-by-peer +${kb.server_pid}/rstscen$`));
    expect(text[at + 3]).toMatch(new RegExp(`#${conn.events[2].id} +↳ ${kb.server_pid}/rstscen sendto\\(\\) failed: EPIPE on ${server}, [\\d.]+ ms after #${conn.events[1].id}$`));
  });

  it('a damaged copy: each bad line named as FILE:LINE on stderr, the rest still counted, exit status 1', () => {
    const damaged = path.join(dir, 'damaged.jsonl');
    copyFileSync(file, damaged);
    appendFileSync(damaged, 'rsttrace was killed here\n{"type":"reset","schema_version":2}\n' + JSON.stringify(records[1]).slice(0, 100));
    const { code, stdout, stderr } = report(['-o', 'json', damaged]);
    expect(code).toBe(1);
    const n = records.length;
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^rsttrace: ${damaged}:${n + 1}: not JSON \\(`)),
      `rsttrace: ${damaged}:${n + 2}: schema_version 2 is not one this rsttrace reads (1)`,
      expect.stringMatching(new RegExp(`^rsttrace: ${damaged}:${n + 3}: not JSON .*the last line has no newline: was the capture cut short\\?$`)),
      `rsttrace: 3 malformed lines of ${n + 3} skipped in ${damaged}`,
    ]);
    const j = JSON.parse(stdout);
    expect(j).toMatchObject({ lines: n + 3, records: n, skipped: 3, resets: { total: records.filter((r) => r.type === 'reset').length } });
  });

  it('--strict stops at the first bad line, with no report', () => {
    const damaged = path.join(dir, 'strict.jsonl');
    copyFileSync(file, damaged);
    appendFileSync(damaged, '{"type":"reset"}\n');
    const { code, stdout, stderr } = report(['--strict', damaged]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`rsttrace: ${damaged}:${records.length + 1}: no "schema_version": not an rsttrace record\nrsttrace: stopped at the first malformed line (--strict)\n`);
  });

  it('- reads the capture from stdin, with the same result', () => {
    const fromFile = JSON.parse(report(['-o', 'json', file]).stdout);
    const fromStdin = report(['-o', 'json', '-'], readFileSync(file, 'utf8'));
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ ...fromFile, input: '<stdin>' });
  });

  it('a file that is not there: one line, exit status 1', () => {
    const { code, stdout, stderr } = report([path.join(dir, 'missing.jsonl')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`rsttrace: cannot read ${path.join(dir, 'missing.jsonl')}: no such file or directory\n`);
  });
});
