// SPDX-License-Identifier: GPL-2.0
/*
 * One record per TCP reset, sent or received, into a ring buffer.
 *
 * tp_btf gives the tracepoints' typed arguments (sk, skb, reason) rather than
 * the formatted tracepoint record, so the same code reads the socket, the
 * provoking segment and the reason. Everything is read through CO-RE.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "rsttrace.h"

#define AF_INET 2
#define AF_INET6 10
/* include/net/tcp_states.h: the mini sockets that are not inet_sock */
#define TCP_TIME_WAIT_STATE 6
#define TCP_NEW_SYN_RECV_STATE 12
/* sk_buff header offsets are ~0 while unset */
#define SKB_OFFSET_UNSET ((__u16)~0U)

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* user space resizes before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rst_counters);
} counters SEC(".maps");

static __always_inline struct rst_event *event_reserve(void)
{
	__u32 zero = 0;
	struct rst_counters *c = bpf_map_lookup_elem(&counters, &zero);
	struct rst_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (c) {
		if (e)
			c->events++;
		else
			c->ringbuf_drops++;
	}
	if (e) /* ring memory is not zeroed; bpf_get_stack fills kstack */
		__builtin_memset(e, 0, offsetof(struct rst_event, kstack));
	return e;
}

static __always_inline void fill_task(struct rst_event *e, void *ctx, __u8 direction)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->direction = direction;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->kstack_bytes = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
}

/* State, cookie, namespace and the 4-tuple as the socket sees it. Works for
 * full, request and TIME_WAIT sockets alike: all start with sock_common. */
static __always_inline void fill_sock(struct rst_event *e, const struct sock *sk)
{
	const struct sock_common *skc = &sk->__sk_common;

	e->flags |= RST_F_SOCK;
	e->state = BPF_CORE_READ(skc, skc_state);
	e->sock_cookie = bpf_get_socket_cookie((void *)sk);
	e->netns_ino = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	e->family = BPF_CORE_READ(skc, skc_family);
	/* A full socket's port is inet_sport: close() and disconnect release
	 * the bound port (skc_num = 0) before the active reset goes out. */
	if (e->state == TCP_TIME_WAIT_STATE || e->state == TCP_NEW_SYN_RECV_STATE)
		e->lport = BPF_CORE_READ(skc, skc_num);
	else
		e->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->rport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (e->family == AF_INET6) {
		bpf_core_read(e->laddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &skc->skc_v6_daddr);
	} else {
		bpf_core_read(e->laddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(e->raddr, 4, &skc->skc_daddr);
	}
}

/*
 * The incoming segment a passive reset answers. The RST goes back along the
 * segment's 4-tuple reversed, so that is the tuple reported: right also when
 * the socket is a listener or there is none.
 */
static __always_inline void fill_segment(struct rst_event *e, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u8 tcp[20]; /* fixed part of the TCP header, read as bytes: no bitfields */
	__u8 version;
	__u32 ip_end;

	if (nh == SKB_OFFSET_UNSET || th == SKB_OFFSET_UNSET)
		return;
	if (bpf_probe_read_kernel(&version, 1, head + nh) ||
	    bpf_probe_read_kernel(tcp, sizeof(tcp), head + th))
		return;
	version >>= 4;
	if (version == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return;
		e->family = AF_INET;
		__builtin_memcpy(e->laddr, &ip.daddr, 4);
		__builtin_memcpy(e->raddr, &ip.saddr, 4);
		ip_end = nh + bpf_ntohs(ip.tot_len);
	} else if (version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return;
		e->family = AF_INET6;
		__builtin_memcpy(e->laddr, &ip6.daddr, 16);
		__builtin_memcpy(e->raddr, &ip6.saddr, 16);
		ip_end = nh + sizeof(ip6) + bpf_ntohs(ip6.payload_len);
	} else {
		return;
	}
	e->flags |= RST_F_SEGMENT;
	e->rport = (tcp[0] << 8) | tcp[1];
	e->lport = (tcp[2] << 8) | tcp[3];
	e->seg_seq = bpf_ntohl(*(__be32 *)&tcp[4]);
	e->seg_ack = bpf_ntohl(*(__be32 *)&tcp[8]);
	e->seg_tcp_flags = tcp[13];
	e->seg_window = (tcp[14] << 8) | tcp[15];
	/* ip_end - th - data offset; clamp a malformed header to 0 */
	__u32 hdr_end = th + ((tcp[12] >> 4) * 4);
	e->seg_payload_bytes = ip_end > hdr_end ? ip_end - hdr_end : 0;
	if (!e->netns_ino)
		e->netns_ino = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rst_send, const struct sock *sk, const struct sk_buff *skb,
	     enum sk_rst_reason reason)
{
	struct rst_event *e = event_reserve();

	if (!e)
		return 0;
	fill_task(e, ctx, RST_DIR_SEND);
	e->reason = reason;
	e->flags |= RST_F_REASON;
	if (sk)
		fill_sock(e, sk);
	if (skb)
		fill_segment(e, skb);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rst_recv, struct sock *sk)
{
	struct rst_event *e = event_reserve();

	if (!e)
		return 0;
	fill_task(e, ctx, RST_DIR_RECV);
	fill_sock(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
