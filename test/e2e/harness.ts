/**
 * End-to-end plumbing: a real rsttrace process, network namespaces of the
 * test's own, and the scenario program that makes real resets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const ADDON = path.join(ROOT, 'build', 'Release', 'rsttrace.node');
export const RSTSCEN = path.join(ROOT, 'build', 'scenarios', 'rstscen');

/** Why end-to-end tests cannot run here, or null when they can. */
export function e2eSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs (run: sudo make test)';
  for (const [what, file] of [
    ['rsttrace CLI', CLI],
    ['native addon', ADDON],
    ['scenario program', RSTSCEN],
  ] as const) {
    if (!existsSync(file)) return `${what} not built (${file}); run make build`;
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF (/sys/kernel/btf/vmlinux)';
  return null;
}

export function reportSkip(reason: string | null, suite: string): void {
  if (reason) console.warn(`SKIPPED ${suite}: ${reason}`);
}

export interface JsonRecord {
  type: string;
  [k: string]: any;
}

export interface TraceResult {
  /** stdout parsed as JSON lines (empty for -o text) */
  records: JsonRecord[];
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningTrace {
  pid: number;
  child: ChildProcess;
  /** SIGINT, then everything it wrote */
  stop(signal?: NodeJS.Signals): Promise<TraceResult>;
  /** wait for it to exit on its own */
  exited(): Promise<TraceResult>;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `rsttrace -o FORMAT ARGS` and resolves once its programs are
 * attached. Inside a test, the tracer is ended when the test finishes,
 * whatever happened: a failed assertion must not leave it attached.
 */
export async function startTrace(args: string[] = [], format: 'jsonl' | 'text' = 'jsonl'): Promise<RunningTrace> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rsttrace-test-'));
  const ready = path.join(dir, 'ready');
  // run as installed: dist/cli.js by its #! line (V8's heap caps), with this node first on PATH
  const child = spawn(CLI, ['-o', format, '--ready-file', ready, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  } catch {
    // not inside a test (a hook): the caller stops it
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exit = new Promise<TraceResult>((resolve, reject) => {
    child.on('close', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      const records: JsonRecord[] = [];
      if (format === 'jsonl') {
        for (const [i, line] of stdout.split('\n').entries()) {
          if (line.length === 0) continue;
          try {
            records.push(JSON.parse(line) as JsonRecord);
          } catch (err) {
            reject(new Error(`rsttrace wrote a line that is not JSON (line ${i + 1}): ${(err as Error).message}: ${line.slice(0, 200)}`));
            return;
          }
        }
      }
      resolve({ records, stdout, stderr, code, signal });
    });
  });
  await Promise.race([
    waitFor(() => existsSync(ready), 15_000, 'rsttrace to attach'),
    exit.then((r) => {
      throw new Error(`rsttrace exited before attaching (code ${r.code}): ${r.stderr}`);
    }),
  ]);
  return {
    pid: child.pid!,
    child,
    stop(signal = 'SIGINT') {
      child.kill(signal);
      return exit;
    },
    exited: () => exit,
  };
}

/** A network namespace of the test's own, loopback up; deleted by `close`. */
export class Netns {
  readonly name: string;
  readonly inode: number;

  constructor(tag: string) {
    this.name = `rsttest-${tag}-${process.pid}`;
    run('ip', ['netns', 'add', this.name]);
    run('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
    this.inode = statSync(`/run/netns/${this.name}`).ino;
  }

  /** Runs a command inside the namespace, returning stdout. */
  exec(cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  /** Runs the scenario program inside the namespace; its one JSON line. */
  scenario(...args: string[]): any {
    return JSON.parse(this.exec(RSTSCEN, args));
  }

  /** A kernel SNMP counter of this namespace (nstat, absolute). */
  counter(name: string): number {
    const out = this.exec('nstat', ['-asz', name]);
    const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(out);
    if (!m) throw new Error(`nstat printed no ${name}: ${out}`);
    return Number(m[1]);
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/**
 * Two hosts of the test's own: namespaces joined by a veth pair, with
 * addresses from the benchmarking range (RFC 2544) that exist only inside
 * them. Deleting the namespaces deletes the link.
 */
export class VethPair {
  readonly server: Netns;
  readonly client: Netns;
  readonly serverAddr = '198.18.0.1';
  readonly clientAddr = '198.18.0.2';
  readonly serverIface = 'rst-s';
  readonly clientIface = 'rst-c';

  constructor(tag: string) {
    this.server = new Netns(`${tag}s`);
    this.client = new Netns(`${tag}c`);
    run('ip', ['link', 'add', this.serverIface, 'netns', this.server.name, 'type', 'veth', 'peer', 'name', this.clientIface, 'netns', this.client.name]);
    run('ip', ['-n', this.server.name, 'addr', 'add', `${this.serverAddr}/30`, 'dev', this.serverIface]);
    run('ip', ['-n', this.client.name, 'addr', 'add', `${this.clientAddr}/30`, 'dev', this.clientIface]);
    run('ip', ['-n', this.server.name, 'link', 'set', this.serverIface, 'up']);
    run('ip', ['-n', this.client.name, 'link', 'set', this.clientIface, 'up']);
  }

  close(): void {
    this.server.close();
    this.client.close();
  }
}

export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Resets recorded in one namespace: what a test may look at. */
export function inNetns(records: JsonRecord[], ns: Netns): JsonRecord[] {
  return records.filter((r) => r.type === 'reset' && r.netns === ns.inode);
}

/** BPF object ids (prog_id, map_id, link_id) held by a process's descriptors. */
export function bpfObjectsOf(pid: number): { progs: number[]; maps: number[]; links: number[] } {
  const out = { progs: [] as number[], maps: [] as number[], links: [] as number[] };
  const dir = `/proc/${pid}/fdinfo`;
  for (const fd of readdirSync(dir)) {
    let info: string;
    try {
      info = readFileSync(path.join(dir, fd), 'utf8');
    } catch {
      continue;
    }
    // a link's fdinfo names its program too: the most specific key decides
    const id = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    if (!Number.isNaN(id('link_id'))) out.links.push(id('link_id'));
    else if (!Number.isNaN(id('prog_id'))) out.progs.push(id('prog_id'));
    else if (!Number.isNaN(id('map_id'))) out.maps.push(id('map_id'));
  }
  return out;
}

/** Whether bpftool still finds a BPF object of that kind and id. */
export function bpfObjectExists(kind: 'prog' | 'map' | 'link', id: number): boolean {
  return spawnSync('bpftool', [kind, 'show', 'id', String(id)], { encoding: 'utf8' }).status === 0;
}

export { waitFor };
