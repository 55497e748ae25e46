/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the BPF programs and user space: the one record that
 * crosses the ring buffer, and the counters map. Fixed-width types only, units
 * in names, padding explicit. The addon static_asserts the layout and exports
 * every offset to the TypeScript decoder, so a field added here needs one line
 * in native/layout.cc and nothing else by hand.
 */
#ifndef RSTTRACE_H
#define RSTTRACE_H

#define RST_COMM_LEN 16
/* Deep enough to reach do_syscall_64 / handle_softirqs below the loopback
 * transmit path (about 45 frames when a send's softirq makes a reset). */
#define RST_STACK_DEPTH 64

enum rst_direction {
	RST_DIR_SEND = 1, /* tcp:tcp_send_reset: this host emits the RST */
	RST_DIR_RECV = 2, /* tcp:tcp_receive_reset: a local socket takes an RST */
};

enum rst_event_flags {
	RST_F_SOCK = 1 << 0,   /* a socket was given: state and cookie are valid */
	RST_F_SEGMENT = 1 << 1, /* the provoking segment was read: seg_* are valid */
	RST_F_REASON = 1 << 2, /* the kernel passed a reason (6.10 and later) */
};

/* Counters, one slot per CPU (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct rst_counters {
	__u64 events;        /* records submitted to the ring buffer */
	__u64 ringbuf_drops; /* bpf_ringbuf_reserve failed: the ring was full */
};

struct rst_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sock_cookie; /* SO_COOKIE of the socket; 0 without one */
	__u32 netns_ino;   /* inode of the socket's (or segment's) network namespace */
	__u32 cpu;
	__u32 pid;         /* current's tgid: who ran, not who owns the socket */
	__u32 tid;
	__u32 reason;      /* enum sk_rst_reason, named from the kernel's BTF */
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 lport;       /* host byte order, from the local socket's side */
	__u16 rport;
	__u8 direction;    /* enum rst_direction */
	__u8 state;        /* TCP state (TCP_ESTABLISHED...); 0 when unknown */
	__u8 flags;        /* enum rst_event_flags */
	__u8 seg_tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 ... */
	__u16 seg_window;  /* raw window field of the provoking segment */
	__u32 seg_seq;     /* provoking segment, host byte order */
	__u32 seg_ack;
	__u32 seg_payload_bytes;
	__u8 laddr[16];    /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
	char comm[RST_COMM_LEN]; /* current's comm */
	__s32 kstack_bytes; /* bpf_get_stack() result: bytes filled, or -errno */
	__u32 __pad0;
	__u64 kstack[RST_STACK_DEPTH]; /* return addresses, innermost first */
};

#endif /* RSTTRACE_H */
