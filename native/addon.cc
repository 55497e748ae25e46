// rsttrace's native side: load and attach the BPF programs, deliver their
// records, and tell TypeScript the record layout and the kernel's names.
#include <napi.h>

#include "kernel_names.h"
#include "layout.h"
#include "libbpf_log.h"
#include "read_file.h"
#include "syscalls.h"
#include "tracer.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LibbpfLogInstall();
  exports.Set("Tracer", Tracer::Init(env));
  exports.Set("layout", RecordLayout(env));
  exports.Set("syscalls", SyscallNames(env));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo, "kernelInfo"));
  exports.Set("programs", Napi::Function::New(env, Programs, "programs"));
  exports.Set("readFile", Napi::Function::New(env, ReadFile, "readFile"));
  return exports;
}

NODE_API_MODULE(rsttrace, Init)
