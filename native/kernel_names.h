// Names that belong to the running kernel, read from its BTF rather than
// hard-coded: enum sk_rst_reason was renumbered between 6.10 and 6.12.
#pragma once
#include <napi.h>

// { reasons: {value: name}, states: {value: name}, tracepoints: {name: bool} }
Napi::Value KernelInfo(const Napi::CallbackInfo &info);
