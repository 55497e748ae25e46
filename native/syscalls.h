// Syscall numbers of this architecture, from the C library's headers: the
// BPF programs get the ones they test as rodata, TypeScript gets the names.
#pragma once
#include <napi.h>

struct rsttrace_bpf;

void SetSyscallNumbers(rsttrace_bpf *skel);
Napi::Object SyscallNames(Napi::Env env);
