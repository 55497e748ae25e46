/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the BPF programs and user space: the one record that
 * crosses the ring buffer, the maps user space reads, and what they hold.
 * Fixed-width types only, units in names, padding explicit. The addon
 * static_asserts the layout and exports every offset to the TypeScript
 * decoder, so a field added here needs one line in native/layout.cc.
 */
#ifndef RSTTRACE_H
#define RSTTRACE_H

#define RST_COMM_LEN 16
/* Deep enough to reach do_syscall_64 / handle_softirqs below the loopback
 * transmit path (about 45 frames when a send's softirq makes a reset). */
#define RST_STACK_DEPTH 64
/* State transitions kept per socket (sock:inet_sock_set_state). */
#define RST_HISTORY_LEN 8
/* Filters: how many ports and address prefixes each may name. */
#define RST_MAX_PORTS 8
#define RST_MAX_CIDRS 4

enum rst_kind {
	RST_KIND_SEND = 1,  /* tcp:tcp_send_reset: this host emits the RST */
	RST_KIND_RECV = 2,  /* tcp:tcp_receive_reset: a local socket takes an RST */
	RST_KIND_ERRNO = 3, /* a syscall on a TCP socket failed with a reset's errno */
};

enum rst_event_flags {
	RST_F_SOCK = 1 << 0,    /* a socket was given: state and cookie are valid */
	RST_F_SEGMENT = 1 << 1, /* the provoking segment was read: seg_* are valid */
	RST_F_REASON = 1 << 2,  /* the kernel passed a reason (6.10 and later) */
	RST_F_FULLSOCK = 1 << 3, /* a full socket: queue and linger facts are valid */
	RST_F_KTHREAD = 1 << 4, /* current is a kernel thread (ksoftirqd, kworker...) */
	RST_F_LINGER = 1 << 5,  /* SO_LINGER is on (linger_sec holds its time) */
	RST_F_TARGET_LISTENER = 1 << 6, /* -p: a traced process's listener, or accepted from one and not yet used */
	RST_F_STACK_REUSED = 1 << 7, /* kstack not walked: it is stack_key's last walk (rate limit) */
};

enum rst_owner_source {
	RST_OWNER_NONE = 0,   /* never seen touched by a process */
	RST_OWNER_SOCKET = 1, /* this very socket's owner */
	RST_OWNER_TUPLE = 2,  /* last owner of a connection with this 4-tuple */
};

/* Counters, one slot per CPU (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct rst_counters {
	__u64 events;        /* records submitted to the ring buffer */
	__u64 ringbuf_drops; /* bpf_ringbuf_reserve failed: the ring was full */
	__u64 filtered;      /* records the filters kept out */
	__u64 target_drops;  /* a followed child could not join the targets map */
};

/* An address prefix of a filter: IPv4 as AF_INET in the first 4 bytes. */
struct rst_cidr {
	__u16 family;
	__u8 prefix_len;
	__u8 __pad0;
	__u8 addr[16];
};

/* The process that last touched a socket through a syscall, and how. */
struct rst_owner {
	__u64 seen_ns;     /* last syscall on the socket (CLOCK_MONOTONIC) */
	__u64 closed_ns;   /* when it close()d the socket; 0 if not seen */
	__u64 cgroup_id;   /* cgroup v2 id (inode of the cgroup directory) */
	__u32 pid;         /* tgid */
	__u32 tid;
	__u32 uid;
	__s32 syscall_nr;  /* the syscall of seen_ns */
	char comm[RST_COMM_LEN];
};

/* Recent TCP state transitions of a socket, oldest first, ring of RST_HISTORY_LEN. */
struct rst_history {
	__u64 ts_ns[RST_HISTORY_LEN];
	__u8 old_state[RST_HISTORY_LEN];
	__u8 new_state[RST_HISTORY_LEN];
	__u32 count; /* transitions seen; the last min(count, LEN) are kept */
	__u32 __pad0;
};

/* What the kernel side remembers of a socket (its storage, or an LRU map
 * keyed by its address), and of a closed connection (LRU map keyed by its
 * 4-tuple). */
struct rst_sock_info {
	struct rst_owner owner;
	struct rst_history history;
	/* the process that listen()ed, on a listener and (socket storage is
	 * cloned to accepted sockets) on what it accepts: with -p, what a
	 * traced process accepts is its own before it reads or writes it. Not
	 * an owner: a master may listen and its workers accept. */
	__u32 listener_tgid;
	/* an LRU map entry whose socket was destroyed: not deleted at once
	 * (the delete was most of rst_destroy), but left for the next socket
	 * at that address to reuse in place (bpf/rsttrace.bpf.c, gone_keys) */
	__u32 gone;
};

/* A port a target listened on when rsttrace started (-p): what it accepts
 * from then on is its own before anything reads or writes it. */
struct rst_listen_port {
	__u32 netns_ino;
	__u16 port; /* host byte order */
	__u16 __pad0;
};

/* A connection's identity once its socket is gone: IPv4 (also v4-mapped)
 * as AF_INET with the address in the first 4 bytes. */
struct rst_tuple {
	__u32 netns_ino;
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 __pad0;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct rst_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sock_cookie; /* SO_COOKIE of the socket; 0 without one */
	__u64 sock_ino;    /* inode of the socket's file (as in /proc/PID/fd); 0 if none */
	__u32 netns_ino;   /* inode of the socket's (or segment's) network namespace */
	__u32 cpu;
	__u32 pid;         /* current's tgid: who ran, not who owns the socket */
	__u32 tid;
	__u32 reason;      /* enum sk_rst_reason, named from the kernel's BTF */
	__s32 syscall_nr;  /* current's syscall (meaningful in process context) */
	__s32 err;         /* RST_KIND_ERRNO: the errno the syscall returned */
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 lport;       /* host byte order, from the local socket's side */
	__u16 rport;
	__u8 kind;         /* enum rst_kind */
	__u8 state;        /* TCP state (TCP_ESTABLISHED...); 0 when unknown */
	__u8 flags;        /* enum rst_event_flags */
	__u8 seg_tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 ... */
	__u8 sk_shutdown;  /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
	__u8 owner_source; /* enum rst_owner_source */
	__u16 seg_window;  /* raw window field of the provoking segment */
	__u16 __pad0;
	__u32 seg_seq;     /* provoking segment, host byte order */
	__u32 seg_ack;
	__u32 seg_payload_bytes;
	__u32 rcv_unread_bytes; /* received, not yet read by the application */
	__u32 snd_unsent_bytes; /* written by the application, not yet sent */
	__u32 snd_unacked_bytes; /* sent, not yet acknowledged */
	__u32 linger_sec;  /* SO_LINGER time when RST_F_LINGER */
	__u8 laddr[16];    /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
	char comm[RST_COMM_LEN]; /* current's comm */
	struct rst_owner owner;  /* valid when owner_source != RST_OWNER_NONE */
	struct rst_history history;
	__s32 kstack_bytes; /* bpf_get_stack() result: bytes filled, or -errno */
	/* the record's kernel context (kind, reason, state, syscall, irq
	 * context, CPU) as a number: a record with RST_F_STACK_REUSED has the
	 * stack of the last walked record with the same key; 0 for no stack */
	__u32 stack_key;
	/* return addresses, innermost first. Only a walked stack is sent: a
	 * record without one stops here in the ring (RST_RECORD_HEAD_BYTES),
	 * and the addon hands every record on at the full size, zero-filled. */
	__u64 kstack[RST_STACK_DEPTH];
};

#define RST_RECORD_HEAD_BYTES __builtin_offsetof(struct rst_event, kstack)

#endif /* RSTTRACE_H */
