// Names that belong to the running kernel, read from its BTF rather than
// hard-coded: enum sk_rst_reason was renumbered between 6.10 and 6.12.
#pragma once
#include <napi.h>

// kernelInfo([tracepoint...]) ->
//   { reasons: {value: name}, states: {value: name}, tracepoints: {name: bool} }
Napi::Value KernelInfo(const Napi::CallbackInfo &info);

// programs() -> [{ name, section }] of the BPF object, opened but not loaded
// (no privileges needed): what rsttrace attaches to.
Napi::Value Programs(const Napi::CallbackInfo &info);
