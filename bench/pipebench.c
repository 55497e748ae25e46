// SPDX-License-Identifier: GPL-2.0
/*
 * pipebench: a syscall-heavy workload with no TCP in it, to measure what
 * rsttrace costs the rest of the machine. One process, pinned to one CPU,
 * write()s SIZE bytes into a pipe and read()s them back, ITERATIONS times:
 * nothing blocks and nothing waits for the scheduler, so the time is the
 * syscalls' own (two processes ping-ponging measured the scheduler instead:
 * runs differed 2-3x depending on where the two landed). Any program on
 * raw_syscalls:sys_exit runs on every one of these calls; rsttrace's socket
 * tracepoints never fire.
 *
 * -t: the same over a TCP connection on loopback (write on one end, read on
 * the other): a bystander whose every call passes sock:sock_send_length or
 * sock:sock_recv_length, where rsttrace notes socket owners.
 *
 *   pipebench [-t] [-n ITERATIONS] [-s SIZE] [-c CPU]
 *
 * Prints one JSON line: {"ops":N,"seconds":S,"ops_per_s":R} where ops counts
 * the writes and the reads.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* fds[1] -> fds[0]: a connected TCP pair over 127.0.0.1, like pipe(). */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fds[0] = accept(l, NULL, NULL);
	fds[1] = c;
	close(l);
	/* each write its own segment, at once, as a chatty protocol would */
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fds[0] < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long iterations = 1000000;
	size_t size = 64;
	long cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	char buf[4096] = { 0 };
	int fds[2], opt, tcp = 0;

	while ((opt = getopt(argc, argv, "tn:s:c:")) != -1) {
		switch (opt) {
		case 't': tcp = 1; break;
		case 'n': iterations = strtoull(optarg, NULL, 10); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'c': cpu = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: pipebench [-t] [-n ITERATIONS] [-s SIZE] [-c CPU]\n");
			return 2;
		}
	}
	if (size == 0 || size > sizeof(buf) || (tcp ? tcp_pair(fds) : pipe(fds)) != 0) {
		perror("pipebench");
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("pipebench: sched_setaffinity (running unpinned)");

	double start = now_s();
	for (unsigned long long i = 0; i < iterations; i++)
		if (write(fds[1], buf, size) != (ssize_t)size || read(fds[0], buf, size) != (ssize_t)size) {
			perror("pipebench");
			return 1;
		}
	double secs = now_s() - start;
	unsigned long long ops = 2 * iterations;
	printf("{\"ops\":%llu,\"seconds\":%.6f,\"ops_per_s\":%.0f}\n", ops, secs, ops / secs);
	return 0;
}
