/** Context and path signature from kernel stacks captured on Linux 6.18. */
import { describe, expect, it } from 'vitest';
import { classifyContext, meaningfulFrames, pathSignature } from '../../src/context.js';

const split = (s: string) => s.split(' ← ');

// curl's connect() to a closed port: the SYN's receive runs in curl's syscall
const NO_SOCKET_SOFTIRQ = split(
  'bpf_prog_x_rst_send ← bpf_trace_run3 ← tcp_v4_send_reset ← tcp_v4_rcv ← ip_protocol_deliver_rcu ← ip_local_deliver_finish ← __netif_receive_skb_one_core ← process_backlog ← __napi_poll ← net_rx_action ← handle_softirqs ← do_softirq.part.0 ← __local_bh_enable_ip ← __dev_queue_xmit ← ip_finish_output2 ← ip_output ← __ip_queue_xmit ← __tcp_transmit_skb ← tcp_connect ← tcp_v4_connect ← __inet_stream_connect ← inet_stream_connect ← __sys_connect ← __x64_sys_connect ← do_syscall_64 ← entry_SYSCALL_64_after_hwframe',
);
const CLOSE_UNREAD = split(
  'tcp_send_active_reset ← __tcp_close ← tcp_close ← inet_release ← sock_close ← __fput ← __x64_sys_close ← do_syscall_64 ← entry_SYSCALL_64_after_hwframe',
);
const LINGER0 = split(
  'tcp_send_active_reset ← tcp_disconnect ← __tcp_close ← tcp_close ← inet_release ← sock_close ← __fput ← __x64_sys_close ← do_syscall_64 ← entry_SYSCALL_64_after_hwframe',
);
const KEEPALIVE = split(
  'tcp_send_active_reset ← tcp_keepalive_timer ← call_timer_fn ← __run_timers ← run_timer_softirq ← handle_softirqs ← __irq_exit_rcu ← sysvec_apic_timer_interrupt ← asm_sysvec_apic_timer_interrupt ← pv_native_safe_halt ← default_idle ← do_idle ← cpu_startup_entry',
);
const KSOFTIRQD = split(
  'tcp_v4_send_reset ← tcp_v4_rcv ← ip_protocol_deliver_rcu ← ip_local_deliver_finish ← __netif_receive_skb_one_core ← process_backlog ← __napi_poll ← net_rx_action ← handle_softirqs ← run_ksoftirqd ← smpboot_thread_fn ← kthread ← ret_from_fork',
);

describe('context from the kernel stack', () => {
  it('drops the tracing machinery from the top of the stack', () => {
    expect(meaningfulFrames(NO_SOCKET_SOFTIRQ)[0]).toBe('tcp_v4_send_reset');
  });

  it('softirq inside the sender’s syscall (loopback): names that syscall', () => {
    expect(classifyContext(meaningfulFrames(NO_SOCKET_SOFTIRQ), { comm: 'curl', kthread: false, syscall: 'connect' })).toEqual({
      kind: 'softirq',
      syscall: 'connect',
      timer: null,
    });
  });

  it('a process’s own syscall', () => {
    expect(classifyContext(CLOSE_UNREAD, { comm: 'nginx', kthread: false, syscall: 'close' })).toEqual({
      kind: 'syscall',
      syscall: 'close',
      timer: null,
    });
  });

  it('a TCP timer, whatever was interrupted (here the idle task)', () => {
    expect(classifyContext(KEEPALIVE, { comm: 'swapper/1', kthread: true, syscall: null })).toEqual({
      kind: 'timer',
      syscall: null,
      timer: 'tcp_keepalive_timer',
    });
  });

  it('ksoftirqd', () => {
    expect(classifyContext(KSOFTIRQD, { comm: 'ksoftirqd/0', kthread: true, syscall: null }).kind).toBe('ksoftirqd');
  });

  it('path signature: the function that reset and its caller', () => {
    expect(pathSignature(meaningfulFrames(NO_SOCKET_SOFTIRQ))).toBe('tcp_v4_rcv → tcp_v4_send_reset');
    expect(pathSignature(CLOSE_UNREAD)).toBe('__tcp_close → tcp_send_active_reset');
    expect(pathSignature(LINGER0)).toBe('tcp_disconnect → tcp_send_active_reset');
    expect(pathSignature(KEEPALIVE)).toBe('tcp_keepalive_timer → tcp_send_active_reset');
    expect(pathSignature([])).toBe('');
  });
});
