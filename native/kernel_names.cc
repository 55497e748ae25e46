#include "kernel_names.h"

#include <bpf/btf.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "rsttrace.h"
#include "rsttrace.skel.h"

namespace {

bool StartsWith(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

// Every enumerator of `t` into `out` as value -> name minus `prefix`.
void AddEnumerators(Napi::Env env, const struct btf *btf, const struct btf_type *t,
                    const char *prefix, Napi::Object out) {
  const struct btf_enum *e = btf_enum(t);
  for (int i = 0; i < btf_vlen(t); i++, e++) {
    const char *name = btf__name_by_offset(btf, e->name_off);
    if (!name) continue;
    if (StartsWith(name, prefix)) name += strlen(prefix);
    out.Set(Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(e->val))),
            Napi::String::New(env, name));
  }
}

// The TCP states enum is anonymous (include/net/tcp_states.h): find the enum
// that has TCP_ESTABLISHED among its enumerators.
const struct btf_type *FindTcpStates(const struct btf *btf) {
  int n = btf__type_cnt(btf);
  for (int id = 1; id < n; id++) {
    const struct btf_type *t = btf__type_by_id(btf, id);
    if (!btf_is_enum(t) || t->name_off != 0) continue;
    const struct btf_enum *e = btf_enum(t);
    for (int i = 0; i < btf_vlen(t); i++, e++) {
      const char *name = btf__name_by_offset(btf, e->name_off);
      if (name && strcmp(name, "TCP_ESTABLISHED") == 0) return t;
    }
  }
  return nullptr;
}

}  // namespace

Napi::Value KernelInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct btf *btf = btf__load_vmlinux_btf();
  if (!btf) {
    int err = errno ? errno : ENOENT;
    ErrnoError(env, "read kernel BTF (/sys/kernel/btf/vmlinux)", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  Napi::Object reasons = Napi::Object::New(env);
  Napi::Object states = Napi::Object::New(env);
  Napi::Object tracepoints = Napi::Object::New(env);
  Napi::Object functions = Napi::Object::New(env);

  int id = btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM);
  if (id > 0) AddEnumerators(env, btf, btf__type_by_id(btf, id), "SK_RST_REASON_", reasons);
  if (const struct btf_type *t = FindTcpStates(btf)) AddEnumerators(env, btf, t, "TCP_", states);

  // tp_btf attaches through the btf_trace_<name> typedef of each tracepoint;
  // which ones: the caller's list (the programs' attach points).
  if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array names = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string tp = names.Get(i).ToString();
      std::string name = "btf_trace_" + tp;
      tracepoints.Set(tp, Napi::Boolean::New(env, btf__find_by_name_kind(btf, name.c_str(), BTF_KIND_TYPEDEF) > 0));
    }
  }
  // kernel functions whose presence dates a feature (the second list)
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array names = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string fn = names.Get(i).ToString();
      functions.Set(fn, Napi::Boolean::New(env, btf__find_by_name_kind(btf, fn.c_str(), BTF_KIND_FUNC) > 0));
    }
  }
  btf__free(btf);

  result.Set("reasons", reasons);
  result.Set("states", states);
  result.Set("tracepoints", tracepoints);
  result.Set("functions", functions);
  return result;
}

Napi::Value Programs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  rsttrace_bpf *skel = rsttrace_bpf__open();
  if (!skel) {
    ErrnoError(env, "open BPF object", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  bpf_program *prog;
  bpf_object__for_each_program(prog, skel->obj) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("name", bpf_program__name(prog));
    p.Set("section", bpf_program__section_name(prog));
    out.Set(n++, p);
  }
  rsttrace_bpf__destroy(skel);
  return out;
}
