/**
 * Attaching to processes (-p, -- CMD) and the kernel-side filters, on real
 * resets from processes running at the same time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroup2Root } from '../../src/procinfo.js';
import { bpfObjectsOf, CLI, e2eSkipReason, Netns, reportSkip, RSTSCEN, run, startTrace, VethPair, waitFor, type JsonRecord } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/targets');

/** `rstscen hold`: a connection made now, reset when told. */
async function hold(ns: Netns) {
  const child = spawn('ip', ['netns', 'exec', ns.name, RSTSCEN, 'hold', '127.0.0.1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const out = JSON.parse(await new Promise<string>((r) => child.stdout!.once('data', (d) => r(String(d)))));
  return { out, go: () => child.stdin!.end('go\n'), exited };
}

const resetsOf = (records: JsonRecord[]) => records.filter((r) => r.type === 'reset');

describe.skipIf(skip)('-p PID', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('pid');
  });
  afterAll(() => ns?.close());

  it("shows exactly A's resets, also softirq-made ones and its child's, none of B's; exits when A has", async () => {
    const a = await hold(ns);
    const trace = await startTrace(['-p', String(a.out.client_pid)]);
    const b = ns.scenario('unread-close', '127.0.0.1'); // B, at the same time
    a.go();
    expect(await a.exited).toBe(0);
    const { code, records } = await trace.exited(); // no -d: it ends because A has
    expect(code).toBe(0);
    expect(records.at(-1)).toMatchObject({ type: 'session_end', reason: 'traced processes exited' });

    const resets = resetsOf(records);
    expect(resets).toHaveLength(2);
    // A's own socket, made before rsttrace started, reset in softirq run by A's child
    expect(resets.find((r) => r.direction === 'recv')).toMatchObject({
      lport: a.out.client_port,
      owner: { pid: a.out.client_pid, source: 'procfs' },
      context: { kind: 'softirq', pid: a.out.server_pid },
    });
    // the child (forked before rsttrace started) is followed
    expect(resets.find((r) => r.direction === 'send')).toMatchObject({ owner: { pid: a.out.server_pid }, reason: 'TCP_STATE' });
    // nothing of B's, though B made resets meanwhile, some in A's namespace's softirq
    const bPorts = [b.client_port, b.server_port];
    expect(records.filter((r) => bPorts.includes(r.lport) || [b.client_pid, b.server_pid].includes(r.owner?.pid))).toEqual([]);
  });

  it('--no-follow-forks: the child’s resets are left out', async () => {
    const a = await hold(ns);
    const trace = await startTrace(['-p', String(a.out.client_pid), '--no-follow-forks']);
    a.go();
    await a.exited;
    const resets = resetsOf((await trace.exited()).records);
    expect(resets.map((r) => [r.direction, r.owner.pid])).toEqual([['recv', a.out.client_pid]]);
  });

  it('--keep-waiting: a traced pid reused by an untraced process leaves the kernel’s target set; until then it stays', async () => {
    const a = await hold(ns);
    const trace = await startTrace(['-p', String(a.out.client_pid), '--keep-waiting']);
    const targets = () => {
      for (const id of bpfObjectsOf(trace.pid).maps) {
        const show = JSON.parse(spawnSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' }).stdout) as { name?: string };
        if (show.name !== 'targets') continue;
        const entries = JSON.parse(spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' }).stdout) as { key: string[] | number }[];
        // keys as bytes (little endian u32) or as a number, by bpftool's version
        return entries.map((e) => (Array.isArray(e.key) ? e.key.reduce((v, b, i) => v + parseInt(b, 16) * 256 ** i, 0) : e.key)).sort();
      }
      throw new Error('no targets map');
    };
    const pids = [a.out.client_pid, a.out.server_pid].sort();
    expect(targets()).toEqual(pids);
    a.go();
    expect(await a.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(targets()).toEqual(pids); // gone, but their orphans may still reset
    // the kernel's next pid is the client's again (ns_last_pid): an untraced process takes it
    let reused = false;
    for (let attempt = 0; attempt < 5 && !reused; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(a.out.client_pid - 1));
      const p = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
      reused = Number(p.stdout.trim()) === a.out.client_pid;
    }
    expect(reused, 'could not get the pid again').toBe(true);
    expect(targets()).not.toContain(a.out.client_pid);
    await trace.stop();
  });

  it('a traced process that exits holding unread data: the reset its exit makes is shown', () => {
    // the command's own sockets, closed by the kernel at exit (not by close()), one with 100 unread bytes
    const script =
      "const net = require('net'); const s = net.createServer((c) => c.write('x'.repeat(100))).listen(0, '127.0.0.1', () => {" +
      " const c = net.connect(s.address().port, '127.0.0.1'); c.pause(); setTimeout(() => process.exit(0), 300); });";
    const r = spawnSync(process.execPath, [CLI, '-o', 'jsonl', '--', 'ip', 'netns', 'exec', ns.name, process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const resets = r.stdout.split('\n').filter((l) => l.startsWith('{"type":"reset"')).map((l) => JSON.parse(l) as JsonRecord);
    const exitReset = resets.find((e) => e.direction === 'send' && e.reason === 'TCP_ABORT_ON_CLOSE');
    expect(exitReset).toMatchObject({ owner: { comm: 'node', closed_ms_before: expect.any(Number) }, cause: { code: 'close-unread' } });
    expect(exitReset!.socket.rcv_unread_bytes).toBeGreaterThanOrEqual(100); // and the peer's FIN, if it came first
  });

  it('a server listening before rsttrace started: a reset on what it accepts after is shown before it reads (its port is its own)', async () => {
    // accepts and never reads; the client resets (SO_LINGER 0) right after connecting
    const serverJs =
      "const s = require('net').createServer((c) => { c.pause(); c.on('error', () => {}); });" +
      " s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ pid: process.pid, port: s.address().port }))); setTimeout(() => process.exit(0), 15000);";
    const server = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', serverJs], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const out = JSON.parse(await new Promise<string>((r) => server.stdout!.once('data', (d) => r(String(d)))));
      const trace = await startTrace(['-p', String(out.pid), '--keep-waiting']);
      ns.exec(process.execPath, ['-e', `const c = require('net').connect(${out.port}, '127.0.0.1', () => setTimeout(() => c.resetAndDestroy(), 100));`]);
      await new Promise((r) => setTimeout(r, 300));
      const { records } = await trace.stop();
      const recv = resetsOf(records).find((r) => r.direction === 'recv' && r.lport === out.port);
      expect(recv).toMatchObject({ owner: { pid: out.pid } });
      expect(records.find((r) => r.type === 'syscall_error' && r.pid === out.pid)).toMatchObject({ reset_id: recv!.id, errno: 'ECONNRESET' });
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('a pid that does not exist: one line, exit status 1', () => {
    const r = spawnSync(process.execPath, [CLI, '-p', '4194303'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('rsttrace: no process with pid 4194303; check it with ps -p 4194303');
  });
});

describe.skipIf(skip)('rsttrace -- CMD', () => {
  let ns: Netns;
  let hosts: VethPair;
  beforeAll(() => {
    ns = new Netns('cmd');
    hosts = new VethPair('cm');
  });
  afterAll(() => {
    ns?.close();
    hosts?.close();
  });

  function traceCommand(args: string[], env: NodeJS.ProcessEnv = process.env) {
    const r = spawnSync(process.execPath, [CLI, '-o', 'jsonl', ...args], { encoding: 'utf8', env });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{"type":'));
    return { status: r.status, records: lines.map((l) => JSON.parse(l) as JsonRecord), stdout: r.stdout, stderr: r.stderr };
  }

  it("traces only the command and its children, ends with it and exits with its status, also non-zero", () => {
    // another process resets meanwhile, in the same namespace
    const other = spawn('ip', ['netns', 'exec', ns.name, RSTSCEN, 'burst', '127.0.0.1', '9', '300']);
    const script = `${RSTSCEN} refused 127.0.0.1 9 >/dev/null; ${RSTSCEN} unread-close 127.0.0.1 >/dev/null; exit 7`;
    const { status, records } = traceCommand(['--', 'ip', 'netns', 'exec', ns.name, 'sh', '-c', script]);
    other.kill();
    expect(status).toBe(7);
    expect(records.at(-1)).toMatchObject({ type: 'session_end', reason: 'command exited with status 7' });
    const resets = resetsOf(records);
    expect(resets.map((r) => `${r.direction} ${r.reason ?? r.state}`).sort()).toEqual([
      'recv ESTABLISHED',
      'recv SYN_SENT',
      'send TCP_ABORT_ON_CLOSE',
    ]);
    // the failed recv() (the refused connect() needs --syscall-hook)
    expect(records.filter((r) => r.type === 'syscall_error').map((r) => r.errno)).toEqual(['ECONNRESET']);
  });

  it('includes a reset on a socket the command accepted and never read nor wrote (its listener was the command\'s)', () => {
    // connect-unspec: the server (a child of the command) accepts and blocks in recv(); nothing has used the socket yet
    const { status, records, stdout } = traceCommand(['--', 'ip', 'netns', 'exec', ns.name, RSTSCEN, 'connect-unspec', '127.0.0.1']);
    expect(status).toBe(0);
    const out = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"client_pid"'))!);
    const recv = resetsOf(records).find((r) => r.direction === 'recv' && r.lport === out.server_port);
    expect(recv).toMatchObject({ owner: { pid: out.server_pid, last_syscall: 'recvfrom' } });
    expect(records.find((r) => r.type === 'syscall_error' && r.pid === out.server_pid)).toMatchObject({ reset_id: recv!.id, errno: 'ECONNRESET' });
  });

  it('includes a reset on a connection its listener never accepted, when that listener is a socket whose connect() was refused', () => {
    // the failed connect() left the socket's facts in the LRU map; listen() must move them into socket storage,
    // the only place the kernel copies to the sockets a listener makes
    const { status, records, stdout } = traceCommand(['--', 'ip', 'netns', 'exec', ns.name, RSTSCEN, 'listen-after-refused', '127.0.0.1']);
    expect(status).toBe(0);
    const out = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"server_pid"'))!);
    const resets = resetsOf(records);
    const sent = resets.find((r) => r.direction === 'send' && r.rport === out.server_port);
    expect(sent).toMatchObject({ owner: { pid: out.client_pid }, reason: 'TCP_STATE' });
    const recv = resets.find((r) => r.direction === 'recv' && r.lport === out.server_port);
    expect(recv).toMatchObject({ state: 'ESTABLISHED', peer_event_id: sent!.id, cause: { code: 'reset-by-peer' } });
  });

  it('includes timer-made resets on its sockets (keepalive over veth)', () => {
    const { status, records } = traceCommand(['--', RSTSCEN, 'keepalive', hosts.server.name, hosts.client.name, hosts.serverAddr, hosts.serverIface]);
    expect(status).toBe(0);
    const resets = resetsOf(records);
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({ reason: 'TCP_KEEPALIVE_TIMEOUT', context: { kind: 'timer' }, netns: hosts.client.inode });
  });

  it('under sudo, runs the command as the invoking user', () => {
    const env = { ...process.env, SUDO_UID: '65534', SUDO_GID: '65534', SUDO_USER: 'nobody' };
    const r = spawnSync(process.execPath, [CLI, '-q', '--', 'sh', '-c', 'echo "$(id -u) $(id -g) $USER"'], { encoding: 'utf8', env, cwd: '/' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('65534 65534 nobody');
  });

  const noScript = spawnSync('script', ['--version']).status === 0 ? false : 'script(1) (util-linux / bsdutils) is not installed';
  if (noScript) console.log(`skipped: Ctrl-C under a terminal: ${noScript}`);
  it.skipIf(noScript)('Ctrl-C in a terminal reaches the command once (the terminal sends it; rsttrace does not again); kill -INT rsttrace is forwarded', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-ctrlc-'));
    const counter = path.join(dir, 'count.js');
    const log = path.join(dir, 'ints');
    writeFileSync(
      counter,
      `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(log)}, '');
       process.on('SIGINT', () => fs.appendFileSync(${JSON.stringify(log)}, 'INT\\n'));
       setTimeout(() => process.exit(0), 1500);`,
    );
    const ints = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    try {
      // script(1) gives rsttrace a terminal; ^C written to it is the line discipline's SIGINT to the foreground group
      const tty = spawn('script', ['-q', '-c', `${CLI} -q -- ${process.execPath} ${counter}`, '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'], env });
      await waitFor(() => existsSync(log), 15_000, 'the command under a terminal');
      tty.stdin!.write('\x03');
      await new Promise((r) => tty.on('close', r));
      expect(ints()).toBe(1);

      rmSync(log);
      // its own process group: not a terminal's foreground, however the tests run
      const plain = spawn(CLI, ['-q', '--', process.execPath, counter], { stdio: 'ignore', env, detached: true });
      await waitFor(() => existsSync(log), 15_000, 'the command without a terminal');
      plain.kill('SIGINT');
      await new Promise((r) => plain.on('close', r));
      expect(ints()).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage errors: nothing after --, -p with --', () => {
    for (const args of [['--'], ['-p', '1', '--', 'true']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe.skipIf(skip)('filters on real resets', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('filt');
  });
  afterAll(() => ns?.close());

  /** The same mix of resets each time: IPv4 and IPv6, sent and received, three reasons. */
  async function mix(filter: string[]): Promise<JsonRecord[]> {
    const trace = await startTrace(['--netns', ns.name, ...filter]);
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('refused', '::1', '10');
    ns.scenario('unread-close', '127.0.0.1');
    ns.scenario('linger0', '::1');
    const { records } = await trace.stop();
    // --netns: nothing from the namespaces other tests are using meanwhile
    expect(records.filter((r) => r.netns !== undefined && r.netns !== ns.inode)).toEqual([]);
    return resetsOf(records);
  }

  it('--netns alone: the whole mix', async () => {
    expect(await mix([])).toHaveLength(8);
  });

  for (const [args, ok, n] of [
    [['--port', '9'], (r: JsonRecord) => r.lport === 9 || r.rport === 9, 2],
    [['--port', '9,10'], (r: JsonRecord) => [9, 10].includes(r.lport) || [9, 10].includes(r.rport), 4],
    [['-4'], (r: JsonRecord) => r.family === 'ipv4', 4],
    [['-6'], (r: JsonRecord) => r.family === 'ipv6', 4],
    [['--direction', 'send'], (r: JsonRecord) => r.direction === 'send', 4],
    [['--direction', 'recv'], (r: JsonRecord) => r.direction === 'recv', 4],
    [['--reason', 'no_socket'], (r: JsonRecord) => r.reason === 'NO_SOCKET', 2],
    [['--reason', 'TCP_ABORT_ON_CLOSE,TCP_STATE'], (r: JsonRecord) => ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'].includes(r.reason), 2],
    [['--laddr', '::1'], (r: JsonRecord) => r.laddr === '::1', 4],
    [['--raddr', '127.0.0.0/8', '--port', '9'], (r: JsonRecord) => r.raddr.startsWith('127.') && (r.lport === 9 || r.rport === 9), 2],
  ] as const) {
    it(`${args.join(' ')}: only matching resets, all of them`, async () => {
      const resets = await mix([...args]);
      expect(resets.length, JSON.stringify(resets.map((r) => [r.direction, r.family, r.lport, r.rport, r.reason]))).toBe(n);
      expect(resets.every(ok)).toBe(true);
    });
  }

  it('--cgroup: only sockets owned from that cgroup v2', async () => {
    const name = `rsttest-${process.pid}`;
    const dir = path.join(cgroup2Root(), name);
    mkdirSync(dir);
    try {
      const trace = await startTrace(['--netns', ns.name, '--cgroup', `/${name}`]);
      // join the cgroup before entering the namespace: ip netns exec remounts /sys without cgroups
      const inside = JSON.parse(
        run('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec ip netns exec ${ns.name} ${RSTSCEN} unread-close 127.0.0.1`]),
      );
      ns.scenario('linger0', '127.0.0.1'); // outside the cgroup
      const resets = resetsOf((await trace.stop()).records);
      expect(resets.length).toBeGreaterThan(0);
      for (const r of resets) expect(r.owner).toMatchObject({ cgroup: `/${name}` });
      expect(resets.find((r) => r.direction === 'send')).toMatchObject({ owner: { pid: inside.client_pid } });
    } finally {
      rmdirSync(dir);
    }
  });

  it('bad filter values: one line each, exit status 2', () => {
    for (const args of [['--port', '0'], ['--port', '1,2,3,4,5,6,7,8,9'], ['--laddr', '300.1.1.1'], ['--direction', 'up'], ['--reason', 'NOPE'], ['--cgroup', '/no/such/cgroup'], ['--netns', 'no-such-ns'], ['-4', '-6'], ['-p', 'abc']]) {
      const r = spawnSync(process.execPath, [CLI, ...args, '-d', '1'], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
