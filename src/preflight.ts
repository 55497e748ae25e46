/**
 * What must hold before BPF programs can be loaded, each failure a one-line
 * error that says what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from './errors.js';
import { OPTIONAL_TRACEPOINTS } from './features.js';
import type { KernelInfo } from './native.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capabilities of this process, from /proc/self/status. */
export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasCap(caps: bigint, cap: bigint): boolean {
  return (caps & (1n << cap)) !== 0n;
}

/** Tracing programs need CAP_BPF + CAP_PERFMON (5.8+), or CAP_SYS_ADMIN. */
export function checkPrivileges(caps = effectiveCaps()): void {
  if (hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON))) return;
  const missing = [hasCap(caps, CAP_BPF) ? '' : 'CAP_BPF', hasCap(caps, CAP_PERFMON) ? '' : 'CAP_PERFMON']
    .filter(Boolean)
    .join(' and ');
  throw new UserError(
    `permission denied: loading BPF tracing programs needs root (missing ${missing}); run rsttrace with sudo`,
    'EPERM',
  );
}

export function checkBtf(): void {
  if (!existsSync(VMLINUX_BTF)) {
    throw new UserError(
      `no kernel BTF: ${VMLINUX_BTF} is missing; rsttrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)`,
      'ENOBTF',
    );
  }
}

export function checkTracepoints(info: KernelInfo): void {
  const missing = Object.entries(info.tracepoints)
    .filter(([name, present]) => !present && !OPTIONAL_TRACEPOINTS.has(name))
    .map(([name]) => name);
  if (missing.length) {
    throw new UserError(
      `tracepoint${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing from this kernel's BTF; run rsttrace doctor to see what this kernel lacks`,
      'ENOTRACEPOINT',
    );
  }
}
