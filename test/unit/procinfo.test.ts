import { createServer } from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerIdOf, parseProcCgroup, ProcessTable, scanSocketOwners } from '../../src/procinfo.js';

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
});
