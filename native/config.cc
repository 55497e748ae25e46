#include "config.h"

#include <linux/types.h>

#include <cstring>

#include "rsttrace.h"
#include "rsttrace.skel.h"

namespace {

bool Number(Napi::Object o, const char *key, double *out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsNumber()) return false;
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

// [{family, prefixLen, addr: Uint8Array(16)}] into a rodata array.
std::string Cidrs(Napi::Object filters, const char *key, volatile struct rst_cidr *out, volatile __u8 *n) {
  Napi::Value v = filters.Get(key);
  if (v.IsUndefined()) return "";
  if (!v.IsArray()) return std::string(key) + ": array expected";
  Napi::Array list = v.As<Napi::Array>();
  if (list.Length() > RST_MAX_CIDRS) return std::string(key) + ": at most " + std::to_string(RST_MAX_CIDRS);
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object c = list.Get(i).As<Napi::Object>();
    Napi::Value addr = c.Get("addr");
    if (!addr.IsTypedArray() || addr.As<Napi::Uint8Array>().ElementLength() != 16)
      return std::string(key) + ": addr must be a Uint8Array of 16 bytes";
    out[i].family = c.Get("family").As<Napi::Number>().Uint32Value();
    out[i].prefix_len = c.Get("prefixLen").As<Napi::Number>().Uint32Value();
    const uint8_t *bytes = addr.As<Napi::Uint8Array>().Data();
    for (int b = 0; b < 16; b++) out[i].addr[b] = bytes[b];
  }
  *n = list.Length();
  return "";
}

}  // namespace

std::string ApplyFilters(rsttrace_bpf *skel, Napi::Object f) {
  auto *ro = skel->rodata;
  double v;
  if (f.Get("targets").IsBoolean()) ro->f_targets = f.Get("targets").As<Napi::Boolean>();
  if (f.Get("followForks").IsBoolean()) ro->f_follow_forks = f.Get("followForks").As<Napi::Boolean>();
  if (!Number(f, "family", &(v = 0))) return "family: number expected";
  ro->f_family = v;
  if (!Number(f, "kind", &(v = 0))) return "kind: number expected";
  ro->f_kind = v;
  if (!Number(f, "netns", &(v = 0))) return "netns: number expected";
  ro->f_netns = v;
  if (!Number(f, "cgroup", &(v = 0))) return "cgroup: number expected";
  ro->f_cgroup = v;

  Napi::Value reasons = f.Get("reasons");
  if (reasons.IsArray()) {
    Napi::Array list = reasons.As<Napi::Array>();
    __u64 mask = 0;
    for (uint32_t i = 0; i < list.Length(); i++) {
      uint32_t r = list.Get(i).As<Napi::Number>().Uint32Value();
      if (r >= 64) return "reasons: values below 64 expected";
      mask |= 1ULL << r;
    }
    ro->f_reasons = mask;
  }
  Napi::Value ports = f.Get("ports");
  if (ports.IsArray()) {
    Napi::Array list = ports.As<Napi::Array>();
    if (list.Length() > RST_MAX_PORTS) return "ports: at most " + std::to_string(RST_MAX_PORTS);
    for (uint32_t i = 0; i < list.Length(); i++) ro->f_ports[i] = list.Get(i).As<Napi::Number>().Uint32Value();
    ro->f_nports = list.Length();
  }
  std::string err = Cidrs(f, "laddr", ro->f_laddr, &ro->f_nladdr);
  if (err.empty()) err = Cidrs(f, "raddr", ro->f_raddr, &ro->f_nraddr);
  return err;
}

namespace {
// Sockets in connect() at once that the LRU map keeps with socket storage
// on (bpf/rsttrace.bpf.c, sk_infos): more evict the oldest's owners. The
// entries destroyed sockets leave for the next socket at their address
// share it, a few per CPU at most (bpf/rsttrace.bpf.c, gone_keys).
constexpr __u32 kConnectingSockets = 16384;

// A kernel feature is used unless declined; an opt-in only when asked for.
bool Feature(Napi::Object f, const char *key, bool absent = true) {
  Napi::Value v = f.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : absent;
}
}  // namespace

std::string ApplyFeatures(rsttrace_bpf *skel, Napi::Object f) {
  // the tracepoint's arguments differ: one of the two programs, never both
  bool reason = Feature(f, "reason");
  bpf_program__set_autoload(skel->progs.rst_send, reason);
  bpf_program__set_autoload(skel->progs.rst_send_old, !reason);
  bool sock_length = Feature(f, "sockLength");
  bpf_program__set_autoload(skel->progs.rst_own_send, sock_length);
  bpf_program__set_autoload(skel->progs.rst_own_recv, sock_length);
  skel->rodata->feat_sock_length = sock_length;
  // on every syscall of the host (+40 % on a pipe ping-pong): only when asked
  // for, and always when it is the only source of failed reads and writes
  bool syscall_hook = Feature(f, "syscallHook", false) || !sock_length;
  bpf_program__set_autoload(skel->progs.rst_sys_exit, syscall_hook);
  // socket storage needs typed socket pointers, which sys_exit (sockets
  // found by fd) has not: the LRU map then
  bool sk_storage = Feature(f, "skStorage") && !syscall_hook;
  skel->rodata->feat_sk_storage = sk_storage;
  // with socket storage, the LRU map holds only sockets in connect()
  if (sk_storage) bpf_map__set_max_entries(skel->maps.sockets, kConnectingSockets);
  skel->rodata->feat_task_regs = Feature(f, "taskRegs");
  skel->rodata->feat_socket_cookie = Feature(f, "socketCookie");
  return "";
}
