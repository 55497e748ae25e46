/**
 * The native addon (native/, built by cmake-js into build/Release) and the
 * types of what it exports.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { UserError } from './errors.js';

export interface FieldLayout {
  offset: number;
  size: number;
}

/** Offsets of struct rst_event (bpf/rsttrace.h), as compiled. */
export interface RecordLayout {
  recordSize: number;
  fields: Record<string, FieldLayout>;
  constants: Record<string, number>;
}

export interface KernelInfo {
  /** enum sk_rst_reason value -> name without the SK_RST_REASON_ prefix */
  reasons: Record<number, string>;
  /** TCP state value -> name without the TCP_ prefix */
  states: Record<number, string>;
  tracepoints: Record<string, boolean>;
  /** the functions asked about: whether the kernel's BTF has them */
  functions: Record<string, boolean>;
}

export interface TracerStats {
  submitted: number;
  delivered: number;
  ringbufDrops: number;
  recursionMisses: number;
  /** records the kernel-side filters kept out */
  filtered: number;
  /** followed children that did not fit in the targets map */
  targetDrops: number;
}

/** Kernel-side filters (bpf/rsttrace.bpf.c); zero or absent means any. */
export interface NativeFilters {
  targets?: boolean;
  followForks?: boolean;
  family?: number;
  kind?: number;
  reasons?: number[];
  ports?: number[];
  laddr?: { family: number; prefixLen: number; addr: Uint8Array }[];
  raddr?: { family: number; prefixLen: number; addr: Uint8Array }[];
  cgroup?: number;
  netns?: number;
}

export interface TracerConfig {
  ringBufferBytes: number;
  filters?: NativeFilters;
  /** what the kernel offers (see src/features.ts); absent means yes */
  features?: { reason?: boolean; sockLength?: boolean; taskRegs?: boolean; socketCookie?: boolean; skStorage?: boolean; syscallHook?: boolean };
}

export interface NativeTracer {
  start(onRecords: (batch: Buffer) => void): void;
  drain(): number;
  stats(): TracerStats;
  close(): void;
  addTargets(pids: number[]): void;
  /** [inode, tgid, inode, tgid, ...] */
  addTargetInodes(pairs: number[]): void;
  /** [netns inode, port, tgid, ...]: ports the targets listen on */
  addTargetPorts(triples: number[]): void;
  targets(): number[];
}

export interface Addon {
  Tracer: new (config: TracerConfig) => NativeTracer;
  layout: RecordLayout;
  /** syscall number -> name, for this architecture */
  syscalls: Record<number, string>;
  /** `tracepoints`, `functions`: names to look up in the kernel's BTF */
  kernelInfo(tracepoints?: string[], functions?: string[]): KernelInfo;
  /** the BPF programs and their sections ("tp_btf/tcp_send_reset"), from the object */
  programs(): { name: string; section: string }[];
  /** a whole file, read on libuv's thread pool (procfs files a page a read included) */
  readFile(path: string): Promise<Buffer>;
}

/** The tracepoints the programs attach to (tp_btf/NAME), each must exist in the kernel's BTF. */
export function requiredTracepoints(addon: Addon): string[] {
  return addon
    .programs()
    .map((p) => /^tp_btf\/(.+)$/.exec(p.section)?.[1])
    .filter((t): t is string => t !== undefined);
}

export const addonPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'build',
  'Release',
  'rsttrace.node',
);

let cached: Addon | undefined;

export function loadAddon(): Addon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(addonPath) as Addon;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_DLOPEN_FAILED') {
      const why = code === 'MODULE_NOT_FOUND' ? `${addonPath} is missing` : (err as Error).message.split('\n')[0];
      throw new UserError(`native addon not loadable: ${why}; run \`make build\``, 'ENOADDON');
    }
    throw err;
  }
  return cached;
}

/** The version in package.json, one directory above dist/ and src/. */
export const RSTTRACE_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
