// One way to fail from native code: a JS Error with `code` (an errno name
// such as "EPERM", or an rsttrace code) and a message naming the failed step.
#pragma once
#include <napi.h>
#include <cstring>
#include <string>

inline Napi::Error RstError(Napi::Env env, const char *code, const std::string &message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// `step` failed with errno `err` (positive): "load BPF programs: Operation not permitted".
inline Napi::Error ErrnoError(Napi::Env env, const std::string &step, int err,
                              const std::string &detail = "") {
  const char *name = strerrorname_np(err);
  std::string message = step + ": " + strerror(err);
  if (!detail.empty()) message += "\n" + detail;
  Napi::Error e = RstError(env, name ? name : "EUNKNOWN", message);
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}
