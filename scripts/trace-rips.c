/*
 * trace-rips: single-steps a program through ptrace, with every process it
 * forks that runs cdbg (the host binary or its sealed memfd copy; any other
 * program it execs is let go), and writes the distinct instruction
 * addresses executed within [LO, HI) to OUT, one hex address a line. A
 * developer tool for scripts/link-order.sh; single-stepping is the one exact
 * way to list the executed functions here (no hardware counters in these
 * VMs, and fault-around hides page-level access).
 *
 * Usage: trace-rips LO HI OUT PROGRAM [ARG...]   (LO, HI in hex)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define HBITS 24
static uint64_t *tab;

static void add(uint64_t a)
{
	size_t h = (a * 0x9E3779B97F4A7C15ull) >> (64 - HBITS);
	while (tab[h]) {
		if (tab[h] == a)
			return;
		h = (h + 1) & ((1u << HBITS) - 1);
	}
	tab[h] = a;
}

/* Whether process `pid` runs cdbg (its executable's name says so). */
static int runs_cdbg(pid_t pid)
{
	char link[64], exe[4096];
	snprintf(link, sizeof link, "/proc/%d/exe", pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	if (n < 0)
		return 0;
	exe[n] = 0;
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "cdbg", 4) == 0 || strstr(exe, "memfd:cdbg") != NULL;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: trace-rips LO HI OUT PROGRAM [ARG...]\n");
		return 2;
	}
	uint64_t lo = strtoull(argv[1], 0, 16), hi = strtoull(argv[2], 0, 16);
	tab = calloc(1u << HBITS, sizeof *tab);
	pid_t p = fork();
	if (p == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execv(argv[4], argv + 4);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	ptrace(PTRACE_SETOPTIONS, p, 0,
	       PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC);
	ptrace(PTRACE_SINGLESTEP, p, 0, 0);
	for (;;) {
		pid_t t = waitpid(-1, &st, __WALL);
		if (t < 0) {
			if (errno == EINTR)
				continue;
			break; /* no tracee left */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			continue;
		int sig = 0;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == PTRACE_EVENT_EXEC && !runs_cdbg(t)) {
			ptrace(PTRACE_DETACH, t, 0, 0);
			continue;
		}
		if (WSTOPSIG(st) == SIGTRAP || (st >> 16) != 0 || WSTOPSIG(st) == SIGSTOP) {
			/* A step, an event, or a new child's first stop. */
			struct user_regs_struct r;
			if (ptrace(PTRACE_GETREGS, t, 0, &r) == 0 && r.rip >= lo && r.rip < hi)
				add(r.rip);
		} else {
			sig = WSTOPSIG(st); /* pass other signals on */
		}
		ptrace(PTRACE_SINGLESTEP, t, 0, sig);
	}
	FILE *f = fopen(argv[3], "w");
	if (!f)
		return 1;
	for (size_t i = 0; i < (1u << HBITS); i++)
		if (tab[i])
			fprintf(f, "%lx\n", (unsigned long)tab[i]);
	return fclose(f) != 0;
}
