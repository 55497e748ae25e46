// SPDX-License-Identifier: GPL-2.0
/*
 * rststorm: make TCP resets as fast as asked. Each iteration is socket(),
 * connect() to a port nothing listens on, close(): the kernel answers the SYN
 * with an RST (one tcp_send_reset) and the connecting socket takes it (one
 * tcp_receive_reset), so connect() fails with ECONNREFUSED.
 *
 * Meant to run inside a network namespace of its own (ip netns exec), where
 * every port of 127.0.0.1 is closed and the kernel's counters are its alone.
 *
 *   rststorm [-d SECONDS] [-n CONNECTS] [-r PER_SECOND] [-a ADDR] [-p PORT]
 *
 * -r 0 (the default) is as fast as possible; otherwise connects are paced to
 * the rate, checked every connect and slept for in 1 ms steps. Stops after
 * SECONDS or CONNECTS, whichever comes first, and prints one JSON line:
 *   {"connects":N,"refused":N,"other_errors":N,"seconds":S,"rate":R,"target_rate":R}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: rststorm [-d SECONDS] [-n CONNECTS] [-r PER_SECOND] [-a ADDR] [-p PORT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double duration_s = 0, rate = 0;
	unsigned long long max_connects = 0, connects = 0, refused = 0, other = 0;
	const char *addr = "127.0.0.1";
	int port = 9, opt;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	while ((opt = getopt(argc, argv, "d:n:r:a:p:")) != -1) {
		switch (opt) {
		case 'd': duration_s = atof(optarg); break;
		case 'n': max_connects = strtoull(optarg, NULL, 10); break;
		case 'r': rate = atof(optarg); break;
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		default: usage();
		}
	}
	if (duration_s <= 0 && max_connects == 0)
		usage();
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage();
	/* nanosleep(1 ms) should not become 1.05 ms: pacing depends on it */
	prctl(PR_SET_TIMERSLACK, 1UL);

	double start = now_s(), now = start, end = duration_s > 0 ? start + duration_s : 1e300;
	for (;;) {
		/* the clock is read every 64 connects: cheap, and ~1 ms at full speed */
		if ((connects & 63) == 0 || rate > 0) {
			now = now_s();
			if (now >= end)
				break;
		}
		if (max_connects && connects >= max_connects)
			break;
		if (rate > 0 && connects >= (now - start) * rate) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			continue;
		}
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("rststorm: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			fprintf(stderr, "rststorm: %s:%d accepted a connection: choose a closed port\n", addr, port), exit(1);
		if (errno == ECONNREFUSED)
			refused++;
		else
			other++;
		close(fd);
		connects++;
	}
	double secs = now_s() - start;
	printf("{\"connects\":%llu,\"refused\":%llu,\"other_errors\":%llu,\"seconds\":%.6f,\"rate\":%.1f,\"target_rate\":%.0f}\n",
	       connects, refused, other, secs, connects / secs, rate);
	return 0;
}
