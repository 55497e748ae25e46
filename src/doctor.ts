/**
 * What this host lets rsttrace do, check by check: each says what it found,
 * and when something is wrong, why it matters and what to do. Read-only,
 * except the last check, which loads and detaches the programs for real.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { detectFeatures, KERNEL_FUNCTIONS, nativeFeatures, OPTIONAL_TRACEPOINTS, type Features } from './features.js';
import { effectiveCaps, hasCap, VMLINUX_BTF } from './preflight.js';
import type { Addon } from './native.js';
import { cgroup2Root } from './procinfo.js';
import { parseKallsyms } from './symbols.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  verdict: Verdict;
  /** what was found */
  found: string;
  /** when not ok: what it costs and what to do */
  advice?: string;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

export function kernelVersion(text = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function checkPrivilegesDoctor(caps = effectiveCaps()): Check {
  const names = [
    [21n, 'CAP_SYS_ADMIN'],
    [38n, 'CAP_PERFMON'],
    [39n, 'CAP_BPF'],
  ] as const;
  const have = names.filter(([c]) => hasCap(caps, c)).map(([, n]) => n);
  const ok = have.includes('CAP_SYS_ADMIN') || (have.includes('CAP_BPF') && have.includes('CAP_PERFMON'));
  return {
    name: 'privileges',
    verdict: ok ? 'ok' : 'fail',
    found: have.length ? have.join(', ') : 'none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN',
    advice: ok ? undefined : 'loading BPF tracing programs needs root (CAP_BPF and CAP_PERFMON): run rsttrace with sudo',
  };
}

export function checkLockdown(text = read('/sys/kernel/security/lockdown')): Check {
  const mode = text ? (/\[(\w+)\]/.exec(text)?.[1] ?? text) : null;
  if (mode === null) return { name: 'lockdown', verdict: 'ok', found: 'no lockdown LSM' };
  return {
    name: 'lockdown',
    verdict: mode === 'confidentiality' ? 'fail' : 'ok',
    found: mode,
    advice: mode === 'confidentiality' ? 'confidentiality lockdown forbids BPF from reading kernel memory: boot with lockdown=integrity or none (Secure Boot kernels may force it)' : undefined,
  };
}

export function checkKallsyms(text = read('/proc/kallsyms')): Check {
  const symbols = text === null ? 0 : parseKallsyms(text).addrs.length;
  return {
    name: 'kernel symbols',
    verdict: symbols > 0 ? 'ok' : 'warn',
    found: symbols > 0 ? `${symbols} functions in /proc/kallsyms` : '/proc/kallsyms shows no addresses',
    advice: symbols > 0 ? undefined : 'stacks stay as raw addresses, and the context (syscall, softirq, timer) and kernel path are unknown: run as root, or set kernel.kptr_restrict=0',
  };
}

export function runDoctor(addon: Addon | Error, tryLoad: boolean): Check[] {
  const checks: Check[] = [];
  let features: Features | undefined;
  const [major, minor] = kernelVersion();
  const ver = `${major}.${minor}`;
  checks.push({ name: 'kernel', verdict: 'ok', found: `Linux ${release()}` });
  checks.push(checkPrivilegesDoctor());
  const btf = existsSync(VMLINUX_BTF);
  checks.push({
    name: 'BTF',
    verdict: btf ? 'ok' : 'fail',
    found: btf ? VMLINUX_BTF : `${VMLINUX_BTF} is missing`,
    advice: btf ? undefined : 'rsttrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)',
  });
  if (addon instanceof Error) {
    checks.push({ name: 'native addon', verdict: 'fail', found: addon.message, advice: 'build it: make build' });
  } else {
    checks.push({ name: 'native addon', verdict: 'ok', found: `loaded, ${addon.programs().length} BPF programs` });
    if (btf) {
      const tracepoints = [...new Set(addon.programs().flatMap((p) => /^tp_btf\/(.+)$/.exec(p.section)?.[1] ?? []))];
      const info = addon.kernelInfo(tracepoints, KERNEL_FUNCTIONS);
      features = detectFeatures(info);
      const missing = tracepoints.filter((t) => !info.tracepoints[t]);
      const required = missing.filter((t) => !OPTIONAL_TRACEPOINTS.has(t));
      checks.push({
        name: 'tracepoints',
        verdict: required.length ? 'fail' : missing.length ? 'warn' : 'ok',
        found: missing.length ? `missing: ${missing.join(', ')}` : `all ${tracepoints.length} in BTF (${tracepoints.join(', ')})`,
        advice: required.length
          ? 'this kernel lacks what the programs attach to; see the kernel matrix in the README'
          : missing.length
            ? 'owners are seen at connect, accept, shutdown and close only, not at every send and receive (Linux 6.3 adds these)'
            : undefined,
      });
      const reasons = Object.keys(info.reasons).length;
      const active = major > 6 || (major === 6 && minor >= 12);
      checks.push({
        name: 'reset reasons',
        verdict: reasons && active ? 'ok' : 'warn',
        found: reasons ? `enum sk_rst_reason: ${reasons} reasons${active ? '' : ` (Linux ${ver} reports active resets as NOT_SPECIFIED)`}` : 'no enum sk_rst_reason (before Linux 6.10)',
        advice: reasons && active ? undefined : 'the kernel gives no reason for some resets: rsttrace infers the cause from the state and kernel path',
      });
      checks.push({
        name: 'socket storage',
        verdict: features['sk-storage'] ? 'ok' : 'warn',
        found: features['sk-storage'] ? 'for tracing programs (owners kept with each socket)' : 'not for tracing programs (before Linux 5.11)',
        advice: features['sk-storage'] ? undefined : 'owners go to an LRU map keyed by socket address: a dearer lookup on every send and receive',
      });
    }
  }
  checks.push(checkLockdown());
  const unpriv = read('/proc/sys/kernel/unprivileged_bpf_disabled');
  checks.push({ name: 'unprivileged BPF', verdict: 'ok', found: `kernel.unprivileged_bpf_disabled=${unpriv ?? '?'} (rsttrace runs as root: no matter)` });
  checks.push(checkKallsyms());
  const tracefs = existsSync('/sys/kernel/tracing/events');
  checks.push({ name: 'tracefs', verdict: 'ok', found: tracefs ? 'mounted (not needed)' : 'not mounted (not needed: rsttrace uses BTF tracepoints only)' });
  checks.push({ name: 'cgroup v2', verdict: 'ok', found: `mounted at ${cgroup2Root()} (owners' cgroups and --cgroup)` });

  const blocking = checks.some((c) => c.verdict === 'fail');
  if (tryLoad && !blocking && !(addon instanceof Error)) {
    // as rsttrace would run here, and with --syscall-hook (which changes what loads)
    const detected = nativeFeatures(features ?? detectFeatures({ reasons: {}, states: {}, tracepoints: {}, functions: {} }));
    const modes: [string, boolean][] = [['as by default', false], ['with --syscall-hook', true]];
    const failed = modes.flatMap(([mode, syscallHook]) => {
      try {
        new addon.Tracer({ ringBufferBytes: 1 << 20, features: { ...detected, syscallHook } }).close();
        return [];
      } catch (err) {
        return [`${mode}: ${(err as Error).message.split('\n')[0]!}`];
      }
    });
    checks.push(
      failed.length
        ? { name: 'load and attach', verdict: 'fail', found: failed.join('; '), advice: 'the kernel refused the programs: the message says which step; rsttrace -v shows libbpf\'s log' }
        : { name: 'load and attach', verdict: 'ok', found: 'every program loaded and attached, then detached (as by default, and with --syscall-hook)' },
    );
  }
  return checks;
}

const MARK: Record<Verdict, string> = { ok: '✓', warn: '!', fail: '✗' };

export function formatDoctor(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `  ${MARK[c.verdict]} ${c.name.padEnd(width)}  ${c.found}`,
    ...(c.advice ? [`    ${' '.repeat(width)}  → ${c.advice}`] : []),
  ]);
  const fails = checks.filter((c) => c.verdict === 'fail').length;
  const verdict = fails ? `rsttrace cannot trace on this host: ${fails} problem${fails > 1 ? 's' : ''} above` : 'rsttrace can trace on this host';
  return ['rsttrace doctor', ...lines, verdict].join('\n') + '\n';
}
