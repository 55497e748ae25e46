/**
 * What /proc and the cgroup tree say about a process: command line, cgroup
 * path, container. Read when a reset names the process, cached briefly; a
 * process that has exited keeps what the kernel side recorded (pid, comm,
 * uid, cgroup id).
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ProcessInfo {
  cmdline: string | null;
  cgroup: string | null;
  container_id: string | null;
}

const CACHE_MS = 2000;

/**
 * Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified
 * systems, /sys/fs/cgroup/unified on hybrid ones. Owners' cgroup ids are v2
 * ids, so paths are relative to this.
 */
export function cgroup2Root(mounts = '/proc/self/mounts'): string {
  try {
    for (const line of readFileSync(mounts, 'utf8').split('\n')) {
      const [, dir, type] = line.split(' ');
      if (type === 'cgroup2' && dir) return dir.replace(/\\040/g, ' ');
    }
  } catch {
    // no /proc: assume the unified layout
  }
  return '/sys/fs/cgroup';
}

/** docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>, libpod-<id>, /docker/<id>, /kubepods/.../<id> */
const CONTAINER_ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/;

export function containerIdOf(cgroupPath: string): string | null {
  return CONTAINER_ID.exec(cgroupPath)?.[1] ?? null;
}

/** The cgroup v2 path in /proc/PID/cgroup ("0::/system.slice/x.service"). */
export function parseProcCgroup(text: string): string | null {
  const m = /^0::(.*)$/m.exec(text);
  return m ? m[1]! : null;
}

export class ProcessTable {
  private cache = new Map<number, { at: number; info: ProcessInfo }>();
  private cgroupPaths: Map<bigint, string> | undefined;
  private cgroupPathsAt = 0;

  constructor(
    private readonly procRoot = '/proc',
    private readonly cgroupRoot = cgroup2Root(),
  ) {}

  info(pid: number, cgroupId: bigint | null, now = Date.now()): ProcessInfo {
    const hit = this.cache.get(pid);
    if (hit && now - hit.at < CACHE_MS) return hit.info;
    const cmdline = this.read(`${pid}/cmdline`);
    let cgroup = parseProcCgroup(this.read(`${pid}/cgroup`) ?? '');
    if (cgroup === null && cgroupId !== null) cgroup = this.cgroupById(cgroupId, now);
    const info: ProcessInfo = {
      cmdline: cmdline === null || cmdline === '' ? null : cmdline.replace(/\0+$/, '').split('\0').join(' '),
      cgroup,
      container_id: cgroup === null ? null : containerIdOf(cgroup),
    };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(pid, { at: now, info });
    return info;
  }

  private read(rel: string): string | null {
    try {
      return readFileSync(path.join(this.procRoot, rel), 'utf8');
    } catch {
      return null;
    }
  }

  /** cgroup v2 ids are the inode numbers of the cgroup directories. */
  private cgroupById(id: bigint, now: number): string | null {
    if (!this.cgroupPaths || (!this.cgroupPaths.has(id) && now - this.cgroupPathsAt > 10_000)) {
      this.cgroupPaths = new Map();
      this.cgroupPathsAt = now;
      const walk = (dir: string, depth: number) => {
        if (depth > 12) return;
        let st;
        try {
          st = statSync(dir, { bigint: true });
        } catch {
          return;
        }
        this.cgroupPaths!.set(st.ino, dir === this.cgroupRoot ? '/' : dir.slice(this.cgroupRoot.length));
        let entries;
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), depth + 1);
      };
      walk(this.cgroupRoot, 0);
    }
    return this.cgroupPaths.get(id) ?? null;
  }
}

export interface SocketOwner {
  pid: number;
  comm: string;
  uid: number;
}

/** Who holds a socket, by its inode (a Map will do in tests). */
export interface SocketOwners {
  /** `rescan`: may look in /proc again for an inode it does not know */
  get(ino: number, rescan?: boolean): SocketOwner | undefined;
}

/**
 * Socket inode -> a process holding it, from /proc/PID/fd, rescanned when
 * asked for an inode it does not know: the owners the kernel maps cannot
 * give, sockets opened before rsttrace attached and sockets accepted by a
 * process that has neither read nor written them yet (without the syscall
 * hook nothing sees accept()). A scan reads every process's fd table, so a
 * miss rescans at most once per `minRescanMs`; a socket closed by then is
 * simply not found.
 */
export class SocketOwnerIndex implements SocketOwners {
  private owners: Map<number, SocketOwner>;
  /** when a miss last rescanned (the scan at start does not count) */
  private rescannedAt = -Infinity;
  scans = 1;

  constructor(
    private readonly procRoot = '/proc',
    private readonly minRescanMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.owners = scanSocketOwners(procRoot);
  }

  get(ino: number, rescan = true): SocketOwner | undefined {
    const known = this.owners.get(ino);
    if (known || !rescan || this.now() - this.rescannedAt < this.minRescanMs) return known;
    this.owners = scanSocketOwners(this.procRoot);
    this.rescannedAt = this.now();
    this.scans++;
    return this.owners.get(ino);
  }
}

/** The inodes of the sockets a process holds (its /proc/PID/fd); none if it is gone. */
export function socketsHeldBy(pid: number, procRoot = '/proc'): number[] {
  let fds: string[];
  try {
    fds = readdirSync(path.join(procRoot, String(pid), 'fd'));
  } catch {
    return []; // gone, or a kernel thread
  }
  const out: number[] = [];
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(path.join(procRoot, String(pid), 'fd', fd));
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Socket inode -> a process holding it, from /proc/PID/fd, once. */
export function scanSocketOwners(procRoot = '/proc'): Map<number, SocketOwner> {
  const owners = new Map<number, SocketOwner>();
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let proc: SocketOwner | undefined;
    for (const ino of socketsHeldBy(Number(pid), procRoot)) {
      if (owners.has(ino)) continue;
      if (!proc) {
        let comm = '';
        let uid = 0;
        try {
          const status = readFileSync(path.join(procRoot, pid, 'status'), 'utf8');
          comm = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '';
          uid = Number(/^Uid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
        } catch {
          // exited meanwhile: keep the pid
        }
        proc = { pid: Number(pid), comm, uid };
      }
      owners.set(ino, proc);
    }
  }
  return owners;
}
