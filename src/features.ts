/**
 * What this kernel offers that rsttrace uses when there, and does without
 * when not. Detected from the kernel's BTF; `force` turns one off on a kernel
 * that has it, so that each fallback is proven here too (--force-fallback).
 *
 *   reason        tcp_send_reset's reason argument (Linux 6.10); without it
 *                 causes are inferred from state, facts and kernel path
 *   sock-length   sock:sock_send_length/sock_recv_length (6.3): owners seen
 *                 at every send and receive; without, at connect, accept,
 *                 shutdown, close and failed syscalls only
 *   task-regs     bpf_task_pt_regs() (5.15): the syscall a task is in
 *   socket-cookie bpf_get_socket_cookie() in tracing programs (5.12): without
 *                 it, only cookies something else generated
 *   sk-storage    socket storage in tracing programs (5.11; BTF has
 *                 bpf_sk_storage_tracing_allowed): owners and histories kept
 *                 with each socket; without it (or with --syscall-hook), in
 *                 an LRU map keyed by the socket's address, a dearer lookup
 *                 on every send and receive
 */
import type { KernelInfo } from './native.js';

export const FEATURES = ['reason', 'sock-length', 'task-regs', 'socket-cookie', 'sk-storage'] as const;
export type Feature = (typeof FEATURES)[number];

/** Kernel functions whose presence in BTF dates a feature. */
export const KERNEL_FUNCTIONS = ['bpf_sk_storage_tracing_allowed'];

/** Tracepoints the programs use only when present. */
export const OPTIONAL_TRACEPOINTS = new Set(['sock_send_length', 'sock_recv_length']);

export type Features = Record<Feature, boolean>;

export function detectFeatures(info: KernelInfo, force: readonly Feature[] = []): Features {
  const off = new Set(force);
  return {
    reason: Object.keys(info.reasons).length > 0 && !off.has('reason'),
    'sock-length': [...OPTIONAL_TRACEPOINTS].every((t) => info.tracepoints[t]) && !off.has('sock-length'),
    // helpers: the programs check them with CO-RE; only forcing is decided here
    'task-regs': !off.has('task-regs'),
    'socket-cookie': !off.has('socket-cookie'),
    'sk-storage': info.functions.bpf_sk_storage_tracing_allowed === true && !off.has('sk-storage'),
  };
}

/** The addon's config.features. */
export function nativeFeatures(f: Features) {
  return { reason: f.reason, sockLength: f['sock-length'], taskRegs: f['task-regs'], socketCookie: f['socket-cookie'], skStorage: f['sk-storage'] };
}
