/**
 * Signals, a closed stdout, SIGKILL, and a ring buffer that overflows:
 * nothing half-written, nothing lost silently, nothing left in the kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectExists, bpfObjectsOf, CLI, e2eSkipReason, inNetns, Netns, reportSkip, startTrace, waitFor } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/reliability');

describe.skipIf(skip)('reliability', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('rel');
  });
  afterAll(() => ns?.close());

  for (const signal of ['SIGINT', 'SIGHUP'] as const) {
    it(`${signal}: detaches, writes what the kernel had, ends the JSON lines, prints the summary`, async () => {
      const trace = await startTrace(['--netns', ns.name]);
      ns.scenario('unread-close', '127.0.0.1');
      const { code, records, stderr } = await trace.stop(signal);
      expect(code).toBe(0);
      expect(inNetns(records, ns)).toHaveLength(2);
      expect(records[0]).toMatchObject({ type: 'session_start' });
      expect(records.at(-1)).toMatchObject({ type: 'session_end', reason: `signal ${signal}`, resets: 2, lost: 0 });
      expect(stderr).toMatch(/^rsttrace: 2 resets \(1 sent, 1 received\) in [\d.]+ s, 0 lost$/m);
    });
  }

  it('rsttrace | head -3 ends quietly, status 0, once head has read its lines', async () => {
    const sh = spawn('bash', ['-c', `node ${CLI} --netns ${ns.name} | head -3; echo "status \${PIPESTATUS[0]}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', (d) => (err += d));
    let closed = false;
    const done = new Promise<number | null>((r) => sh.on('close', (c) => ((closed = true), r(c))));
    await waitFor(() => err.includes('tracing TCP resets'), 10_000, 'rsttrace to attach');
    // head leaves after 3 lines; rsttrace learns it at its next write
    for (let i = 0; i < 20 && !closed; i++) {
      ns.scenario('unread-close', '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await done).toBe(0);
    expect(out.trimEnd().split('\n')).toEqual([expect.stringMatching(/^TIME /), expect.stringMatching(/ (SEND|RECV) /), expect.stringMatching(/^  /), 'status 0']);
    // no stack trace, no EPIPE message: only the start line
    expect(err.trim()).toBe('rsttrace: tracing TCP resets (schema 1); Ctrl-C to end');
  });

  it('after SIGKILL, none of its programs, links or maps stay in the kernel', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const held = bpfObjectsOf(trace.pid);
    expect(held.progs.length).toBeGreaterThan(0);
    const { signal } = await trace.stop('SIGKILL');
    expect(signal).toBe('SIGKILL');
    await waitFor(
      () => ![...held.progs.map((id) => ['prog', id] as const), ...held.maps.map((id) => ['map', id] as const), ...held.links.map((id) => ['link', id] as const)].some(([k, id]) => bpfObjectExists(k, id)),
      10_000,
      'the kernel to free what a killed rsttrace held',
    );
  });

  it('a ring buffer that overflows: every lost event counted, reported live and in JSON, and tracing goes on', async () => {
    const BURST = 3000;
    const trace = await startTrace(['--netns', ns.name, '--ring-buffer', '1']);
    const before = ns.counter('TcpOutRsts');
    trace.child.kill('SIGSTOP'); // the reader stops; the kernel goes on
    try {
      ns.scenario('burst', '127.0.0.1', '9', String(BURST));
    } finally {
      trace.child.kill('SIGCONT');
    }
    const sent = ns.counter('TcpOutRsts') - before;
    await new Promise((r) => setTimeout(r, 1500)); // the live warning comes within a second
    const after = ns.scenario('refused', '127.0.0.1', '9'); // still tracing
    const { records, stderr } = await trace.stop();

    const resets = inNetns(records, ns);
    const lostRecords = records.filter((r) => r.type === 'lost');
    const end = records.at(-1)!;
    expect(end.type).toBe('session_end');
    expect(end.lost).toBeGreaterThan(0);
    expect(lostRecords.reduce((n, r) => n + r.lost, 0)).toBe(end.lost);
    expect(stderr).toMatch(/^rsttrace: warning: \d+ reset events lost \(\d+ in all\): the ring buffer was full; try a larger --ring-buffer$/m);
    // every reset, sent and received, is either written or counted lost
    expect(resets.length + end.lost).toBe(sent * 2 + 2);
    expect(resets.some((r) => r.direction === 'recv' && r.lport === after.lport)).toBe(true);
  });

  it('a write that fails (ENOSPC on /dev/full): one line, exit status 1, no hang, the device left alone', () => {
    const r = spawnSync(process.execPath, [CLI, '-q', '-w', '/dev/full', '--force', '--netns', ns.name, '-d', '2'], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^rsttrace: cannot write output: no space left on device/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('a bad option value leaves no empty -w file behind', () => {
    const file = path.join(tmpdir(), `rsttrace-nofile-${process.pid}.jsonl`);
    const r = spawnSync(process.execPath, [CLI, '-w', file, '-p', '4194303'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(existsSync(file)).toBe(false);
  });

  it('-n N keeps the failed syscalls of the resets it shows', async () => {
    const trace = await startTrace(['--netns', ns.name, '-n', '2', '--syscall-hook']);
    ns.scenario('burst', '127.0.0.1', '9', '5');
    const { records } = await trace.exited();
    const resets = records.filter((r) => r.type === 'reset');
    expect(resets).toHaveLength(2);
    const errors = records.filter((r) => r.type === 'syscall_error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const e of errors) expect(resets.map((r) => r.id)).toContain(e.reset_id);
  });
});
