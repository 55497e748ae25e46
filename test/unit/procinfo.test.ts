import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerIdOf, parseProcCgroup, ProcessTable, scanSocketOwners, SocketOwnerIndex } from '../../src/procinfo.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

describe('process information', () => {
  it('finds container ids in the usual cgroup paths', () => {
    expect(containerIdOf(`/system.slice/docker-${ID}.scope`)).toBe(ID);
    expect(containerIdOf(`/kubepods.slice/kubepods-burstable.slice/cri-containerd-${ID}.scope`)).toBe(ID);
    expect(containerIdOf(`/docker/${ID}`)).toBe(ID);
    expect(containerIdOf(`/machine.slice/libpod-${ID}.scope/container`)).toBe(ID);
    expect(containerIdOf('/user.slice/user-1000.slice/session-2.scope')).toBeNull();
  });

  it('reads the cgroup v2 line of /proc/PID/cgroup', () => {
    expect(parseProcCgroup('12:cpu:/x\n0::/system.slice/nginx.service\n')).toBe('/system.slice/nginx.service');
    expect(parseProcCgroup('1:name=systemd:/\n')).toBeNull();
  });

  it('reads a live process: this one', () => {
    const info = new ProcessTable().info(process.pid, null);
    expect(info.cmdline).toContain('node');
  });

  it('maps the inode of a socket this process holds to this process', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const inodes = readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined)
        .map(Number);
      expect(inodes.length).toBeGreaterThan(0);
      const owners = scanSocketOwners();
      for (const ino of inodes) expect(owners.get(ino)?.pid).toBe(process.pid);
    } finally {
      server.close();
    }
  });

  it('looks in /proc again for a socket it does not know, at most once per interval', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'rsttrace-proc-'));
    const hold = (pid: number, fd: number, ino: number) => {
      mkdirSync(path.join(proc, String(pid), 'fd'), { recursive: true });
      writeFileSync(path.join(proc, String(pid), 'status'), `Name:\tproc${pid}\nUid:\t1000\t1000\t1000\t1000\n`);
      symlinkSync(`socket:[${ino}]`, path.join(proc, String(pid), 'fd', String(fd)));
    };
    try {
      hold(100, 3, 5000);
      let now = 0;
      const index = new SocketOwnerIndex(proc, 1000, () => now);
      expect(index.get(5000)).toEqual({ pid: 100, comm: 'proc100', uid: 1000 });
      hold(200, 4, 6000); // accepted after the scan at start
      expect(index.get(6000)).toEqual({ pid: 200, comm: 'proc200', uid: 1000 });
      expect(index.scans).toBe(2);
      hold(300, 5, 7000);
      now = 500;
      expect(index.get(7000)).toBeUndefined(); // too soon after the last rescan
      expect(index.scans).toBe(2);
      now = 1500;
      expect(index.get(7000)?.pid).toBe(300);
      expect(index.get(5000)?.pid).toBe(100); // known: no scan
      expect(index.scans).toBe(3);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
