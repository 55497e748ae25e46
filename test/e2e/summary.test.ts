/** --summary and -i on real resets: the report's tables, live. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, e2eSkipReason, Netns, reportSkip, startTrace } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/summary');

describe.skipIf(skip)('--summary', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns('summary');
  });
  afterAll(() => ns?.close());

  it('at the end: counts by cause, owner, peer, port and errno', async () => {
    const trace = await startTrace(['--netns', ns.name, '--syscall-hook', '--summary', '--top', '3'], 'text');
    const a = ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('refused', '127.0.0.1', '9');
    ns.scenario('unread-close', '127.0.0.1');
    const { code, stdout } = await trace.stop();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^rsttrace summary: this run\n  0 lost\n/);
    expect(stdout).toContain('  6 resets: 3 sent, 3 received · 3 syscall errors, 3 linked to a reset');
    expect(stdout).toMatch(/^closed-port +2 +33\.3$/m);
    expect(stdout).toMatch(/^connection-refused +2 +33\.3$/m);
    expect(stdout).toMatch(/^close-unread +1 +16\.7$/m);
    expect(stdout).toMatch(/^9 +2 +33\.3$/m); // local port 9: the two refused connects
    expect(stdout).toMatch(/^ECONNREFUSED +2 +66\.7$/m);
    expect(stdout).toMatch(new RegExp(`^${a.pid}/rstscen +1 `, 'm'));
    expect(stdout).not.toMatch(/^\d\d:\d\d:\d\d\.\d{6} (SEND|RECV) .*#\d+$/m); // no line per reset
  });

  it('-i: one summary per interval, each counted afresh', async () => {
    const trace = await startTrace(['--netns', ns.name, '--summary', '-i', '0.5'], 'text');
    ns.scenario('refused', '127.0.0.1', '9');
    await new Promise((r) => setTimeout(r, 1300));
    ns.scenario('unread-close', '127.0.0.1');
    const { stdout } = await trace.stop();
    const parts = stdout.split(/^rsttrace summary: /m).slice(1);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const resets = parts.map((p) => Number(/ (\d+) resets?:/.exec(p)?.[1] ?? 0));
    expect(resets.reduce((x, y) => x + y, 0)).toBe(4);
    expect(parts[0]).toContain('closed-port');
    expect(parts.at(-1)).toContain('close-unread');
    expect(parts.at(-1)).not.toContain('closed-port');
  });

  it('usage: -i without --summary, --summary with -o jsonl', () => {
    for (const args of [['-i', '1'], ['--summary', '-o', 'jsonl']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
