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
 *
 * Server and client are separate processes (fork); the server reports what
 * its next syscall returned after the reset.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

static const char *errno_name(int err)
{
	const char *name = err ? strerrorname_np(err) : "OK";
	return name ? name : "UNKNOWN";
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
	int fd = accept(lfd, NULL, NULL);
	char buf[64];
	int err;

	if (fd < 0)
		die("accept");
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
	int sport, lfd = listener(addr, &sport), report[2], err, server_err = -1, status;

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
	if (read(report[0], &server_err, sizeof(server_err)) != sizeof(server_err))
		die("read report");
	waitpid(server, &status, 0);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"client_port\":%d,\"server_port\":%d,"
	       "\"unread_bytes\":%zu,\"server_errno\":\"%s\"}\n",
	       getpid(), server, cport, sport, greeting ? strlen(greeting) : 0, errno_name(server_err));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rstscen refused ADDR PORT | burst ADDR PORT COUNT | "
			"unread-close ADDR | linger0 ADDR\n");
	exit(2);
}

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
	usage();
}
