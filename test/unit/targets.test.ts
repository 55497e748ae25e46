/** What -p reads from /proc: the ports the traced processes listen on. */
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listeningPortsOf, socketInodesOf } from '../../src/targets.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('listening ports of traced processes', () => {
  it('takes the LISTEN (0A) lines of /proc/PID/net/tcp{,6} whose inode the process holds, with its netns', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'rsttrace-proc-'));
    try {
      mkdirSync(path.join(proc, '100', 'ns'), { recursive: true });
      mkdirSync(path.join(proc, '100', 'net'), { recursive: true });
      writeFileSync(path.join(proc, '100', 'ns', 'net'), '');
      writeFileSync(
        path.join(proc, '100', 'net', 'tcp'),
        HEADER +
          '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0\n' + // held, listening: 8080
          '   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 100 0 0 10 0\n' + // listening, someone else's
          '   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 5003 1 0000000000000000 20 4 30 10 -1\n', // held, established
      );
      writeFileSync(
        path.join(proc, '100', 'net', 'tcp6'),
        HEADER + '   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5004 1 0000000000000000 100 0 0 10 0\n', // held: 443
      );
      const netns = statSync(path.join(proc, '100', 'ns', 'net')).ino;
      const held = [5001, 100, 5003, 100, 5004, 100];
      expect(listeningPortsOf(held, proc)).toEqual([netns, 8080, 100, netns, 443, 100]);
      expect(listeningPortsOf([], proc)).toEqual([]);
      expect(listeningPortsOf([5001, 999], proc)).toEqual([]); // gone: no /proc/999
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it('the sockets of the traced pids from their own fd tables, also one a lower pid shares (a master\'s listener)', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'rsttrace-proc-'));
    const hold = (pid: number, fd: number, target: string) => {
      mkdirSync(path.join(proc, String(pid), 'fd'), { recursive: true });
      symlinkSync(target, path.join(proc, String(pid), 'fd', String(fd)));
    };
    try {
      hold(10, 3, 'socket:[7000]'); // the master, not traced
      hold(20, 3, 'socket:[7000]'); // the worker, traced: the same listener
      hold(20, 4, 'socket:[7001]');
      hold(20, 5, 'pipe:[9]');
      hold(30, 3, 'socket:[7001]'); // also traced: the socket is reported once
      expect(socketInodesOf([20, 30], proc)).toEqual([7000, 20, 7001, 20]);
      expect(socketInodesOf([99], proc)).toEqual([]); // gone
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
