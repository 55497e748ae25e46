// SPDX-License-Identifier: GPL-2.0
/*
 * One record per TCP reset, sent or received, and per syscall that then fails
 * with a reset's errno, into a ring buffer.
 *
 * Who owns a socket cannot be read from `current` when the reset is made: in
 * softirq that is the peer or the idle task, in a timer whatever ran. So the
 * owner is remembered where it is certain, at the syscalls a process makes on
 * its own socket (connect, send and receive, accept, shutdown, close), in the
 * socket's storage or an LRU map keyed by the socket (see sk_infos); when the
 * socket is destroyed what is known moves to a map keyed by its 4-tuple, for
 * the TIME_WAIT socket and the no-socket resets that come after.
 *
 * tp_btf gives the tracepoints' typed arguments; everything is read through
 * CO-RE (see RST_READ).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "rsttrace.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000
#define SOL_SOCKET 1
#define SO_ERROR 4
/* include/net/tcp_states.h */
#define TCP_ESTABLISHED_STATE 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV_STATE 3
#define TCP_FIN_WAIT1_STATE 4
#define TCP_CLOSE_STATE 7
#define TCP_LAST_ACK_STATE 9
#define TCP_LISTEN_STATE 10
#define TCP_TIME_WAIT_STATE 6
#define TCP_NEW_SYN_RECV_STATE 12
/* sk_buff header offsets are ~0 while unset */
#define SKB_OFFSET_UNSET ((__u16)~0U)
/* errnos a reset makes a syscall fail with */
#define EPIPE 32
#define ECONNABORTED 103
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
/* don't rewrite an owner entry more often than this for the same thread */
#define OWNER_REFRESH_NS 100000000ULL

char LICENSE[] SEC("license") = "GPL";

/*
 * A field, through a chain of pointers. From a typed pointer (a tp_btf
 * argument, and what is reached from it) each step is a plain load, which
 * the verifier guards: a bad address reads as 0. A pointer found by reading
 * memory (the sys_exit hook's socket, from the fd table) is only a number to
 * the verifier: each step is then a bpf_probe_read_kernel, a helper call
 * that cost ~1 us a refused connect over the ~40 reads (bpf_stats). `typed`
 * is a constant at every call site, and one of the two is compiled; or a
 * CO-RE check the loader resolves to a constant (fill_fullsock), and the
 * verifier follows only the path it leaves.
 */
#define RST_READ(typed, src, a, ...) \
	((typed) ? ___arrow(src, a, ##__VA_ARGS__) : BPF_CORE_READ(src, a, ##__VA_ARGS__))

/* jiffies per second, from the kernel's config (0 if libbpf cannot read it) */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* Syscall numbers of this architecture, set by the loader from its headers. */
const volatile __s32 nr_close = -1;
const volatile __s32 nr_shutdown = -1;
const volatile __s32 nr_accept = -1;
const volatile __s32 nr_accept4 = -1;
const volatile __s32 nr_getsockopt = -1;
const volatile __s32 nr_connect = -1;
const volatile __s32 nr_exit = -1;
const volatile __s32 nr_exit_group = -1;
const volatile __s32 nr_close_range = -1;
const volatile __s32 nr_dup2 = -1;
const volatile __s32 nr_dup3 = -1;

/*
 * Features this kernel may lack, each also checked with CO-RE where it can
 * be. The loader clears one to force the fallback (and tests do, to prove
 * the fallbacks on a kernel that has everything).
 */
const volatile bool feat_task_regs = true;     /* bpf_task_pt_regs(): 5.15 */
const volatile bool feat_socket_cookie = true; /* bpf_get_socket_cookie() in tracing: 5.12 */
/* sock:sock_*_length are attached (6.3): failed reads and writes come from
 * them, and the raw sys_exit program (when loaded) leaves those alone */
const volatile bool feat_sock_length = true;
/* socket storage from tracing programs (5.11), and no sys_exit hook */
const volatile bool feat_sk_storage = true;

/*
 * Filters, set by the loader; zero values mean "any". A record is emitted
 * only if it passes every one. Direction and reason apply to resets; the
 * others to failed syscalls as well.
 */
const volatile bool f_targets = false;     /* only sockets owned by a tgid in `targets` */
const volatile bool f_follow_forks = true; /* children of targets become targets */
const volatile __u16 f_family = 0;         /* AF_INET or AF_INET6 */
const volatile __u8 f_kind = 0;            /* RST_KIND_SEND or RST_KIND_RECV */
const volatile __u64 f_reasons = 0;        /* bit per enum sk_rst_reason value */
const volatile __u32 f_netns = 0;          /* network namespace inode */
const volatile __u64 f_cgroup = 0;         /* owner's cgroup v2 id */
const volatile __u8 f_nports = 0;          /* local or remote port among these */
const volatile __u16 f_ports[RST_MAX_PORTS] = {};
const volatile __u8 f_nladdr = 0;
const volatile struct rst_cidr f_laddr[RST_MAX_CIDRS] = {};
const volatile __u8 f_nraddr = 0;
const volatile struct rst_cidr f_raddr[RST_MAX_CIDRS] = {};

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

/*
 * Each socket's owner and history. In the socket's own storage where the
 * kernel lets tracing programs have it (5.11): a lookup costs a fraction of
 * a hash map's, it goes with the socket, and a storm cannot evict it. Else
 * (and with the sys_exit hook, which finds sockets by fd, not as typed
 * pointers) an LRU map keyed by the socket's address.
 *
 * With socket storage, the LRU map still holds the sockets in connect()
 * until they are established: most in a storm of refused connects never
 * are, and creating and freeing a socket's storage (two memcg-charged
 * allocations, freed after an RCU grace period) was ~10 % of the connecting
 * CPU (perf). The addon sizes the map for that role (native/config.cc).
 * A destroyed socket's entry is not deleted at once but marked gone, and
 * the next socket at that address takes it over in place (find_entry,
 * new_info): in a storm that is one entry over and over, with no insert and
 * no delete. Only the last few are kept gone (gone_keys).
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	/* cloned with a listener to the sockets it accepts */
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct rst_sock_info);
} sk_infos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock address */
	__type(value, struct rst_sock_info);
} sockets SEC(".maps");

/*
 * The addresses whose `sockets` entry this CPU last marked gone. A gone
 * entry is never looked up again unless a socket takes its address, and
 * the LRU map cannot tell it from a live one: left alone they would fill
 * the map and evict the entries of live sockets. So at most GONE_KEPT per
 * CPU stay; one pushed out of here is deleted if it is still gone. In a
 * storm the freed address comes back at once, and nothing is deleted.
 */
#define GONE_KEPT 16

struct gone_keys {
	__u64 key[GONE_KEPT];
	__u32 next;
	__u32 __pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gone_keys);
} gone_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rst_tuple);
	__type(value, struct rst_sock_info);
} closed SEC(".maps");

/* Processes traced with -p or -- CMD (tgid -> 1), and their children. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Sockets the targets held when rsttrace started (inode -> tgid), from /proc. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} target_inodes SEC(".maps");

/* Ports the targets listened on when rsttrace started (-> tgid), from /proc:
 * their listeners have no storage to clone a mark from. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rst_listen_port);
	__type(value, __u32);
} target_ports SEC(".maps");

/* Records are built here, filtered, and only then copied into the ring:
 * one slot per kind, as a softirq reset can interrupt a syscall's. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct rst_event);
} drafts SEC(".maps");

/* A zeroed value to insert from: too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rst_sock_info);
} scratch SEC(".maps");

/* ---- context of current ---------------------------------------------------- */

/* The syscall number saved in a task's user registers. */
static __always_inline __s32 syscall_nr_of(struct pt_regs *regs)
{
/* regs is typed: the tracepoint's own, or bpf_task_pt_regs() */
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return regs->syscallno;
#else
	return -1;
#endif
}

/* current's syscall number, or -1 when this kernel cannot tell us. */
static __always_inline __s32 current_syscall_nr(void)
{
	struct pt_regs *regs;

	if (!feat_task_regs || !bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return syscall_nr_of(regs);
}

/* The socket's cookie, generated if it has none yet, as SO_COOKIE would. */
static __always_inline __u64 sock_cookie(const struct sock *sk)
{
	if (feat_socket_cookie && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_socket_cookie))
		return bpf_get_socket_cookie((void *)sk);
	/* older kernels: only a cookie something else already generated */
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* current's PF_* flags: a plain load where current is typed (5.11) */
static __always_inline unsigned int current_task_flags(void)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return bpf_get_current_task_btf()->flags;
	return BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), flags);
}

static __always_inline bool current_is_kthread(void)
{
	return current_task_flags() & PF_KTHREAD;
}

static __always_inline void owner_from_current(struct rst_owner *o, __u64 now)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->seen_ns = now;
	o->syscall_nr = current_syscall_nr();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* ---- socket identity -------------------------------------------------------- */

static __always_inline bool is_full_sock(__u8 state)
{
	return state != TCP_TIME_WAIT_STATE && state != TCP_NEW_SYN_RECV_STATE;
}

static __always_inline void read_addrs(const struct sock_common *skc, __u16 family,
				       __u8 *laddr, __u8 *raddr, bool typed)
{
	if (typed && family == AF_INET6) {
		for (int i = 0; i < 4; i++) {
			((__u32 *)laddr)[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			((__u32 *)raddr)[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
		}
	} else if (typed) {
		*(__u32 *)laddr = skc->skc_rcv_saddr;
		*(__u32 *)raddr = skc->skc_daddr;
	} else if (family == AF_INET6) {
		bpf_core_read(laddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(raddr, 16, &skc->skc_v6_daddr);
	} else {
		bpf_core_read(laddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(raddr, 4, &skc->skc_daddr);
	}
}

/* A full socket's port is inet_sport: close() and disconnect release the
 * bound port (skc_num = 0) before the active reset goes out. */
static __always_inline __u16 local_port(const struct sock *sk, __u8 state, bool typed)
{
	if (!is_full_sock(state))
		return RST_READ(typed, sk, __sk_common.skc_num);
	/* beyond struct sock: not a plain load from a struct sock pointer */
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	__u64 lo;
	__u32 mid;

	__builtin_memcpy(&lo, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return lo == 0 && mid == bpf_htonl(0x0000ffff);
}

/* One key per connection whatever the socket family: v4-mapped as IPv4. */
static __always_inline void tuple_normalize(struct rst_tuple *t)
{
	if (t->family != AF_INET6 || !is_v4_mapped(t->laddr) || !is_v4_mapped(t->raddr))
		return;
	t->family = AF_INET;
	__builtin_memcpy(t->laddr, t->laddr + 12, 4);
	__builtin_memcpy(t->raddr, t->raddr + 12, 4);
	__builtin_memset(t->laddr + 4, 0, 12);
	__builtin_memset(t->raddr + 4, 0, 12);
}

/* sk: typed (rst_destroy's) */
static __always_inline void tuple_of_sock(struct rst_tuple *t, const struct sock *sk)
{
	const struct sock_common *skc = &sk->__sk_common;
	__u8 state = skc->skc_state;

	__builtin_memset(t, 0, sizeof(*t));
	t->netns_ino = skc->skc_net.net->ns.inum;
	t->family = skc->skc_family;
	t->lport = local_port(sk, state, true);
	t->rport = bpf_ntohs(skc->skc_dport);
	read_addrs(skc, t->family, t->laddr, t->raddr, true);
	tuple_normalize(t);
}

/* current's open file `fd`, or NULL. */
static __always_inline struct file *file_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/* A record's connection as a key: what it says of the 4-tuple, normalized. */
static __always_inline void tuple_of_event(struct rst_tuple *t, const struct rst_event *e)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->netns_ino = e->netns_ino;
	t->family = e->family;
	t->lport = e->lport;
	t->rport = e->rport;
	__builtin_memcpy(t->laddr, e->laddr, 16);
	__builtin_memcpy(t->raddr, e->raddr, 16);
	tuple_normalize(t);
}

/* The TCP socket behind a file, or NULL. */
static __always_inline struct sock *tcp_sock_of_file(struct file *file)
{
	struct socket *sock;
	struct sock *sk;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return NULL;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6 ? sk : NULL;
}

static __always_inline struct sock *tcp_sock_of_fd(int fd)
{
	return tcp_sock_of_file(file_of_fd(fd));
}

/* ---- what is remembered of sockets ------------------------------------------- */

/*
 * What is remembered of sk, wherever it is: its storage first, then the LRU
 * map. *in_lru: the entry, or the place to look for one, is the LRU map.
 * *gone: an LRU entry a destroyed socket at sk's address left, for new_info
 * to reuse (NULL if none); what is remembered of sk is then nothing.
 */
static __always_inline struct rst_sock_info *find_entry(const struct sock *sk, bool *in_lru,
							 struct rst_sock_info **gone)
{
	__u64 key = (__u64)sk;
	struct rst_sock_info *info = NULL;

	*gone = NULL;
	if (feat_sk_storage)
		info = bpf_sk_storage_get(&sk_infos, (struct sock *)sk, NULL, 0);
	*in_lru = !info;
	if (!info) {
		info = bpf_map_lookup_elem(&sockets, &key);
		if (info && info->gone) {
			*gone = info;
			info = NULL;
		}
	}
	return info;
}

static __always_inline struct rst_sock_info *find_info(const struct sock *sk, bool *in_lru)
{
	struct rst_sock_info *gone;

	return find_entry(sk, in_lru, &gone);
}

/*
 * A new, empty entry for sk: in the LRU map without socket storage or for a
 * socket entering SYN_SENT (`connecting`, see sk_infos), else its storage.
 * In the LRU map a gone entry at sk's address is emptied and reused: a freed
 * socket's memory goes to the next socket of its kind on that CPU, so in a
 * storm of connects that is one entry over and over, with no insert.
 */
static __always_inline struct rst_sock_info *new_info(const struct sock *sk, bool connecting,
						       struct rst_sock_info *gone)
{
	__u64 key = (__u64)sk;
	struct rst_sock_info *info;
	__u32 zero = 0;

	if (feat_sk_storage && !connecting)
		return bpf_sk_storage_get(&sk_infos, (struct sock *)sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (gone) {
		__builtin_memset(gone, 0, sizeof(*gone));
		return gone;
	}
	info = bpf_map_lookup_elem(&scratch, &zero);
	if (!info)
		return NULL;
	__builtin_memset(info, 0, sizeof(*info));
	bpf_map_update_elem(&sockets, &key, info, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sockets, &key);
}

/* What is remembered of sk; `create`: a new entry if there is none. */
static __always_inline struct rst_sock_info *sock_info_as(const struct sock *sk, bool create, bool connecting)
{
	bool in_lru;
	struct rst_sock_info *gone;
	struct rst_sock_info *info = find_entry(sk, &in_lru, &gone);

	return info || !create ? info : new_info(sk, connecting, gone);
}

static __always_inline struct rst_sock_info *sock_info(const struct sock *sk, bool create)
{
	return sock_info_as(sk, create, false);
}

/* sk's LRU entry is no longer sk's: gone, kept for the next socket at that
 * address, the oldest gone one of this CPU's GONE_KEPT deleted (gone_keys). */
static __always_inline void mark_gone(const struct sock *sk, struct rst_sock_info *info)
{
	__u64 key = (__u64)sk, old;
	struct rst_sock_info *stale;
	struct gone_keys *g;
	__u32 zero = 0, i;

	info->gone = 1;
	g = bpf_map_lookup_elem(&gone_keys, &zero);
	if (!g)
		return;
	for (i = 0; i < GONE_KEPT; i++)
		if (g->key[i] == key)
			return; /* kept already */
	i = g->next++ % GONE_KEPT;
	old = g->key[i];
	g->key[i] = key;
	if (!old)
		return;
	stale = bpf_map_lookup_elem(&sockets, &old);
	if (stale && stale->gone)
		bpf_map_delete_elem(&sockets, &old);
}

/*
 * Out of SYN_SENT, not closed (established, or a simultaneous open), or a
 * socket whose connect() failed now listen()ing: its entry moves from the
 * LRU map into its storage, which alone is cloned to accepted sockets and
 * never evicted. Storage that cannot be created leaves it where it is.
 */
static __always_inline struct rst_sock_info *settle(const struct sock *sk, bool create)
{
	bool in_lru;
	struct rst_sock_info *gone;
	struct rst_sock_info *pending = find_entry(sk, &in_lru, &gone), *info;

	if (!pending)
		return create ? new_info(sk, false, gone) : NULL;
	if (!in_lru || !feat_sk_storage)
		return pending;
	/* created as a copy of the pending entry */
	info = bpf_sk_storage_get(&sk_infos, (struct sock *)sk, pending, BPF_SK_STORAGE_GET_F_CREATE);
	if (!info)
		return pending;
	mark_gone(sk, pending);
	return info;
}

/* With -p or -- CMD: is current one of the traced processes? */
static __always_inline bool current_is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

/*
 * current is making a syscall on sk: it owns it. With targets, only their
 * sockets are tracked: another process's socket gets no entry (and one of
 * theirs handed to it changes owner, so it is no longer theirs).
 */
static __always_inline struct rst_sock_info *note_owner_as(const struct sock *sk, bool connecting, __u64 now)
{
	struct rst_sock_info *info = sock_info_as(sk, !f_targets || current_is_target(), connecting);
	__u64 id = bpf_get_current_pid_tgid();

	if (!info)
		return NULL;
	/* the hot path (send/recv): same thread, recently noted */
	if (info->owner.tid == (__u32)id && info->owner.pid == id >> 32 &&
	    now - info->owner.seen_ns < OWNER_REFRESH_NS)
		return info;
	owner_from_current(&info->owner, now);
	return info;
}

static __always_inline struct rst_sock_info *note_owner(const struct sock *sk)
{
	return note_owner_as(sk, false, bpf_ktime_get_ns());
}

static __always_inline bool is_reset_errno(long err)
{
	return err == EPIPE || err == ECONNRESET || err == ECONNREFUSED ||
	       err == ECONNABORTED || err == ETIMEDOUT;
}

static void emit_errno(struct sock *sk, __s32 nr, __s32 err);

/*
 * Every send and receive on a socket, in the caller's syscall: its owner,
 * and, when it failed with a reset's errno, the consequence. Only socket
 * I/O pays for these, not every syscall of the host.
 */
static __always_inline void on_sock_io(struct sock *sk, int ret)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	/* also for a process that is not traced: a traced process's socket it
	 * now uses becomes its own (and no longer traced) */
	note_owner(sk);
	if (f_targets && !current_is_target())
		return;
	if (ret < 0 && is_reset_errno(-ret))
		emit_errno(sk, current_syscall_nr(), -ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(rst_own_send, struct sock *sk, int ret, int flags)
{
	on_sock_io(sk, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(rst_own_recv, struct sock *sk, int ret, int flags)
{
	on_sock_io(sk, ret);
	return 0;
}


/*
 * At syscall exit, what nothing socket-level shows: a connect() that failed
 * with a reset's errno, the errno read through getsockopt(SO_ERROR), sockets
 * returned by accept (a server blocked in recv() when the RST comes is known
 * only this way). It runs on every syscall of the host: loaded only with
 * --syscall-hook, and where sock:sock_*_length are missing (before 6.3),
 * as the source of failed reads and writes.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(rst_sys_exit, struct pt_regs *regs, long ret)
{
	__s32 nr, err = 0;
	struct sock *sk;

	if (ret < 0) {
		if (!is_reset_errno(-ret))
			return 0;
		err = -ret;
	}
	if (f_targets && !current_is_target())
		return 0; /* not a traced process: neither its sockets nor its errors */
	/* the tracepoint's own registers: no bpf_task_pt_regs needed (5.15) */
	nr = syscall_nr_of(regs);
	if (err) {
		/* reads and writes fail in sock:sock_*_length, already seen */
		if (feat_sock_length && nr != nr_connect)
			return 0;
		sk = tcp_sock_of_fd(PT_REGS_PARM1_CORE_SYSCALL(regs));
		if (sk) {
			note_owner(sk);
			emit_errno(sk, nr, err);
		}
		return 0;
	}
	if (nr == nr_accept || nr == nr_accept4) {
		sk = tcp_sock_of_fd(ret);
		if (sk)
			note_owner(sk);
	} else if (nr == nr_getsockopt && PT_REGS_PARM2_CORE_SYSCALL(regs) == SOL_SOCKET &&
		   PT_REGS_PARM3_CORE_SYSCALL(regs) == SO_ERROR) {
		int value = 0;

		bpf_probe_read_user(&value, sizeof(value), (void *)PT_REGS_PARM4_CORE_SYSCALL(regs));
		if (!is_reset_errno(value))
			return 0;
		sk = tcp_sock_of_fd(PT_REGS_PARM1_CORE_SYSCALL(regs));
		if (sk)
			emit_errno(sk, nr, value);
	}
	return 0;
}

/* Every state change, into the socket's history; connect() (-> SYN_SENT)
 * runs in the owner's syscall. */
/* States a socket enters when its owner closes or shuts it down. */
static __always_inline bool is_letting_go(int newstate)
{
	return newstate == TCP_FIN_WAIT1_STATE || newstate == TCP_LAST_ACK_STATE || newstate == TCP_CLOSE_STATE;
}

/*
 * The socket leaves ESTABLISHED, CLOSE_WAIT... for a closing state. Inside its
 * owner's close(), close_range(), dup2/3() or exit, that is the close: the
 * state changes only when the last reference to the file goes, so a forked or
 * dup'ed copy does not count. Inside shutdown(), the owner acting. Otherwise
 * (a reset taken, a timer, softirq) nobody let go: just the history.
 */
static __always_inline struct rst_sock_info *note_letting_go(const struct sock *sk, int newstate, __u64 now)
{
	__s32 nr = current_syscall_nr();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	unsigned int task_flags = current_task_flags();
	/* a task killed by a signal closes its files with the interrupted syscall's number */
	bool exiting = task_flags & PF_EXITING;
	bool closing = exiting || (nr >= 0 && (nr == nr_close || nr == nr_close_range || nr == nr_exit ||
					      nr == nr_exit_group || nr == nr_dup2 || nr == nr_dup3));
	struct rst_sock_info *info;

	if ((task_flags & PF_KTHREAD) || (!closing && nr != nr_shutdown))
		return sock_info(sk, !f_targets);
	/* a reset or a timeout took it to CLOSE (tcp_done_with_error sets
	 * sk_err first; an owner's close() leaves it 0): over loopback that can
	 * happen inside the owner's close() of the other end */
	if (newstate == TCP_CLOSE_STATE && sk->sk_err)
		return sock_info(sk, !f_targets);
	info = sock_info(sk, false);
	/* someone else's socket changing state while this task's syscall runs
	 * (softirq on the way back from it): not this task's doing */
	if (info && info->owner.pid && info->owner.pid != tgid)
		return info;
	info = sock_info(sk, !f_targets || current_is_target());
	if (!info)
		return NULL;
	/* always the owner now (not note_owner's rate limit): this syscall and time */
	owner_from_current(&info->owner, now);
	if (closing && !info->owner.closed_ns)
		info->owner.closed_ns = info->owner.seen_ns;
	return info;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rst_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct rst_sock_info *info;
	__u64 now;
	__u32 i;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* one clock read for the owner and the history (~50 ns each in a VM) */
	now = bpf_ktime_get_ns();
	if (newstate == TCP_SYN_SENT) {
		info = note_owner_as(sk, true, now); /* connect(), in the owner's syscall */
	} else if (newstate == TCP_LISTEN_STATE) {
		/* listen(), in the listener's syscall */
		info = settle(sk, !f_targets || current_is_target());
		if (info)
			info->listener_tgid = bpf_get_current_pid_tgid() >> 32;
	} else if (oldstate == TCP_LISTEN_STATE && newstate == TCP_SYN_RECV_STATE) {
		/* a socket born of a listener, its storage a copy of the
		 * listener's (if it had one): only listener_tgid is its own.
		 * A listener older than rsttrace has none: its port says. */
		__u32 *older = NULL;

		if (f_targets) {
			struct rst_listen_port k = {
				.netns_ino = sk->__sk_common.skc_net.net->ns.inum,
				.port = sk->__sk_common.skc_num,
			};

			older = bpf_map_lookup_elem(&target_ports, &k);
			/* its process gone and its pid someone else's: stale */
			if (older && !bpf_map_lookup_elem(&targets, older))
				older = NULL;
		}
		info = sock_info(sk, !f_targets || older);
		if (info) {
			__u32 listener = info->listener_tgid;

			__builtin_memset(info, 0, sizeof(*info));
			info->listener_tgid = listener ? listener : older ? *older : 0;
		}
	} else if (is_letting_go(newstate))
		info = note_letting_go(sk, newstate, now);
	else if (oldstate == TCP_SYN_SENT)
		info = settle(sk, !f_targets);
	else
		info = sock_info(sk, !f_targets);
	if (!info)
		return 0;
	i = info->history.count % RST_HISTORY_LEN;
	info->history.ts_ns[i] = now;
	info->history.old_state[i] = oldstate;
	info->history.new_state[i] = newstate;
	info->history.count++;
	return 0;
}

/* Did the socket ever reach ESTABLISHED (within the transitions kept)? */
static __always_inline bool was_established(const struct rst_history *h)
{
	if (h->count > RST_HISTORY_LEN) /* that many changes: it was */
		return true;
	for (int i = 0; i < RST_HISTORY_LEN; i++)
		if (h->new_state[i] == TCP_ESTABLISHED_STATE)
			return true;
	return false;
}

/* The socket is going away: what is known of it now belongs to its 4-tuple. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(rst_destroy, struct sock *sk)
{
	bool in_lru;
	struct rst_sock_info *info = find_info(sk, &in_lru);
	struct rst_tuple t;

	if (!info)
		return 0;
	/* only a connection that was established can get late segments worth
	 * explaining; a refused connect() (a storm's worth of them) cannot */
	if (info->owner.pid && was_established(&info->history)) {
		tuple_of_sock(&t, sk);
		bpf_map_update_elem(&closed, &t, info, BPF_ANY);
	}
	/* socket storage goes with the socket; an LRU map entry is left gone */
	if (in_lru)
		mark_gone(sk, info);
	return 0;
}

/* ---- the records -------------------------------------------------------------- */

static __always_inline struct rst_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* A zeroed draft record of this kind, this CPU's. */
static __always_inline struct rst_event *draft(__u8 kind)
{
	__u32 slot = kind;
	struct rst_event *e = bpf_map_lookup_elem(&drafts, &slot);

	if (e)
		__builtin_memset(e, 0, RST_RECORD_HEAD_BYTES);
	return e;
}

/* Is the first prefix_len bits of a the same as c's? */
static __always_inline bool cidr_match(const volatile struct rst_cidr *c, __u16 family, const __u8 *a)
{
	__u32 bits = c->prefix_len;

	if (c->family != family)
		return false;
	for (int i = 0; i < 16; i++) {
		__u8 mask;

		if (bits == 0)
			return true;
		mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((a[i] & mask) != (c->addr[i] & mask))
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

static __always_inline bool any_cidr(const volatile struct rst_cidr *list, __u8 n, __u16 family, const __u8 *a)
{
	for (int i = 0; i < RST_MAX_CIDRS; i++) {
		if (i >= n)
			break;
		if (cidr_match(&list[i], family, a))
			return true;
	}
	return false;
}

static __always_inline bool port_listed(__u16 lport, __u16 rport)
{
	for (int i = 0; i < RST_MAX_PORTS; i++) {
		if (i >= f_nports)
			break;
		if (f_ports[i] == lport || f_ports[i] == rport)
			return true;
	}
	return false;
}

/* Is the socket of this record one of the targets'? Decided by ownership,
 * never by `current`: softirq runs in whoever's context it likes. */
static __always_inline bool owned_by_target(const struct rst_event *e)
{
	__u32 pid = e->owner.pid;

	if (e->owner_source != RST_OWNER_NONE && bpf_map_lookup_elem(&targets, &pid))
		return true;
	if (e->flags & RST_F_TARGET_LISTENER)
		return true;
	return e->sock_ino && bpf_map_lookup_elem(&target_inodes, &e->sock_ino);
}

static __always_inline bool wanted(const struct rst_event *e)
{
	struct rst_tuple t;

	if (f_kind && e->kind != RST_KIND_ERRNO && e->kind != f_kind)
		return false;
	if (f_reasons && e->kind != RST_KIND_ERRNO &&
	    (e->kind != RST_KIND_SEND || e->reason >= 64 || !(f_reasons & (1ULL << e->reason))))
		return false;
	if (f_netns && e->netns_ino != f_netns)
		return false;
	if (f_cgroup && (e->owner_source == RST_OWNER_NONE || e->owner.cgroup_id != f_cgroup))
		return false;
	/* a failed connect() has dissolved its socket's 4-tuple: user space
	 * keeps such an error only if it belongs to a reset that passed */
	bool tuple_gone = e->kind == RST_KIND_ERRNO && e->rport == 0;

	if (f_nports && !tuple_gone && !port_listed(e->lport, e->rport))
		return false;
	if ((f_family || f_nladdr || f_nraddr) && !tuple_gone) {
		/* v4-mapped counts as IPv4, as on the wire */
		tuple_of_event(&t, e);
		if (f_family && t.family != f_family)
			return false;
		if (f_nladdr && !any_cidr(f_laddr, f_nladdr, t.family, t.laddr))
			return false;
		if (f_nraddr && !any_cidr(f_raddr, f_nraddr, t.family, t.raddr))
			return false;
	}
	if (f_targets && !owned_by_target(e))
		return false;
	return true;
}

/* ---- kernel stacks ------------------------------------------------------------ */

/*
 * Walking a reset's kernel stack (15 to 30 frames through the ORC tables)
 * costs 2 to 5 us, more than all the rest of its program: in a storm of
 * refused connects it was 10 of the 17 us rsttrace added to each connect.
 * So each CPU walks at most STACK_BUDGET stacks per STACK_WINDOW_NS. Past
 * that, a record whose kernel context (its stack key) had its stack walked
 * on this CPU within STACK_REUSE_NS is sent without one, flagged, and user
 * space shows that walk's stack and says whose it is. A context not walked
 * lately is always walked.
 */
#define STACK_WINDOW_NS 100000000ULL /* 100 ms */
#define STACK_BUDGET 100             /* walks per window per CPU: 1000/s */
#define STACK_REUSE_NS 1000000000ULL

/* What the stack of a reset depends on, as far as the kernel can tell
 * without walking it. (The softirq bits of the preempt count would say
 * more, but __preempt_count is a ksym only with CONFIG_KALLSYMS_ALL.) */
struct stack_ctx {
	__u32 cpu;
	__u32 reason;
	__s32 syscall_nr;
	__u8 kind;
	__u8 state;
	__u8 task;  /* 1 a kernel thread, 2 the socket's owner (so not softirq on another's behalf) */
	__u8 given; /* RST_F_SOCK | RST_F_SEGMENT | RST_F_FULLSOCK */
};

struct stack_walk {
	__u64 ts_ns;
	__u32 key;  /* stack_key of the records with this context */
	__u32 __pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct stack_ctx);
	__type(value, struct stack_walk);
} stack_walks SEC(".maps");

struct stack_budget {
	__u64 window_ns;
	__u32 walks;
	__u32 keys; /* stack keys this CPU handed out */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} stack_budgets SEC(".maps");

/*
 * Must this record's stack be walked? Either way d->stack_key is set (when
 * the kernel can tell the context), *walk is the context's entry if it has
 * one (renewed after a walk), and *key the context, to insert if it has
 * none (kind 0: nothing to remember).
 */
static __always_inline bool stack_walk_due(struct rst_event *d, struct stack_ctx *key,
					   struct stack_walk **walk)
{
	struct stack_budget *b;
	__u32 zero = 0;

	*walk = NULL;
	__builtin_memset(key, 0, sizeof(*key)); /* kind 0: no context to reuse */
	b = bpf_map_lookup_elem(&stack_budgets, &zero);
	if (!b)
		return true;
	key->cpu = d->cpu;
	key->reason = d->reason;
	key->syscall_nr = d->syscall_nr;
	key->kind = d->kind;
	key->state = d->state;
	key->task = (d->flags & RST_F_KTHREAD ? 1 : 0) |
		    (d->owner_source == RST_OWNER_SOCKET && d->owner.tid == d->tid ? 2 : 0);
	key->given = d->flags & (RST_F_SOCK | RST_F_SEGMENT | RST_F_FULLSOCK);
	*walk = bpf_map_lookup_elem(&stack_walks, key);
	/* unique without atomics: the CPU in the top bits */
	d->stack_key = *walk ? (*walk)->key : (d->cpu << 20) | (++b->keys & 0xfffff);
	if (d->ts_ns - b->window_ns >= STACK_WINDOW_NS) {
		b->window_ns = d->ts_ns;
		b->walks = 0;
	}
	if (b->walks < STACK_BUDGET || !*walk || d->ts_ns - (*walk)->ts_ns >= STACK_REUSE_NS) {
		b->walks++;
		return true;
	}
	return false;
}

/* The draft, if wanted, into the ring buffer, with the kernel stack of now
 * (walked, or its context's last walk). */
static __always_inline void submit(void *ctx, struct rst_event *d, bool stack)
{
	struct rst_counters *c = counters_get();
	struct stack_walk *walk = NULL;
	struct stack_ctx key;
	struct rst_event *e;
	long walked;

	if (!wanted(d)) {
		if (c)
			c->filtered++;
		return;
	}
	if (stack && stack_walk_due(d, &key, &walk)) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			goto lost;
		__builtin_memcpy(e, d, RST_RECORD_HEAD_BYTES);
		walked = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
		e->kstack_bytes = walked;
		bpf_ringbuf_submit(e, 0);
		if (walked > 0 && key.kind) {
			/* from now on, this context may reuse this walk */
			if (walk) {
				walk->ts_ns = d->ts_ns;
			} else {
				struct stack_walk w = { .ts_ns = d->ts_ns, .key = d->stack_key };

				bpf_map_update_elem(&stack_walks, &key, &w, BPF_ANY);
			}
		}
	} else {
		if (stack)
			d->flags |= RST_F_STACK_REUSED;
		e = bpf_ringbuf_reserve(&events, RST_RECORD_HEAD_BYTES, 0);
		if (!e)
			goto lost;
		__builtin_memcpy(e, d, RST_RECORD_HEAD_BYTES);
		bpf_ringbuf_submit(e, 0);
	}
	if (c)
		c->events++;
	return;
lost:
	if (c)
		c->ringbuf_drops++;
}

static __always_inline void fill_task(struct rst_event *e, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->syscall_nr = current_syscall_nr();
	if (current_is_kthread())
		e->flags |= RST_F_KTHREAD;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Queues, linger and shutdown: what the application left in the socket. */
static __always_inline void fill_fullsock(struct rst_event *e, const struct sock *sk, bool typed)
{
	/* the tcp_sock as a typed pointer where the kernel gives one (5.9):
	 * its fields lie beyond struct sock, out of a plain load's reach */
	bool typed_tp = typed && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_skc_to_tcp_sock);
	const struct tcp_sock *tp = typed_tp ? bpf_skc_to_tcp_sock((void *)sk) : (const struct tcp_sock *)sk;
	if (!tp)
		return;
	__u32 write_seq = RST_READ(typed_tp, tp, write_seq);
	__u32 snd_nxt = RST_READ(typed_tp, tp, snd_nxt);
	__u32 snd_una = RST_READ(typed_tp, tp, snd_una);
	__u32 rcv_nxt = RST_READ(typed_tp, tp, rcv_nxt);
	__u32 copied_seq = RST_READ(typed_tp, tp, copied_seq);
	unsigned long flags = RST_READ(typed, sk, __sk_common.skc_flags);

	e->flags |= RST_F_FULLSOCK;
	/* sequence space wraps: differences, not comparisons; a FIN counts one */
	e->rcv_unread_bytes = rcv_nxt - copied_seq;
	e->snd_unsent_bytes = write_seq - snd_nxt;
	e->snd_unacked_bytes = snd_nxt - snd_una;
	e->sk_shutdown = RST_READ(typed, sk, sk_shutdown);
	e->sock_ino = RST_READ(typed, sk, sk_socket, file, f_inode, i_ino);
	if (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) {
		e->flags |= RST_F_LINGER;
		unsigned long jiffies = RST_READ(typed, sk, sk_lingertime);
		unsigned int hz = CONFIG_HZ ? CONFIG_HZ : 1000;

		e->linger_sec = jiffies / hz;
	}
}

/* State, namespace, facts and the 4-tuple as the socket sees it. Works for
 * full, request and TIME_WAIT sockets alike: all start with sock_common.
 * typed: sk is a tracepoint's argument (see RST_READ). */
static __always_inline void fill_sock(struct rst_event *e, const struct sock *sk, bool typed)
{
	const struct sock_common *skc = &sk->__sk_common;

	e->flags |= RST_F_SOCK;
	e->state = RST_READ(typed, skc, skc_state);
	e->netns_ino = RST_READ(typed, skc, skc_net.net, ns.inum);
	e->family = RST_READ(typed, skc, skc_family);
	e->lport = local_port(sk, e->state, typed);
	e->rport = bpf_ntohs(RST_READ(typed, skc, skc_dport));
	read_addrs(skc, e->family, e->laddr, e->raddr, typed);
	if (is_full_sock(e->state))
		fill_fullsock(e, sk, typed);
}

#define SEG_SYN 0x02
#define SEG_ACK 0x10

/* A segment that opens a connection (SYN, no ACK) belongs to no earlier one.
 * Every other segment carries an ACK, a late one of a closed connection
 * included. */
static __always_inline bool opens_connection(const struct rst_event *e)
{
	return (e->flags & RST_F_SEGMENT) && (e->seg_tcp_flags & (SEG_SYN | SEG_ACK)) == SEG_SYN;
}

/* The socket's owner and history, or the last ones of its 4-tuple. Not for
 * a connection attempt that found no socket (nothing listens): the tuple's
 * last owner has nothing to do with it, and in a storm of SYNs to a closed
 * port that lookup (a cache miss in a large table per SYN) was an eighth of
 * rst_send. A TIME_WAIT socket is a socket: its SYNs still look. */
static __always_inline void fill_owner(struct rst_event *e, const struct sock *sk)
{
	struct rst_sock_info *info = NULL;
	struct rst_tuple t;

	if (sk) {
		info = sock_info(sk, false);
		if (info && info->owner.pid) {
			e->owner_source = RST_OWNER_SOCKET;
		} else {
			if (f_targets && info && info->listener_tgid &&
			    bpf_map_lookup_elem(&targets, &info->listener_tgid))
				e->flags |= RST_F_TARGET_LISTENER;
			info = NULL;
		}
	}
	if (!info && (sk || !opens_connection(e))) {
		tuple_of_event(&t, e);
		info = bpf_map_lookup_elem(&closed, &t);
		if (info)
			e->owner_source = RST_OWNER_TUPLE;
	}
	if (info) {
		e->owner = info->owner;
		e->history = info->history;
	}
}

/*
 * The incoming segment a passive reset answers. The RST goes back along the
 * segment's 4-tuple reversed, so that is the tuple reported: right also when
 * the socket is a listener or there is none.
 */
static __always_inline void fill_segment(struct rst_event *e, const struct sk_buff *skb)
{
	/* skb is typed (the tracepoint's); the packet bytes are not */
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header;
	__u16 th = skb->transport_header;
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
		__builtin_memset(e->laddr, 0, 16);
		__builtin_memset(e->raddr, 0, 16);
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
		e->netns_ino = skb->dev->nd_net.net->ns.inum;
}

/*
 * With targets, a full socket that is not theirs is left at once, before any
 * record is drafted: the bystander's resets cost a map lookup or two. Mini
 * sockets and no socket are decided later, by the 4-tuple.
 */
static __always_inline bool may_be_targets(const struct sock *sk)
{
	struct rst_sock_info *info;
	__u64 ino;
	struct rst_counters *c;

	if (!f_targets || !sk || !is_full_sock(sk->__sk_common.skc_state))
		return true;
	info = sock_info(sk, false);
	if (info && info->owner.pid && bpf_map_lookup_elem(&targets, &info->owner.pid))
		return true;
	/* accepted by a traced process, not yet read or written */
	if (info && !info->owner.pid && info->listener_tgid && bpf_map_lookup_elem(&targets, &info->listener_tgid))
		return true;
	ino = sk->sk_socket->file->f_inode->i_ino;
	if (ino && bpf_map_lookup_elem(&target_inodes, &ino))
		return true;
	c = counters_get();
	if (c)
		c->filtered++;
	return false;
}

static __always_inline void on_send_reset(void *ctx, const struct sock *sk, const struct sk_buff *skb,
					  __u32 reason, bool has_reason)
{
	struct rst_event *e;

	if (!may_be_targets(sk))
		return;
	e = draft(RST_KIND_SEND);
	if (!e)
		return;
	fill_task(e, RST_KIND_SEND);
	if (has_reason) {
		e->reason = reason;
		e->flags |= RST_F_REASON;
	}
	if (sk) {
		fill_sock(e, sk, true);
		e->sock_cookie = sock_cookie(sk);
	}
	if (skb)
		fill_segment(e, skb);
	fill_owner(e, sk);
	submit(ctx, e, true);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rst_send, const struct sock *sk, const struct sk_buff *skb, enum sk_rst_reason reason)
{
	on_send_reset(ctx, sk, skb, reason, true);
	return 0;
}

/* Before 6.10 the tracepoint had no reason argument (and fired for full
 * sockets only): the loader picks this one when enum sk_rst_reason is
 * missing from the kernel's BTF. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rst_send_old, const struct sock *sk, const struct sk_buff *skb)
{
	on_send_reset(ctx, sk, skb, 0, false);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rst_recv, struct sock *sk)
{
	struct rst_event *e;

	if (!may_be_targets(sk))
		return 0;
	e = draft(RST_KIND_RECV);
	if (!e)
		return 0;
	fill_task(e, RST_KIND_RECV);
	fill_sock(e, sk, true);
	e->sock_cookie = sock_cookie(sk);
	fill_owner(e, sk);
	submit(ctx, e, true);
	return 0;
}

static __noinline void emit_errno(struct sock *sk, __s32 nr, __s32 err)
{
	struct rst_event *e = draft(RST_KIND_ERRNO);

	if (!e)
		return;
	fill_task(e, RST_KIND_ERRNO);
	e->syscall_nr = nr;
	e->err = err;
	/* sk may come from the fd table (sys_exit): untyped */
	fill_sock(e, sk, false);
	/* a plain read: a reset on this socket already generated the cookie */
	e->sock_cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	fill_owner(e, sk);
	submit(NULL, e, false);
}

/*
 * Children of targets are targets: servers hand connections to workers. A
 * new process whose pid is still in the set is not the traced one (that one
 * is gone, its pid reused): it leaves the set. Not at exit: a traced process
 * closes its sockets after sched_process_exit, and its orphans reset later
 * (--keep-waiting), all under its pid.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(rst_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = parent->tgid, cpid = child->tgid;
	__u8 one = 1;

	if (!f_targets || ppid == cpid)
		return 0;
	if (!f_follow_forks || !bpf_map_lookup_elem(&targets, &ppid)) {
		bpf_map_delete_elem(&targets, &cpid);
		return 0;
	}
	if (bpf_map_update_elem(&targets, &cpid, &one, BPF_ANY)) {
		struct rst_counters *c = counters_get();

		if (c)
			c->target_drops++;
	}
	return 0;
}

