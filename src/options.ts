/**
 * One validator per kind of value, used by every command. Each throws a
 * UserError that names the option, the value and what is expected.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseCidr, type Cidr } from './addr.js';
import { EXIT_USAGE, UserError } from './errors.js';
import { cgroup2Root } from './procinfo.js';

function usage(option: string, value: unknown, expected: string): UserError {
  return new UserError(`invalid value for ${option}: ${JSON.stringify(value)}; expected ${expected}`, 'EUSAGE', EXIT_USAGE);
}

/** seconds > 0, fractions allowed */
export function parseSeconds(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(option, value, 'a number of seconds greater than 0');
  return n;
}

/** whole number >= 1 */
export function parseCount(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw usage(option, value, 'a whole number of 1 or more');
  return n;
}

/** ring buffer size in MiB: a power of two from 1 to 1024 (the kernel's rule) */
export function parseRingMiB(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1024 || (n & (n - 1)) !== 0) {
    throw usage(option, value, 'a power of two from 1 to 1024 (MiB)');
  }
  return n;
}

export function parseChoice<T extends string>(option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw usage(option, value, `one of ${choices.join(', ')}`);
}

export function parsePath(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw usage(option, value, 'a file path');
  return value;
}

/** Values of an option that may be repeated or comma-separated: "-p 1,2 -p 3". */
export function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

export function parsePids(option: string, value: unknown): number[] {
  const pids = listOf(value).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > 4194304) throw usage(option, s, 'a process id (1 to 4194304)');
    return n;
  });
  if (pids.length === 0) throw usage(option, value, 'one or more process ids');
  return [...new Set(pids)];
}

export function parsePorts(option: string, value: unknown, max: number): number[] {
  const ports = listOf(value).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw usage(option, s, 'a port from 1 to 65535');
    return n;
  });
  if (ports.length > max) throw usage(option, value, `at most ${max} ports`);
  return [...new Set(ports)];
}

export function parseCidrs(option: string, value: unknown, max: number): Cidr[] {
  const list = listOf(value).map((s) => {
    const c = parseCidr(s);
    if (!c) throw usage(option, s, 'an address or prefix: 10.0.0.1, 10.0.0.0/8, ::1, 2001:db8::/32');
    return c;
  });
  if (list.length > max) throw usage(option, value, `at most ${max} prefixes`);
  return list;
}

/** Reason names as this kernel spells them (enum sk_rst_reason), any case. */
export function parseReasons(option: string, value: unknown, known: Map<string, number>): number[] {
  return listOf(value).map((s) => {
    const v = known.get(s.toUpperCase().replace(/^SK_RST_REASON_/, ''));
    if (v === undefined) throw usage(option, s, `a reason this kernel knows: ${[...known.keys()].join(', ')}`);
    return v;
  });
}

/** A cgroup v2 directory, absolute or relative to the cgroup2 mount: its id is its inode. */
export function parseCgroup(option: string, value: unknown, root = cgroup2Root()): number {
  const text = String(value);
  const dir = text.startsWith(root) ? text : path.join(root, text);
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    return st.ino;
  } catch {
    throw usage(option, value, `a cgroup v2 directory under ${root}, e.g. /system.slice/nginx.service`);
  }
}

/** A network namespace: a name in /run/netns, a path (/proc/PID/ns/net), or its inode number. */
export function parseNetns(option: string, value: unknown): number {
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(text);
  const file = text.includes('/') ? text : `/run/netns/${text}`;
  try {
    return statSync(file).ino;
  } catch {
    throw usage(option, value, 'a network namespace: a name from `ip netns list`, /proc/PID/ns/net, or an inode number');
  }
}

/** HOST:PORT to listen on: "127.0.0.1:9464", "[::1]:9464", ":9464" (all addresses). */
export function parseListen(option: string, value: unknown): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(String(value));
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  if (!m || port < 1 || port > 65535 || (host !== '' && !parseCidr(host) && !/^[a-zA-Z0-9.-]+$/.test(host))) {
    throw usage(option, value, 'HOST:PORT to listen on, e.g. 127.0.0.1:9464, [::1]:9464 or :9464');
  }
  return { host: host === '' ? '::' : host, port };
}
