// SPDX-License-Identifier: GPL-2.0
/*
 * pipebench: a syscall-heavy workload with no TCP in it, to measure what
 * rsttrace costs the rest of the machine. A writer process write()s
 * ITERATIONS chunks of SIZE bytes into a pipe; a reader process read()s them
 * back, SIZE bytes per call. Every syscall passes through the
 * raw_syscalls:sys_exit program rsttrace attaches, and none is about TCP.
 *
 *   pipebench [-n ITERATIONS] [-s SIZE]
 *
 * Prints one JSON line: {"ops":N,"seconds":S,"ops_per_s":R} where ops counts
 * the writes and the reads.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Exactly `size` bytes, however the pipe hands them over. */
static int read_full(int fd, char *buf, size_t size, unsigned long long *calls)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		++*calls;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long iterations = 1000000, reads = 0;
	size_t size = 64;
	char buf[4096] = { 0 };
	int fds[2], opt, status;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n': iterations = strtoull(optarg, NULL, 10); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: pipebench [-n ITERATIONS] [-s SIZE]\n");
			return 2;
		}
	}
	if (size == 0 || size > sizeof(buf) || pipe(fds) != 0)
		return 2;

	double start = now_s();
	pid_t writer = fork();
	if (writer < 0)
		return 1;
	if (writer == 0) {
		close(fds[0]);
		for (unsigned long long i = 0; i < iterations; i++)
			if (write(fds[1], buf, size) != (ssize_t)size)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	for (unsigned long long i = 0; i < iterations; i++)
		if (read_full(fds[0], buf, size, &reads) != 0) {
			fprintf(stderr, "pipebench: short read\n");
			return 1;
		}
	double secs = now_s() - start;
	if (waitpid(writer, &status, 0) != writer || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	unsigned long long ops = iterations + reads;
	printf("{\"ops\":%llu,\"seconds\":%.6f,\"ops_per_s\":%.0f}\n", ops, secs, ops / secs);
	return 0;
}
