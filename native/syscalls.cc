#include "syscalls.h"

#include <linux/types.h>
#include <sys/syscall.h>

#include "rsttrace.h"

#include "rsttrace.skel.h"

namespace {
struct Syscall {
  long nr;
  const char *name;
};

// The syscalls a reset is made or seen through, and what else tends to be
// running when one happens. Others are shown by number.
#define S(name) {SYS_##name, #name}
const Syscall kSyscalls[] = {
    S(read),       S(write),        S(readv),       S(writev),      S(pread64),
    S(pwrite64),   S(close),        S(shutdown),    S(connect),     S(accept),
    S(accept4),    S(bind),         S(listen),      S(socket),      S(sendto),
    S(recvfrom),   S(sendmsg),      S(recvmsg),     S(sendmmsg),    S(recvmmsg),
    S(setsockopt), S(getsockopt),   S(sendfile),    S(splice),      S(poll),
    S(ppoll),      S(select),       S(pselect6),    S(epoll_wait),  S(epoll_pwait),
    S(epoll_pwait2), S(epoll_ctl),  S(io_uring_enter), S(nanosleep), S(clock_nanosleep),
    S(futex),      S(exit),         S(exit_group),  S(kill),        S(tgkill),
    S(ioctl),      S(fcntl),        S(dup2),        S(dup3),        S(execve),
    S(wait4),      S(sched_yield),  S(close_range),
};
#undef S
}  // namespace

void SetSyscallNumbers(rsttrace_bpf *skel) {
  skel->rodata->nr_close = SYS_close;
  skel->rodata->nr_shutdown = SYS_shutdown;
  skel->rodata->nr_accept = SYS_accept;
  skel->rodata->nr_accept4 = SYS_accept4;
  skel->rodata->nr_getsockopt = SYS_getsockopt;
  skel->rodata->nr_connect = SYS_connect;
  skel->rodata->nr_exit = SYS_exit;
  skel->rodata->nr_exit_group = SYS_exit_group;
  skel->rodata->nr_close_range = SYS_close_range;
  skel->rodata->nr_dup2 = SYS_dup2;
  skel->rodata->nr_dup3 = SYS_dup3;
}

Napi::Object SyscallNames(Napi::Env env) {
  Napi::Object names = Napi::Object::New(env);
  for (const auto &s : kSyscalls) names.Set(Napi::Number::New(env, s.nr), Napi::String::New(env, s.name));
  return names;
}
