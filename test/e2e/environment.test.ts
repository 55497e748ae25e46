/**
 * Hostile environments, made for real in a private mount namespace or with
 * dropped capabilities (nothing on the host changes): rsttrace fails with
 * one clear line, or works, and `rsttrace doctor` says which and why.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, e2eSkipReason, Netns, reportSkip, ROOT } from './harness.js';

const skip = e2eSkipReason();
reportSkip(skip, 'e2e/environment');

function rsttrace(args: string[], wrap: string[] = []) {
  const argv = [...wrap, process.execPath, CLI, ...args];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
}

/** Runs rsttrace in a private mount namespace after `setup` (shell). */
function inMountNs(setup: string, args: string[]) {
  return spawnSync('unshare', ['-m', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, CLI, ...args], { encoding: 'utf8' });
}

describe.skipIf(skip)('environment', () => {
  it('doctor, as root on this host: everything works, exit status 0', () => {
    const r = rsttrace(['doctor']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^  ✓ load and attach +every program loaded and attached, then detached \(as by default, and with --syscall-hook\)$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('rsttrace can trace on this host');
    expect(r.stdout).not.toMatch(/^  ✗/m);
  });

  it('not root: one line, exit status 1; doctor names the privilege and what to do', () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const r = rsttrace(['-d', '1'], nobody);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^rsttrace: permission denied: .*missing CAP_BPF and CAP_PERFMON.*sudo$/);
    const d = rsttrace(['doctor'], nobody);
    expect(d.status).toBe(1);
    expect(d.stdout).toMatch(/^  ✗ privileges .*\n .*→ loading BPF tracing programs needs root/m);
  });

  it('root without CAP_PERFMON: says which capability is missing', () => {
    const r = rsttrace(['-d', '1'], ['setpriv', '--bounding-set', '-perfmon,-sys_admin']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('rsttrace: permission denied: loading BPF tracing programs needs root (missing CAP_PERFMON); run rsttrace with sudo');
  });

  it('no kernel BTF: one line, exit status 1; doctor agrees', () => {
    const r = inMountNs('mount -t tmpfs none /sys/kernel/btf', ['-d', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^rsttrace: no kernel BTF: \/sys\/kernel\/btf\/vmlinux is missing; .*CONFIG_DEBUG_INFO_BTF=y/);
    const d = inMountNs('mount -t tmpfs none /sys/kernel/btf', ['doctor']);
    expect(d.status).toBe(1);
    expect(d.stdout).toMatch(/^  ✗ BTF +\/sys\/kernel\/btf\/vmlinux is missing$/m);
  });

  it('tracefs not mounted: rsttrace does not need it', () => {
    const ns = new Netns('notracefs'); // its own namespace: other tests' resets are not its business
    try {
      const r = inMountNs('mount -t tmpfs none /sys/kernel/tracing', ['--netns', String(ns.inode), '-d', '0.5']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^rsttrace: 0 resets \(0 sent, 0 received\) in [\d.]+ s, 0 lost$/m);
    } finally {
      ns.close();
    }
  });

  it('addon not built: one line that says to build it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-noaddon-'));
    try {
      cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
      cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      const r = spawnSync(process.execPath, [path.join(dir, 'dist', 'cli.js'), '-d', '1'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^rsttrace: native addon not loadable: .*rsttrace\.node is missing; run `make build`$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
