// A Tracer's config (validated in TypeScript) into the BPF object before
// load: filters into rodata, features into rodata and which programs load.
#pragma once
#include <napi.h>

#include <string>

struct rsttrace_bpf;

// Empty string on success, else what is wrong with config.filters.
std::string ApplyFilters(rsttrace_bpf *skel, Napi::Object filters);

// config.features: { reason, sockLength, taskRegs, socketCookie, skStorage }, each true
// unless the kernel lacks it or the caller forces the fallback; and
// syscallHook, the raw sys_exit program, false unless asked for. Empty string
// on success, else what is wrong.
std::string ApplyFeatures(rsttrace_bpf *skel, Napi::Object features);
