/**
 * The processes that -p and -- CMD trace: who they are at start (with their
 * children, when followed), which sockets they already hold, whether any is
 * still alive, and the command rsttrace starts itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { constants } from 'node:os';
import { socketsHeldBy } from './procinfo.js';

/**
 * The fields of /proc/PID/stat after "pid (comm)", from state on (the comm
 * may hold spaces and parentheses): [state, ppid, pgrp, session, tty_nr,
 * tpgid, ...]; null if the process is gone.
 */
function statFields(pid: number | string, procRoot: string): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** pid -> parent pid, from /proc/PID/stat. */
function parents(procRoot: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync(procRoot)) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(d, procRoot);
    if (f) out.set(Number(d), Number(f[1])); // else exited meanwhile
  }
  return out;
}

/** The pids and, with `children`, every process descended from them now. */
export function targetTree(pids: number[], children: boolean, procRoot = '/proc'): number[] {
  const set = new Set(pids);
  if (!children) return [...set];
  const ppid = parents(procRoot);
  for (const pid of ppid.keys()) {
    const chain: number[] = [];
    for (let p: number | undefined = pid; p !== undefined && p > 1 && !set.has(p); p = ppid.get(p)) {
      chain.push(p);
      if (chain.length > 512) break;
    }
    const last = chain.length ? ppid.get(chain[chain.length - 1]!) : undefined;
    if (last !== undefined && set.has(last)) for (const p of chain) set.add(p);
  }
  return [...set];
}

/**
 * [inode, pid, inode, pid, ...] of the sockets the pids hold now, read from
 * their own fd tables: a socket also held by another process (a listener
 * shared with a master) is theirs too.
 */
export function socketInodesOf(pids: number[], procRoot = '/proc'): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const pid of pids) {
    for (const ino of socketsHeldBy(pid, procRoot)) {
      if (seen.has(ino)) continue;
      seen.add(ino);
      out.push(ino, pid);
    }
  }
  return out;
}

/**
 * [netns inode, port, pid, ...] of the TCP ports listened on by the sockets
 * in `sockets` ([inode, pid, ...], as socketInodesOf gives them), from
 * /proc/PID/net/tcp{,6} (state 0A): what they accept later is theirs before
 * they read or write it.
 */
export function listeningPortsOf(sockets: number[], procRoot = '/proc'): number[] {
  const held = new Map<number, number>(); // inode -> pid
  for (let i = 0; i + 1 < sockets.length; i += 2) held.set(sockets[i]!, sockets[i + 1]!);
  const out: number[] = [];
  const seen = new Set<string>();
  const tablesRead = new Set<number>(); // a netns's tables list all its sockets: read once
  for (const pid of new Set(held.values())) {
    let netns: number;
    try {
      netns = statSync(path.join(procRoot, String(pid), 'ns', 'net')).ino;
    } catch {
      continue; // gone
    }
    if (tablesRead.has(netns)) continue;
    tablesRead.add(netns);
    for (const file of ['tcp', 'tcp6']) {
      let table: string;
      try {
        table = readFileSync(path.join(procRoot, String(pid), 'net', file), 'utf8');
      } catch {
        continue;
      }
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      for (const line of table.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] !== '0A') continue;
        const owner = held.get(Number(f[9]));
        const port = parseInt(f[1]?.split(':')[1] ?? '', 16);
        const key = `${netns}:${port}`;
        if (owner === undefined || Number.isNaN(port) || seen.has(key)) continue;
        seen.add(key);
        out.push(netns, port, owner);
      }
    }
  }
  return out;
}

/** pgrp and the terminal's foreground group (tpgid) from /proc/PID/stat; null if gone. */
function groups(pid: number | 'self', procRoot: string): { pgrp: number; tpgid: number } | null {
  const f = statFields(pid, procRoot);
  return f && { pgrp: Number(f[2]), tpgid: Number(f[5]) };
}

/**
 * rsttrace and the command it started are both in their terminal's
 * foreground process group: a Ctrl-C or a hang-up from the terminal reached
 * both, and forwarding it would make two. (A SIGINT sent to rsttrace alone
 * while both are in the foreground is then not passed on: rsttrace stops
 * after its grace period and the command goes on.)
 */
export function terminalSignalsReachCommand(commandPid: number, procRoot = '/proc'): boolean {
  const self = groups('self', procRoot);
  const command = groups(commandPid, procRoot);
  return self !== null && command !== null && self.tpgid > 0 && self.tpgid === self.pgrp && command.pgrp === self.tpgid;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StartedCommand {
  pid: number;
  /** lets the command run: call once its pid is a target */
  go(): void;
  /** closes the door without letting it run (it exits 125); no-op after go() */
  release(): void;
  /** exit status as a shell reports it: the code, or 128 + the signal number */
  exited: Promise<number>;
  child: ChildProcess;
}

/** The user a `sudo rsttrace -- CMD` was run by, from SUDO_UID/SUDO_GID/SUDO_USER. */
export interface Invoker {
  uid: number;
  gid: number;
  user: string | null;
  home: string | null;
}

export function sudoInvoker(env: NodeJS.ProcessEnv = process.env, passwd = '/etc/passwd'): Invoker | null {
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (!env.SUDO_UID || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid === 0) return null;
  let home: string | null = null;
  const user = env.SUDO_USER ?? null;
  try {
    const line = readFileSync(passwd, 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    home = line?.split(':')[5] ?? null;
  } catch {
    // no passwd entry: run without HOME
  }
  return { uid, gid, user, home };
}


/**
 * Starts argv held at the door: a shell waits for a line on fd 3 and only
 * then execs the command (same pid), so that the pid is a target before the
 * command makes its first syscall. Under sudo, the command runs as the
 * invoking user, with that user's groups and home.
 */
export function startCommand(argv: string[], invoker: Invoker | null): StartedCommand {
  // if rsttrace dies before opening the door, the command must not run untraced
  const door = ['sh', '-c', 'read _ <&3 || exit 125; exec 3<&-; exec "$@"', 'rsttrace'];
  let cmd = [...door, ...argv];
  const env = { ...process.env };
  if (invoker) {
    const groups = invoker.user ? ['--init-groups'] : ['--clear-groups'];
    cmd = ['setpriv', `--reuid=${invoker.uid}`, `--regid=${invoker.gid}`, ...groups, ...cmd];
    if (invoker.home) env.HOME = invoker.home;
    if (invoker.user) {
      env.USER = invoker.user;
      env.LOGNAME = invoker.user;
    }
    for (const k of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'SUDO_COMMAND']) delete env[k];
  }
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    child.on('error', () => resolve(127));
  });
  const door3 = child.stdio[3] as NodeJS.WritableStream;
  return {
    pid: child.pid ?? -1,
    go: () => door3.end('go\n'),
    release: () => door3.end(),
    exited,
    child,
  };
}
