// The filters of a Tracer's config (validated in TypeScript) into the BPF
// programs' rodata, before load.
#pragma once
#include <napi.h>

#include <string>

struct rsttrace_bpf;

// Empty string on success, else what is wrong with config.filters.
std::string ApplyFilters(rsttrace_bpf *skel, Napi::Object filters);
