/**
 * --metrics: Prometheus exposition during a real trace, scraped over HTTP,
 * checked by promtool, and scraped by a real Prometheus server (Debian's,
 * unpacked by make test, listening on loopback only).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, Netns, reportSkip, ROOT, startTrace } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/metrics');
const TOOLS = path.join(ROOT, 'build', 'tools', 'prometheus', 'usr', 'bin');
const promSkip = skip ?? (existsSync(path.join(TOOLS, 'prometheus')) ? null : `no Prometheus in ${TOOLS}; make test unpacks Debian's`);
reportSkip(promSkip === skip ? null : promSkip, 'e2e/metrics (Prometheus server)');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function value(text: string, series: RegExp): number | undefined {
  const line = text.split('\n').find((l) => series.test(l));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe.skipIf(skip)('--metrics', () => {
  let ns: Netns;
  let dir: string;
  beforeAll(() => {
    ns = new Netns('metrics');
    dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-prom-'));
  });
  afterAll(() => {
    ns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts resets by direction, reason, cause and comm, and failed syscalls, over HTTP', async () => {
    const port = await freePort();
    const trace = await startTrace(['-q', '--netns', ns.name, '--syscall-hook', '--metrics', `127.0.0.1:${port}`]);
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('unread-close', '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    await trace.stop();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(value(text, /^rsttrace_resets_total\{direction="send",reason="NO_SOCKET",cause="closed-port",comm="-"\}/)).toBe(2);
    expect(value(text, /^rsttrace_resets_total\{direction="recv",reason="none",cause="connection-refused",comm="rstscen"\}/)).toBe(2);
    expect(value(text, /^rsttrace_resets_total\{direction="send",reason="TCP_ABORT_ON_CLOSE",cause="close-unread",comm="rstscen"\}/)).toBe(1);
    expect(value(text, /^rsttrace_syscall_errors_total\{errno="ECONNREFUSED",syscall="connect",comm="rstscen"\}/)).toBe(2);
    expect(value(text, /^rsttrace_lost_events /)).toBe(0);
    if (existsSync(path.join(TOOLS, 'promtool'))) {
      const check = spawnSync(path.join(TOOLS, 'promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
    expect((await fetch(`http://127.0.0.1:${port}/nope`).catch(() => null))?.status ?? 404).toBe(404);
  });

  it.skipIf(promSkip)('a real Prometheus server scrapes it', async () => {
    const port = await freePort();
    const promPort = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: rsttrace\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`,
    );
    const trace = await startTrace(['-q', '--netns', ns.name, '--syscall-hook', '--metrics', `127.0.0.1:${port}`]);
    let prom: ChildProcess | undefined;
    try {
      ns.scenario('unread-close', '127.0.0.1');
      prom = spawn(path.join(TOOLS, 'prometheus'), [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ], { stdio: 'ignore' });
      const query = encodeURIComponent('rsttrace_resets_total{cause="close-unread"}');
      let result: any;
      const started = Date.now();
      while (result === undefined && Date.now() - started < 20_000) {
        const q: any = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${query}`).then((r) => r.json(), () => null);
        if (q?.data?.result?.length) result = q.data.result;
        else await new Promise((r) => setTimeout(r, 250));
      }
      expect(result, 'Prometheus scraped nothing in 20 s').toBeDefined();
      expect(result[0]).toMatchObject({ metric: { job: 'rsttrace', direction: 'send', reason: 'TCP_ABORT_ON_CLOSE', comm: 'rstscen' }, value: [expect.any(Number), '1'] });
    } finally {
      prom?.kill('SIGTERM');
      await trace.stop();
    }
  });

  it('a bad or busy address: one line, exit status 2 or 1', async () => {
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--metrics', 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--metrics', `127.0.0.1:${port}`, '-d', '1'], { encoding: 'utf8' });
    busy.close();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`rsttrace: cannot serve metrics on 127.0.0.1:${port}: the port is in use; choose another --metrics address`);
  });
});
