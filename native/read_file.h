// A whole file read on libuv's thread pool, for the main thread to use later.
#pragma once
#include <napi.h>

// readFile(path): Promise<Buffer>, rejected with an Error whose `code` is the
// errno name.
Napi::Value ReadFile(const Napi::CallbackInfo &info);
