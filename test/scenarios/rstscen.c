// SPDX-License-Identifier: GPL-2.0
/*
 * rstscen: makes one kind of TCP reset for real, the way applications make
 * them, and prints one JSON line of facts (pids, ports, what each side's
 * syscalls returned) for the end-to-end tests to compare with rsttrace.
 *
 *   rstscen refused ADDR PORT          connect() to a closed port
 *   rstscen burst ADDR PORT COUNT      COUNT refused connects
 *   rstscen unread-close ADDR          client close()s with unread data
 *   rstscen linger0 ADDR               client close()s with SO_LINGER {1, 0}
 *   rstscen connect-unspec ADDR        client connect()s to AF_UNSPEC
 *   rstscen kill ADDR                  `ss -K` kills the client's socket
 *   rstscen kb-timewait ADDR           late reply hits a FIN_WAIT2 timewait
 *   rstscen kb-finwait1 ADDR           late reply hits an orphan in FIN_WAIT1
 *   rstscen shutdown-rdwr ADDR         reply hits a shutdown(SHUT_RDWR) socket
 *   rstscen linger2 ADDR               close() in FIN_WAIT2 with TCP_LINGER2 -1
 *   rstscen ack-listener ADDR          a bare ACK (raw socket) to a listener
 *   rstscen self-pair ADDR             one process holds both ends; its close()
 *                                      of one (unread data) resets the other;
 *                                      later an ACK from the first's port
 *   rstscen hold ADDR                  connection now, reset (linger0) on a line of stdin
 *   rstscen listen-after-refused ADDR  a socket whose connect() was refused
 *                                      listen()s; a connection it never
 *                                      accepts is reset by its client
 *   rstscen keepalive SERVER_NETNS CLIENT_NETNS SERVER_ADDR SERVER_IFACE
 *                                      keepalive probes go unanswered
 *
 * Server and client are separate processes (fork); the server reports what
 * its next syscall returned after the reset.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

static void die(const char *what)
{
	fprintf(stderr, "rstscen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct endpoint parse_addr(const char *addr, int port)
{
	struct endpoint ep = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep.ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep.ss;

	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		ep.len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		ep.len = sizeof(*in6);
	} else {
		fprintf(stderr, "rstscen: not an IP address: %s\n", addr);
		exit(2);
	}
	return ep;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* -1 stands for "the call returned 0: end of file", -2 for "not called". */
#define ERR_EOF (-1)
#define ERR_NONE (-2)

static const char *errno_name(int err)
{
	if (err == ERR_EOF)
		return "EOF";
	if (err == ERR_NONE)
		return "NONE";
	const char *name = err ? strerrorname_np(err) : "OK";
	return name ? name : "UNKNOWN";
}

/* ---- bounded waits and small helpers ---- */

static void fail(const char *what)
{
	fprintf(stderr, "rstscen: %s\n", what);
	exit(2);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Reads exactly len bytes from a pipe, waiting at most ms for them. */
static void read_msg(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, ms) != 1)
		fail("timed out waiting for the other process");
	if (read(fd, buf, len) != (ssize_t)len)
		fail("the other process went away");
}

static void write_msg(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		die("write to the other process");
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("getsockopt TCP_INFO");
	return ti.tcpi_state;
}

static const char *state_name(int state)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	};

	return state > 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state]
									      : "UNKNOWN";
}

/* Polls TCP_INFO until fd reaches state (at most 2 s): the peer's ACK is async. */
static void wait_state(int fd, int state)
{
	for (long end = now_ms() + 2000; tcp_state(fd) != state; sleep_ms(1))
		if (now_ms() > end)
			fail("timed out waiting for a TCP state");
}

/*
 * Waits (at most 2 s) for a reset to have been processed on fd: tcp_done()
 * sets sk_shutdown to SHUTDOWN_MASK, which poll() reports as POLLHUP even
 * with no events asked for; a FIN alone does not. Only for a socket that
 * has not shut down its own sending side.
 */
static int wait_reset(int fd)
{
	struct pollfd p = {.fd = fd, .events = 0};

	return poll(&p, 1, 2000) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* errno of one send(); MSG_NOSIGNAL so EPIPE is reported, not raised. */
static int send_err(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) < 0 ? errno : 0;
}

/* errno of one recv(), or ERR_EOF. */
static int recv_err(int fd)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	return n < 0 ? errno : n == 0 ? ERR_EOF : 0;
}

/* Reads until EOF or an error; returns that errno (ERR_EOF) and counts bytes. */
static int drain(int fd, int *bytes)
{
	char buf[512];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		*bytes += n;
	return n < 0 ? errno : ERR_EOF;
}

static int queued(int fd, unsigned long req)
{
	int n = 0;

	if (ioctl(fd, req, &n))
		die("ioctl");
	return n;
}

static void set_timeout(int fd, int opt, int secs)
{
	struct timeval tv = {.tv_sec = secs};

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		die("setsockopt timeout");
}

static void set_int(int fd, int level, int opt, int val, const char *what)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)))
		die(what);
}

/* Reaps a child, killing it if it has not exited within ms. */
static int reap(pid_t pid, int ms)
{
	int status = 0;

	for (long end = now_ms() + ms; waitpid(pid, &status, WNOHANG) == 0; sleep_ms(2)) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Waits (at most 2 s) until pid sleeps in the kernel, i.e. is blocked in a syscall. */
static void wait_sleeping(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (long end = now_ms() + 2000; now_ms() < end; sleep_ms(1)) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		char *paren;

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return;
		buf[n] = 0;
		paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'S')
			return;
	}
}

/*
 * Runs a tool (ss, ip) in a child: its own stdout goes to /dev/null so ours
 * stays one JSON line. Tries PATH, then the usual places, as PATH may lack sbin.
 */
static pid_t spawn(char *const argv[], pid_t after_sleeping)
{
	static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};
	pid_t pid = fork();
	char path[64];
	int null;

	if (pid < 0)
		die("fork");
	if (pid > 0)
		return pid;
	null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		die("/dev/null");
	if (after_sleeping)
		wait_sleeping(after_sleeping);
	execvp(argv[0], argv);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dirs[i], argv[0]);
		execv(path, argv);
	}
	die(argv[0]);
	return -1;
}

/* accept(), but gives up after 5 s: a client that died must not leave us here. */
static int accept_one(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int fd;

	if (poll(&p, 1, 5000) != 1)
		fail("timed out waiting for a connection");
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	return fd;
}

static int listener(const char *addr, int *port)
{
	struct endpoint ep = parse_addr(addr, 0);
	int fd = socket(ep.ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&ep.ss, ep.len))
		die("bind");
	if (listen(fd, 16))
		die("listen");
	*port = port_of(fd);
	return fd;
}

static int connect_to(const char *addr, int port, int *err)
{
	struct endpoint ep = parse_addr(addr, port);
	int fd = socket(ep.ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	set_timeout(fd, SO_SNDTIMEO, 5);	/* bounds connect() too: SYNs may go unanswered */
	*err = connect(fd, (struct sockaddr *)&ep.ss, ep.len) ? errno : 0;
	return fd;
}

/* Blocks until fd is readable (data, FIN or RST), at most 5 s. */
static void wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 5000) != 1) {
		fprintf(stderr, "rstscen: timed out waiting for the peer\n");
		exit(2);
	}
}

static int cmd_refused(const char *addr, int port, int count)
{
	int refused = 0, lport = 0;

	for (int i = 0; i < count; i++) {
		int err;
		int fd = connect_to(addr, port, &err);

		if (err == ECONNREFUSED)
			refused++;
		if (count == 1)
			lport = port_of(fd);
		close(fd);
	}
	if (count == 1)
		printf("{\"pid\":%d,\"lport\":%d,\"errno\":\"%s\"}\n", getpid(), lport,
		       refused ? "ECONNREFUSED" : "OK");
	else
		printf("{\"pid\":%d,\"attempts\":%d,\"refused\":%d}\n", getpid(), count, refused);
	return refused == count ? 0 : 1;
}

/*
 * A server in a child process that accepts one connection, optionally sends
 * `greeting`, then blocks in recv() until the client's reset arrives, and
 * writes recv()'s errno to `report`.
 */
static pid_t serve_one(int lfd, const char *greeting, int report)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid > 0)
		return pid;
	int fd = accept_one(lfd);
	char buf[64];
	int err;

	set_timeout(fd, SO_RCVTIMEO, 5);
	if (greeting && send(fd, greeting, strlen(greeting), 0) < 0)
		die("send");
	err = recv(fd, buf, sizeof(buf), 0) < 0 ? errno : 0;
	if (write(report, &err, sizeof(err)) != sizeof(err))
		die("write report");
	_exit(0);
}

/* The client side of unread-close and linger0: the parent process. */
static int client_reset(const char *addr, const char *greeting, int linger)
{
	int sport, lfd = listener(addr, &sport), report[2], err, server_err = -1;

	if (pipe(report))
		die("pipe");
	pid_t server = serve_one(lfd, greeting, report[1]);
	int fd = connect_to(addr, sport, &err);

	if (err) {
		errno = err;
		die("connect");
	}
	int cport = port_of(fd);

	if (greeting)
		wait_readable(fd); /* the greeting is in our receive queue, unread */
	if (linger) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("setsockopt SO_LINGER");
	}
	close(fd);
	close(report[1]);
	read_msg(report[0], &server_err, sizeof(server_err), 5000);
	reap(server, 5000);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d,"
	       "\"unread_bytes\":%zu,\"server_errno\":\"%s\"}\n",
	       getpid(), server, cport, sport, greeting ? strlen(greeting) : 0, errno_name(server_err));
	return 0;
}

/* ---- a client and a server process with one connection between them ---- */

/* What the server child saw, sent to the client process over a pipe. */
struct report {
	int recv_err;	/* its recv() before the client acted (ERR_NONE: not done) */
	int request;	/* bytes of request it read */
	int reply_err;	/* its send() of the reply (ERR_NONE: not done) */
	int unread;	/* bytes left in its receive queue when it replied */
	int reset;	/* it saw the reset (POLLHUP/POLLERR) before its next call */
	int err;	/* errno of its call after the reset */
};

/* What the server does; flags, in the order it does them. */
enum {
	SRV_RECV = 1,	/* block in recv() until the reset: report its errno */
	SRV_DRAIN = 2,	/* read the request up to EOF */
	SRV_REPLY = 4,	/* after the client says go, send a reply */
	SRV_SEND = 8,	/* wait for the reset, then send: report its errno */
};

struct pair {
	pid_t server;
	int fd;			/* the client's connected socket */
	int cport, sport;
	int from_server;	/* "accepted", then a struct report */
	int to_server;		/* "go": the client has set the stage */
};

static const char reply[] = "HTTP/1.0 200 OK\r\n\r\nlate reply";

static void serve(int lfd, int flags, struct pair *p, int out)
{
	struct report r = {ERR_NONE, 0, ERR_NONE, 0, 0, ERR_NONE};
	int fd = accept_one(lfd);
	char go;

	write_msg(out, "a", 1);
	set_timeout(fd, SO_RCVTIMEO, 5);	/* no recv() may hang */
	if (flags & SRV_DRAIN)
		r.recv_err = drain(fd, &r.request);
	if (flags & SRV_RECV)
		r.err = recv_err(fd);
	if (flags & (SRV_REPLY | SRV_SEND))
		read_msg(p->to_server, &go, 1, 5000);
	if (flags & SRV_REPLY) {
		r.unread = queued(fd, SIOCINQ);
		r.reply_err = send_err(fd, reply, sizeof(reply) - 1);
	}
	if (flags & SRV_SEND) {
		r.reset = wait_reset(fd);
		r.err = send_err(fd, "more", 4);
	}
	write_msg(out, &r, sizeof(r));
	_exit(0);
}

/* Forks a server doing `flags` on a listener on addr, and connects to it. */
static void start_pair(const char *addr, int flags, int rcvbuf, struct pair *p)
{
	int lfd = listener(addr, &p->sport), up[2], down[2], err;
	char accepted;

	signal(SIGPIPE, SIG_IGN);
	if (rcvbuf)	/* accepted sockets inherit it; the SYN-ACK's window is set from it */
		set_int(lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "setsockopt SO_RCVBUF");
	if (pipe(up) || pipe(down))
		die("pipe");
	p->server = fork();
	if (p->server < 0)
		die("fork");
	if (p->server == 0) {
		close(up[0]);
		close(down[1]);
		p->to_server = down[0];
		serve(lfd, flags, p, up[1]);
	}
	close(lfd);
	close(up[1]);
	close(down[0]);
	p->from_server = up[0];
	p->to_server = down[1];
	p->fd = connect_to(addr, p->sport, &err);
	if (err) {
		errno = err;
		die("connect");
	}
	p->cport = port_of(p->fd);
	read_msg(p->from_server, &accepted, 1, 5000);
}

static void go(struct pair *p)
{
	write_msg(p->to_server, "g", 1);
}

static struct report finish(struct pair *p)
{
	struct report r;

	read_msg(p->from_server, &r, sizeof(r), 5000);
	reap(p->server, 5000);
	return r;
}

/* The keys every scenario with a pair prints first (without the closing brace). */
static void print_pair(const struct pair *p, const char *client_syscall, int client_err)
{
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d,"
	       "\"client_syscall\":\"%s\",\"client_errno\":\"%s\"",
	       getpid(), p->server, p->cport, p->sport, client_syscall, errno_name(client_err));
}

/* The server's side for the scenarios where it sends after the reset. */
static void print_server_send(const struct report *r)
{
	printf(",\"server_recv_errno\":\"%s\",\"request_bytes\":%d,\"server_reply_errno\":\"%s\","
	       "\"server_unread_bytes\":%d,\"server_saw_reset\":%s,"
	       "\"server_syscall\":\"send\",\"server_errno\":\"%s\"",
	       errno_name(r->recv_err), r->request, errno_name(r->reply_err), r->unread,
	       r->reset ? "true" : "false", errno_name(r->err));
}

/*
 * connect(AF_UNSPEC) on an established socket is tcp_disconnect(): the
 * kernel resets the connection (reason TCP_STATE) and the socket can be
 * reused. The server is blocked in recv().
 */
static int cmd_connect_unspec(const char *addr)
{
	struct sockaddr sa = {.sa_family = AF_UNSPEC};
	struct pair p;
	int err;

	start_pair(addr, SRV_RECV, 0, &p);
	err = connect(p.fd, &sa, sizeof(sa)) ? errno : 0;
	struct report r = finish(&p);

	print_pair(&p, "connect", err);
	printf(",\"server_syscall\":\"recv\",\"server_errno\":\"%s\"}\n", errno_name(r.err));
	return 0;
}

/*
 * `ss -K` (SOCK_DESTROY) kills the client's socket while the client is
 * blocked in recv(): tcp_abort() sends the RST from the ss process.
 * The filter matches the client's socket only, never the server's.
 */
static int cmd_kill(const char *addr)
{
	char sport[16], cport[16];
	struct pair p;

	start_pair(addr, SRV_RECV, 0, &p);
	snprintf(sport, sizeof(sport), ":%d", p.sport);
	snprintf(cport, sizeof(cport), ":%d", p.cport);
	char *const argv[] = {"ss", "-K", "-t", "-n", "sport", "=", cport,
			      "and", "dport", "=", sport, NULL};

	set_timeout(p.fd, SO_RCVTIMEO, 5);
	pid_t killer = spawn(argv, getpid());
	int err = recv_err(p.fd);
	int status = reap(killer, 5000);
	struct report r = finish(&p);

	print_pair(&p, "recv", err);
	printf(",\"killer_pid\":%d,\"killer_status\":%d,\"server_syscall\":\"recv\","
	       "\"server_errno\":\"%s\"}\n", killer, status, errno_name(r.err));
	return 0;
}

static int fin_timeout(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_fin_timeout", "r");
	int val = -1;

	if (f) {
		if (fscanf(f, "%d", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

static const char request[] = "GET / HTTP/1.0\r\n\r\n";

/*
 * Microsoft KB Q152474: the client sends its request, half-closes, and
 * close()s before the reply comes. Closed in FIN_WAIT2 with tcp_fin_timeout
 * <= 60, the socket becomes a timewait socket (substate FIN_WAIT2) which
 * answers the late reply with an RST (reason TCP_TIMEWAIT_SOCKET).
 */
static int cmd_kb_timewait(const char *addr)
{
	int fin = fin_timeout();
	struct pair p;

	start_pair(addr, SRV_DRAIN | SRV_REPLY | SRV_SEND, 0, &p);
	if (fin > 60)	/* else __tcp_close() keeps a FIN_WAIT2 socket, not a timewait one */
		set_int(p.fd, IPPROTO_TCP, TCP_LINGER2, 60, "setsockopt TCP_LINGER2");
	if (send(p.fd, request, sizeof(request) - 1, 0) < 0)
		die("send");
	if (shutdown(p.fd, SHUT_WR))
		die("shutdown");
	wait_state(p.fd, TCP_FIN_WAIT2);	/* our FIN is acknowledged */
	int err = close(p.fd) ? errno : 0;

	go(&p);
	struct report r = finish(&p);

	print_pair(&p, "close", err);
	printf(",\"client_state_at_close\":\"FIN_WAIT2\",\"fin_timeout\":%d", fin);
	print_server_send(&r);
	printf("}\n");
	return 0;
}

/* Sends until the socket buffer and the peer's window are both full. */
static int fill(int fd)
{
	static char junk[4096];
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int sent = 0;
	ssize_t n;

	do {
		while ((n = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
			sent += n;
		if (n < 0 && errno != EAGAIN)
			die("send");
	} while (poll(&p, 1, 50) == 1);	/* room again: the window was not full yet */
	return sent;
}

/*
 * The KB Q152474 pattern again, but the server is not reading and its
 * receive window is full, so the client's FIN waits behind unsent data:
 * the orphan is still in FIN_WAIT1 when the reply comes, and answers it
 * with an RST (reason TCP_ABORT_ON_DATA).
 */
static int cmd_kb_finwait1(const char *addr)
{
	struct pair p;

	start_pair(addr, SRV_REPLY | SRV_SEND, 4096, &p);
	set_int(p.fd, SOL_SOCKET, SO_SNDBUF, 4096, "setsockopt SO_SNDBUF");
	int sent = fill(p.fd);
	int unsent = queued(p.fd, SIOCOUTQNSD);
	int state = tcp_state(p.fd);

	if (!unsent)
		fail("the server's window did not fill up");
	int err = close(p.fd) ? errno : 0;	/* FIN queued behind unsent data */

	go(&p);
	struct report r = finish(&p);

	print_pair(&p, "close", err);
	printf(",\"client_state_before_close\":\"%s\",\"client_sent_bytes\":%d,"
	       "\"client_unsent_bytes\":%d", state_name(state), sent, unsent);
	print_server_send(&r);
	printf("}\n");
	return 0;
}

/*
 * shutdown(SHUT_RDWR), not close(): the socket stays open in FIN_WAIT2 but
 * will receive nothing more, so the server's data is answered with an RST
 * (reason TCP_ABORT_ON_DATA) and the client's socket is reset too.
 */
static int cmd_shutdown_rdwr(const char *addr)
{
	struct pair p;

	start_pair(addr, SRV_DRAIN | SRV_REPLY | SRV_SEND, 0, &p);
	if (shutdown(p.fd, SHUT_RDWR))
		die("shutdown");
	int before = tcp_state(p.fd);

	wait_state(p.fd, TCP_FIN_WAIT2);
	go(&p);
	wait_state(p.fd, TCP_CLOSE);	/* not poll(): POLLHUP is already up after SHUT_RDWR */
	int after = tcp_state(p.fd);

	set_timeout(p.fd, SO_RCVTIMEO, 2);
	int err = recv_err(p.fd);
	struct report r = finish(&p);

	print_pair(&p, "recv", err);
	printf(",\"client_state_after_shutdown\":\"%s\",\"client_state_at_reply\":\"FIN_WAIT2\","
	       "\"client_state_after\":\"%s\"", state_name(before), state_name(after));
	print_server_send(&r);
	printf("}\n");
	return 0;
}

/*
 * TCP_LINGER2 < 0: a socket closed in FIN_WAIT2 is not kept to wait for the
 * peer's FIN; __tcp_close() resets it at once (reason TCP_ABORT_ON_LINGER).
 * The server has read our FIN (EOF) first, so it learns of the reset on send.
 */
static int cmd_linger2(const char *addr)
{
	struct pair p;

	start_pair(addr, SRV_DRAIN | SRV_SEND, 0, &p);
	set_int(p.fd, IPPROTO_TCP, TCP_LINGER2, -1, "setsockopt TCP_LINGER2");
	if (shutdown(p.fd, SHUT_WR))
		die("shutdown");
	wait_state(p.fd, TCP_FIN_WAIT2);
	int err = close(p.fd) ? errno : 0;

	go(&p);
	struct report r = finish(&p);

	print_pair(&p, "close", err);
	printf(",\"client_state_at_close\":\"FIN_WAIT2\",\"linger2\":-1");
	print_server_send(&r);
	printf("}\n");
	return 0;
}

/* ---- ack-listener: a hand-made segment from a raw socket ---- */

static uint16_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The TCP checksum covers a pseudo-header of addresses, protocol and length. */
static uint16_t tcp_csum(struct in_addr src, struct in_addr dst, const struct tcphdr *th)
{
	struct {
		struct in_addr src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __attribute__((packed)) ph = {src, dst, 0, IPPROTO_TCP, htons(sizeof(*th))};
	uint16_t sum = csum_add(0, &ph, sizeof(ph));

	return htons(~csum_add(sum, th, sizeof(*th)) & 0xffff);
}

/* A port no socket uses: the kernel's own pick, released again. */
static int unused_port(const char *addr)
{
	struct endpoint ep = parse_addr(addr, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&ep.ss, ep.len))
		die("bind");
	port = port_of(fd);
	close(fd);
	return port;
}

/*
 * The server: holds a listener until the client closes `done` (at most 5 s);
 * returns the write end of that pipe.
 */
static int hold_listener(const char *addr, int *port, pid_t *pid)
{
	int lfd = listener(addr, port), done[2];

	if (pipe(done))
		die("pipe");
	*pid = fork();
	if (*pid < 0)
		die("fork");
	if (*pid == 0) {
		struct pollfd p = {.fd = done[0], .events = POLLIN};

		close(done[1]);
		poll(&p, 1, 5000);	/* POLLHUP when the client is done */
		_exit(0);
	}
	close(lfd);
	close(done[0]);
	return done[1];
}

/* Waits (at most 1 s) on the raw socket for the RST from lport to sport. */
static int read_rst(int raw, int lport, int sport, uint32_t *seq, int *has_ack)
{
	char buf[1500];
	struct pollfd p = {.fd = raw, .events = POLLIN};

	for (long end = now_ms() + 1000; now_ms() < end;) {
		if (poll(&p, 1, 100) != 1)
			continue;
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		struct iphdr *ip = (struct iphdr *)buf;

		if (n < (ssize_t)sizeof(*ip) || n < ip->ihl * 4 + (ssize_t)sizeof(struct tcphdr))
			continue;
		struct tcphdr *th = (struct tcphdr *)(buf + ip->ihl * 4);

		if (ntohs(th->source) == lport && ntohs(th->dest) == sport && th->rst) {
			*seq = ntohl(th->seq);
			*has_ack = th->ack;
			return 1;
		}
	}
	return 0;
}

/*
 * A bare ACK (no SYN) to a listening port: tcp_rcv_state_process() in
 * TCP_LISTEN answers any ACK with an RST (reason TCP_FLAGS), seq = our ack.
 */
static int cmd_ack_listener(const char *addr)
{
	struct endpoint ep = parse_addr(addr, 0);
	struct sockaddr_in *dst = (struct sockaddr_in *)&ep.ss;
	int lport, sport, has_ack = 0, seen;
	uint32_t seq = 0x1000, ack = 0x2000, rst_seq = 0;

	if (ep.ss.ss_family != AF_INET)
		fail("ack-listener: IPv4 only");
	sport = unused_port(addr);
	pid_t server;
	int done = hold_listener(addr, &lport, &server);
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	if (raw < 0 || bind(raw, (struct sockaddr *)&ep.ss, ep.len))	/* the source address */
		die("raw socket");
	struct tcphdr th = {
		.source = htons(sport), .dest = htons(lport), .seq = htonl(seq),
		.ack_seq = htonl(ack), .doff = sizeof(th) / 4, .ack = 1, .window = htons(1024),
	};

	th.check = tcp_csum(dst->sin_addr, dst->sin_addr, &th);
	dst->sin_port = 0;	/* raw sockets take the port from our header */
	if (sendto(raw, &th, sizeof(th), 0, (struct sockaddr *)&ep.ss, ep.len) != sizeof(th))
		die("sendto");
	seen = read_rst(raw, lport, sport, &rst_seq, &has_ack);
	close(done);
	reap(server, 5000);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d,"
	       "\"sent_flags\":\"ACK\",\"sent_seq\":%u,\"sent_ack\":%u,\"rst_seen\":%s,"
	       "\"rst_seq\":%u,\"rst_has_ack\":%s}\n",
	       getpid(), server, sport, lport, seq, ack, seen ? "true" : "false", rst_seq,
	       has_ack ? "true" : "false");
	return seen ? 0 : 1;
}

/*
 * One process holds both ends of a connection. close() of the client end
 * with unread data sends an RST that takes the server end to CLOSE in the
 * softirq run inside that very close(): the process did not close the server
 * end, the reset did. Then it closes the server end for real (a socket
 * already in CLOSE: no state change), and a bare ACK from the client's port
 * makes the listener answer with an RST, whose 4-tuple is the server end's:
 * rsttrace names that connection's owner, and must not say it closed it at
 * the time of the first close().
 */
static int cmd_self_pair(const char *addr)
{
	struct endpoint ep = parse_addr(addr, 0);
	struct sockaddr_in *dst = (struct sockaddr_in *)&ep.ss;
	int lport, err, has_ack = 0, seen;
	uint32_t rst_seq = 0;

	if (ep.ss.ss_family != AF_INET)
		fail("self-pair: IPv4 only");
	int lfd = listener(addr, &lport);
	int cfd = connect_to(addr, lport, &err);

	if (err)
		fail("self-pair: connect");
	int sfd = accept_one(lfd);
	int cport = port_of(cfd);

	if (write(sfd, "unread", 6) != 6)
		die("write");
	usleep(20000);		/* the data is in the client's receive queue */
	close(cfd);		/* RST: the server end goes to CLOSE, in this close() */
	usleep(20000);
	int rerr = write(sfd, "x", 1) < 0 ? errno : 0;	/* ECONNRESET: it was reset */
	usleep(20000);
	close(sfd);		/* already CLOSE: destroyed now */
	usleep(20000);

	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	if (raw < 0 || bind(raw, (struct sockaddr *)&ep.ss, ep.len))
		die("raw socket");
	struct tcphdr th = {
		.source = htons(cport), .dest = htons(lport), .seq = htonl(0x1000),
		.ack_seq = htonl(0x2000), .doff = sizeof(th) / 4, .ack = 1, .window = htons(1024),
	};

	th.check = tcp_csum(dst->sin_addr, dst->sin_addr, &th);
	dst->sin_port = 0;
	if (sendto(raw, &th, sizeof(th), 0, (struct sockaddr *)&ep.ss, ep.len) != sizeof(th))
		die("sendto");
	seen = read_rst(raw, lport, cport, &rst_seq, &has_ack);
	close(raw);
	close(lfd);
	printf("{\"pid\":%d,\"client_port\":%d,\"server_port\":%d,\"server_write_errno\":\"%s\",\"rst_seen\":%s}\n",
	       getpid(), cport, lport, errno_name(rerr), seen ? "true" : "false");
	return seen ? 0 : 1;
}

/* ---- keepalive: two network namespaces ---- */

static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	if (setns(fd, CLONE_NEWNET))
		die("setns");
	close(fd);
}

/* The server, in its namespace: accepts, then just waits to be told to go. */
static pid_t keepalive_server(const char *netns, const char *addr, int up[2], int down[2])
{
	pid_t pid = fork();
	int port, fd;
	char c;

	if (pid < 0)
		die("fork");
	if (pid > 0)
		return pid;
	close(up[0]);
	close(down[1]);
	enter_netns(netns);
	fd = listener(addr, &port);
	write_msg(up[1], &port, sizeof(port));
	fd = accept_one(fd);
	write_msg(up[1], "a", 1);
	struct pollfd p = {.fd = down[0], .events = POLLIN};

	poll(&p, 1, 15000);
	_exit(read(down[0], &c, 1) == 1 ? 0 : 1);
}

/*
 * The client's keepalive probes go unanswered once the server's link is
 * down: after TCP_KEEPCNT probes tcp_keepalive_timer() sends an RST
 * (reason TCP_KEEPALIVE_TIMEOUT) and the blocked recv() gets ETIMEDOUT.
 */
static int cmd_keepalive(const char *snetns, const char *cnetns, const char *addr,
			 const char *iface)
{
	int up[2], down[2], sport, err;
	char c;

	signal(SIGPIPE, SIG_IGN);
	if (pipe(up) || pipe(down))
		die("pipe");
	pid_t server = keepalive_server(snetns, addr, up, down);

	close(up[1]);
	close(down[0]);
	read_msg(up[0], &sport, sizeof(sport), 5000);
	enter_netns(cnetns);
	int fd = connect_to(addr, sport, &err);

	if (err) {
		errno = err;
		die("connect");
	}
	read_msg(up[0], &c, 1, 5000);
	set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 1, "setsockopt TCP_KEEPIDLE");
	set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1, "setsockopt TCP_KEEPINTVL");
	set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 2, "setsockopt TCP_KEEPCNT");
	set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "setsockopt SO_KEEPALIVE");
	set_timeout(fd, SO_RCVTIMEO, 8);	/* ETIMEDOUT comes after ~3 s */

	char *const argv[] = {"ip", "-n", (char *)snetns, "link", "set", (char *)iface, "down", NULL};
	pid_t cutter = spawn(argv, 0);
	int status = reap(cutter, 5000);
	long start = now_ms();

	if (status)
		fail("ip link set down failed");

	err = recv_err(fd);
	long waited = now_ms() - start;

	write_msg(down[1], "q", 1);
	reap(server, 5000);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d,"
	       "\"client_syscall\":\"recv\",\"client_errno\":\"%s\",\"waited_ms\":%ld,"
	       "\"cutter_pid\":%d,\"cutter_status\":%d,\"keepidle\":1,\"keepintvl\":1,"
	       "\"keepcnt\":2}\n",
	       getpid(), server, port_of(fd), sport, errno_name(err), waited, cutter, status);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rstscen refused ADDR PORT | burst ADDR PORT COUNT | "
			"unread-close ADDR | linger0 ADDR | connect-unspec ADDR | kill ADDR |\n"
			"       kb-timewait ADDR | kb-finwait1 ADDR | shutdown-rdwr ADDR | "
			"linger2 ADDR | ack-listener ADDR | self-pair ADDR | hold ADDR |\n"
			"       listen-after-refused ADDR | reconnect-closed ADDR |\n"
			"       keepalive SERVER_NETNS CLIENT_NETNS SERVER_ADDR SERVER_IFACE\n");
	exit(2);
}

/*
 * listen-after-refused ADDR: connect() is refused, then the same socket
 * listen()s (on a port the kernel picks). A child connects and resets
 * (SO_LINGER {1, 0}) before anything accepts: the reset lands on a socket
 * nobody has used, which belongs to the listener's process.
 */
static int cmd_listen_after_refused(const char *addr)
{
	struct endpoint ep = parse_addr(addr, unused_port(addr));
	int lfd = socket(ep.ss.ss_family, SOCK_STREAM, 0), cfd, err, port;
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	pid_t client;

	if (lfd < 0)
		die("socket");
	err = connect(lfd, (struct sockaddr *)&ep.ss, ep.len) ? errno : 0;
	if (err != ECONNREFUSED)
		fail("connect() to an unused port was not refused");
	if (listen(lfd, 16))
		die("listen");
	port = port_of(lfd);
	fflush(stdout);
	client = fork();
	if (client < 0)
		die("fork");
	if (client == 0) {
		cfd = connect_to(addr, port, &err);
		if (err)
			fail("connect to the listener");
		if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("SO_LINGER");
		sleep_ms(50);
		close(cfd);
		_exit(0);
	}
	if (reap(client, 5000))
		fail("client");
	sleep_ms(50);
	printf("{\"server_pid\":%d,\"client_pid\":%d,\"server_port\":%d,\"connect_errno\":\"%s\"}\n",
	       getpid(), client, port, errno_name(ECONNREFUSED));
	close(lfd);
	return 0;
}

/*
 * reconnect-closed ADDR: a connection is set up, the server writes a byte
 * the client reads, the client aborts (SO_LINGER {1, 0}), the server closes
 * its end and the listener, and a new socket bound
 * to the old client port connects to the old server port again: the same
 * 4-tuple, and now nothing listens. Its SYN is reset; that attempt is no
 * segment of the closed connection, whose owner it must not be given.
 */
static int cmd_reconnect_closed(const char *addr)
{
	int sport, lfd = listener(addr, &sport), cfd, afd, nfd, err, cport;
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	struct endpoint ep;
	char c;

	cfd = connect_to(addr, sport, &err);
	if (err) {
		errno = err;
		die("connect");
	}
	afd = accept_one(lfd);
	cport = port_of(cfd);
	/* the server's write makes it the owner of its end, kept by 4-tuple once closed */
	write_msg(afd, "x", 1);
	read_msg(cfd, &c, 1, 5000);
	if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
		die("setsockopt SO_LINGER");
	close(cfd);
	wait_readable(afd);
	close(afd);
	close(lfd);
	ep = parse_addr(addr, cport);
	nfd = socket(ep.ss.ss_family, SOCK_STREAM, 0);
	if (nfd < 0)
		die("socket");
	set_int(nfd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (bind(nfd, (struct sockaddr *)&ep.ss, ep.len))
		die("bind to the old client port");
	ep = parse_addr(addr, sport);
	err = connect(nfd, (struct sockaddr *)&ep.ss, ep.len) ? errno : 0;
	if (err != ECONNREFUSED)
		fail("the second connect() was not refused");
	printf("{\"pid\":%d,\"client_port\":%d,\"server_port\":%d,\"errno\":\"%s\"}\n", getpid(), cport, sport,
	       errno_name(err));
	close(nfd);
	return 0;
}

/*
 * hold ADDR: a connection set up now and reset later. Prints its line at
 * once, then waits for a line on stdin (at most 10 s) before the server
 * closes with SO_LINGER {1, 0}. The client never touches its socket again,
 * so a tracer started in between can learn its owner only from /proc.
 */
static int cmd_hold(const char *addr)
{
	int sport, lfd = listener(addr, &sport), go[2], err, fd;
	struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
	char line[16];
	pid_t server;

	if (pipe(go))
		die("pipe");
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		struct pollfd p = {.fd = go[0], .events = POLLIN};
		int cfd = accept_one(lfd);
		char c;

		close(go[1]);
		if (poll(&p, 1, 10000) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("setsockopt SO_LINGER");
		close(cfd);
		_exit(0);
	}
	close(go[0]);
	fd = connect_to(addr, sport, &err);
	if (err) {
		errno = err;
		die("connect");
	}
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d}\n",
	       getpid(), server, port_of(fd), sport);
	if (poll(&in, 1, 10000) != 1 || read(STDIN_FILENO, line, sizeof(line)) < 0)
		fail("timed out waiting for a line on stdin");
	if (write(go[1], "x", 1) != 1)
		die("write");
	return reap(server, 5000) == 0 ? 0 : 1;
}

/* The subcommands that take just ADDR. */
static const struct {
	const char *name;
	int (*run)(const char *addr);
} one_addr[] = {
	{"connect-unspec", cmd_connect_unspec},
	{"kill", cmd_kill},
	{"kb-timewait", cmd_kb_timewait},
	{"kb-finwait1", cmd_kb_finwait1},
	{"shutdown-rdwr", cmd_shutdown_rdwr},
	{"linger2", cmd_linger2},
	{"ack-listener", cmd_ack_listener},
	{"self-pair", cmd_self_pair},
	{"hold", cmd_hold},
	{"listen-after-refused", cmd_listen_after_refused},
	{"reconnect-closed", cmd_reconnect_closed},
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		usage();
	const char *cmd = argv[1], *addr = argv[2];

	if (!strcmp(cmd, "refused") && argc == 4)
		return cmd_refused(addr, atoi(argv[3]), 1);
	if (!strcmp(cmd, "burst") && argc == 5)
		return cmd_refused(addr, atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(cmd, "unread-close") && argc == 3)
		return client_reset(addr, "HTTP/1.1 200 OK\r\n", 0);
	if (!strcmp(cmd, "linger0") && argc == 3)
		return client_reset(addr, NULL, 1);
	if (!strcmp(cmd, "keepalive") && argc == 6)
		return cmd_keepalive(argv[2], argv[3], argv[4], argv[5]);
	for (size_t i = 0; argc == 3 && i < sizeof(one_addr) / sizeof(one_addr[0]); i++)
		if (!strcmp(cmd, one_addr[i].name))
			return one_addr[i].run(addr);
	usage();
}
