/**
 * The CLI as a user meets it: stop conditions, signals, errors, files, and
 * nothing of rsttrace left in the kernel once it has exited.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bpfObjectExists,
  bpfObjectsOf,
  CLI,
  e2eSkipReason,
  Netns,
  reportSkip,
  startTrace,
  waitFor,
} from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/cli');

const SUMMARY = /^rsttrace: (\d+) resets \((\d+) sent, (\d+) received\) in [\d.]+ s, (\d+) lost$/m;

describe.skipIf(skip)('rsttrace command line', () => {
  let ns: Netns;
  let dir: string;
  beforeAll(() => {
    ns = new Netns('cli');
    dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-cli-'));
  });
  afterAll(() => {
    ns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('-d 1 exits by itself after about a second, with its summary', async () => {
    const start = Date.now();
    const trace = await startTrace(['-d', '1']);
    const { code, stderr } = await trace.exited();
    const elapsed = Date.now() - start;
    expect(code).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(6000);
    expect(stderr).toMatch(SUMMARY);
  });

  it('-n 2 stops after two resets', async () => {
    const trace = await startTrace(['--netns', ns.name, '-n', '2']);
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('refused', '127.0.0.1', '9'); // would make 2 more
    const { code, records, stderr } = await trace.exited();
    expect(code).toBe(0);
    expect(records.filter((r) => r.type === 'reset')).toHaveLength(2);
    expect(SUMMARY.exec(stderr)?.[1]).toBe('2');
  });

  it('text output: a header, one line per reset with both ends, state, reason, owner; the cause under it', async () => {
    const trace = await startTrace(['--netns', ns.name, '--syscall-hook'], 'text');
    const out = ns.scenario('refused', '::1', '9');
    const { code, stdout } = await trace.stop();
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+DIR\s+LOCAL\s+REMOTE\s+STATE\s+REASON\s+OWNER$/);
    // other tests' resets may be interleaved: find ours by the client port
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const send = at(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} SEND \\[::1\\]:9 +→ +\\[::1\\]:${out.lport} +- +NO_SOCKET +- +#\\d+$`));
    const recv = at(new RegExp(`RECV \\[::1\\]:${out.lport} +→ +\\[::1\\]:9 +SYN_SENT +- +${out.pid}/rstscen +#\\d+$`));
    expect(send, stdout).toBeGreaterThan(0);
    expect(recv, stdout).toBeGreaterThan(0);
    expect(lines[send + 1]).toBe(`  closed-port: connection attempt from [::1]:${out.lport} to [::1]:9: nothing listens on port 9`);
    expect(lines[send + 3]).toMatch(new RegExp(`^  context: softirq, in connect\\(\\) of ${out.pid}/rstscen \\(the segment's sender\\) · path: tcp_v6_rcv → tcp_v6_send_reset · segment: \\[S\\]`));
    expect(lines[recv + 1]).toMatch(new RegExp(`^  connection-refused: connect\\(\\) from pid ${out.pid} \\(rstscen\\) to \\[::1\\]:9 was refused`));
    expect(stdout).toMatch(new RegExp(`↳ .* ${out.pid}/rstscen connect\\(\\) failed: ECONNREFUSED on \\[::1\\]:${out.lport} → \\[::1\\]:9, [\\d.]+ ms after #`));
  });

  it('--brief: one line per reset, no explanation; failed syscalls still shown', async () => {
    const trace = await startTrace(['--netns', ns.name, '--brief', '--syscall-hook'], 'text');
    const out = ns.scenario('refused', '127.0.0.1', '9');
    const { stdout } = await trace.stop();
    const ours = stdout.split('\n').filter((l) => l.includes(`:${out.lport} `));
    expect(ours.filter((l) => / (SEND|RECV) /.test(l))).toHaveLength(2);
    expect(ours.filter((l) => l.startsWith('  ↳ '))).toHaveLength(1);
    expect(stdout).not.toMatch(/^  (?!↳)/m);
  });

  it('runs under the V8 flags of its #! line (heap caps keep its memory flat; one thread keeps it off the traced cores)', async () => {
    const trace = await startTrace(['--netns', ns.name]);
    const argv = readFileSync(`/proc/${trace.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('--max-old-space-size=96');
    expect(argv).toContain('--max-semi-space-size=8');
    expect(argv).toContain('--single-threaded');
    await trace.stop();
  });

  it('SIGTERM detaches cleanly; none of its programs, maps or links outlive it', async () => {
    const trace = await startTrace();
    const held = bpfObjectsOf(trace.pid);
    expect(held.progs.length).toBeGreaterThanOrEqual(2);
    expect(held.links).toHaveLength(held.progs.length);
    expect(held.maps.length).toBeGreaterThanOrEqual(2);
    const { code, stderr } = await trace.stop('SIGTERM');
    expect(code).toBe(0);
    expect(stderr).toMatch(SUMMARY);
    // the kernel frees programs after an RCU grace period, not at close()
    await waitFor(
      () =>
        !held.progs.some((id) => bpfObjectExists('prog', id)) &&
        !held.maps.some((id) => bpfObjectExists('map', id)) &&
        !held.links.some((id) => bpfObjectExists('link', id)),
      10_000,
      'the kernel to free rsttrace BPF objects',
    );
  });

  it('-w FILE writes JSON lines to a new 0600 file, and never overwrites one without --force', async () => {
    const file = path.join(dir, 'capture.jsonl');
    const trace = await startTrace(['--netns', ns.name, '-q', '-w', file]);
    const out = ns.scenario('refused', '::1', '9');
    const { code, records } = await trace.stop();
    expect(code).toBe(0);
    expect(records).toHaveLength(0); // -q: nothing on stdout
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mine = lines.filter((r) => r.type === 'reset' && r.netns === ns.inode);
    expect(mine.map((r) => r.direction).sort()).toEqual(['recv', 'send']);
    expect(mine.find((r) => r.direction === 'recv')).toMatchObject({ lport: out.lport, raddr: '::1' });

    const before = readFileSync(file);
    const again = spawnSync(process.execPath, [CLI, '-w', file, '-d', '1'], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(file)).toEqual(before);

    const link = path.join(dir, 'link.jsonl');
    symlinkSync(path.join(dir, 'target'), link);
    const viaLink = spawnSync(process.execPath, [CLI, '-w', link, '--force', '-d', '1'], { encoding: 'utf8' });
    expect(viaLink.status).toBe(1);
    expect(viaLink.stderr).toMatch(/symbolic link/);
  });

  it('as a user without CAP_BPF: one clear line, exit status 1', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, '-d', '1'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rsttrace: permission denied: .*needs root.*sudo/);
    expect(r.stdout).toBe('');
  });

  it('bad option values: one line, exit status 2', () => {
    for (const args of [['-d', '0'], ['-n', 'x'], ['-o', 'xml'], ['--ring-buffer', '3'], ['--bogus']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^rsttrace: /);
    }
  });
});
