/**
 * What was running when the kernel decided, told from the kernel stack (the
 * method DESIGN.md measured): a syscall of a process, packet receive in
 * softirq (possibly inside another process's syscall, as on loopback and
 * veth), a timer, or ksoftirqd.
 */

export type ContextKind = 'syscall' | 'softirq' | 'timer' | 'ksoftirqd' | 'kthread';

export interface Context {
  kind: ContextKind;
  /** the syscall `current` was in: the triggering one for kind 'syscall',
   *  the one the softirq interrupted (the segment's sender) for 'softirq' */
  syscall: string | null;
  /** kernel timer function for kind 'timer' (tcp_keepalive_timer...) */
  timer: string | null;
}

// Frames of the tracing machinery itself, above the function that reset.
const TRACING_FRAME = /^(bpf_|__bpf_|__traceiter_|trace_|perf_trace_|__probestub_)/;
const SOFTIRQ_FRAME = /^(handle_softirqs|__do_softirq|do_softirq|net_rx_action|__napi_poll|run_ksoftirqd)$/;
const TIMER_FRAME = /^(call_timer_fn|run_timer_softirq|__run_timers|expire_timers|hrtimer_run_softirq|__hrtimer_run_queues)$/;
const TCP_TIMER = /^(tcp_keepalive_timer|tcp_write_timer|tcp_delack_timer|tcp_retransmit_timer|tcp_orphan_update|tcp_compressed_ack_kick|tcp_pace_kick|inet_twsk_kill|tw_timer_handler|reqsk_timer_handler)$/;
const SYSCALL_FRAME = /^(do_syscall_64|entry_SYSCALL_64.*|__arm64_sys_.*|el0_svc.*|invoke_syscall)$/;

/** Frames innermost first, the tracing machinery's own dropped. */
export function meaningfulFrames(frames: string[]): string[] {
  let i = 0;
  while (i < frames.length && TRACING_FRAME.test(frames[i]!)) i++;
  return frames.slice(i);
}

/** What a stack says of its context, whatever task ran it: computed once per distinct stack. */
export interface StackFacts {
  timerAt: number;
  softirqAt: number;
  inSyscall: boolean;
  tcpTimer: string | null;
  timerCaller: string | null;
}

export function stackFacts(frames: string[]): StackFacts {
  const timerAt = frames.findIndex((f) => TIMER_FRAME.test(f));
  return {
    timerAt,
    softirqAt: frames.findIndex((f) => SOFTIRQ_FRAME.test(f)),
    inSyscall: frames.some((f) => SYSCALL_FRAME.test(f)),
    tcpTimer: frames.find((f) => TCP_TIMER.test(f)) ?? null,
    timerCaller: timerAt > 0 ? frames[timerAt - 1]! : null,
  };
}

export function contextOf(s: StackFacts, current: { comm: string; kthread: boolean; syscall: string | null }): Context {
  if (s.timerAt >= 0 && (s.softirqAt < 0 || s.timerAt < s.softirqAt || s.tcpTimer)) {
    return { kind: 'timer', syscall: null, timer: s.tcpTimer ?? s.timerCaller };
  }
  if (s.softirqAt >= 0) {
    if (current.kthread && current.comm.startsWith('ksoftirqd/')) return { kind: 'ksoftirqd', syscall: null, timer: null };
    return { kind: 'softirq', syscall: s.inSyscall ? current.syscall : null, timer: null };
  }
  if (current.kthread) return { kind: 'kthread', syscall: null, timer: null };
  return { kind: 'syscall', syscall: current.syscall, timer: null };
}

export function classifyContext(frames: string[], current: { comm: string; kthread: boolean; syscall: string | null }): Context {
  return contextOf(stackFacts(frames), current);
}

/**
 * A short name for the kernel path, for grouping: the function that made or
 * took the reset and the one that called it, "tcp_v4_rcv → tcp_v4_send_reset".
 */
export function pathSignature(frames: string[]): string {
  if (frames.length === 0) return '';
  return frames[1] === undefined ? frames[0]! : `${frames[1]} → ${frames[0]}`;
}
