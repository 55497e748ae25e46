#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "libbpf_log.h"
#include "rsttrace.h"
#include "rsttrace.skel.h"
#include "config.h"
#include "syscalls.h"

namespace {
// Polling pauses this long after each delivery so that a storm is handed to
// JavaScript in large batches rather than one wake-up per record.
constexpr uint64_t kResumeDelayMs = 1;
// One Buffer holds at most this much (about 160 records); the rest waits for
// the next turn of the loop. Small enough that a batch's events die young in
// V8's capped new space (1 MiB batches got promoted mid-batch: 39 vs 26 us of
// CPU a record at full rate), large enough to batch.
constexpr size_t kMaxBatchBytes = 128u << 10;
// OnSample's "batch full" return value, told apart from libbpf's own errors.
constexpr int kBatchFull = -ENOBUFS;

void FreeHandle(uv_handle_t *handle) { delete handle; }

template <typename T>
void CloseHandle(T *&handle) {
  if (!handle) return;
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t *>(handle), FreeHandle);
  handle = nullptr;
}
}  // namespace

Napi::Function Tracer::Init(Napi::Env env) {
  return DefineClass(env, "Tracer",
                     {
                         InstanceMethod<&Tracer::Start>("start"),
                         InstanceMethod<&Tracer::Drain>("drain"),
                         InstanceMethod<&Tracer::Stats>("stats"),
                         InstanceMethod<&Tracer::Close>("close"),
                         InstanceMethod<&Tracer::AddTargets>("addTargets"),
                         InstanceMethod<&Tracer::AddTargetInodes>("addTargetInodes"),
                         InstanceMethod<&Tracer::AddTargetPorts>("addTargetPorts"),
                         InstanceMethod<&Tracer::Targets>("targets"),
                     });
}

Tracer::Tracer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Tracer>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    RstError(env, "EINVAL", "new Tracer(config): config object expected").ThrowAsJavaScriptException();
    return;
  }
  Napi::Object config = info[0].As<Napi::Object>();
  Napi::Value ring = config.Get("ringBufferBytes");
  if (!ring.IsNumber()) {
    RstError(env, "EINVAL", "config.ringBufferBytes: number expected").ThrowAsJavaScriptException();
    return;
  }
  Napi::Value filters = config.Get("filters");
  if (!filters.IsUndefined() && !filters.IsObject()) {
    RstError(env, "EINVAL", "config.filters: object expected").ThrowAsJavaScriptException();
    return;
  }
  Napi::Value features = config.Get("features");
  if (!features.IsUndefined() && !features.IsObject()) {
    RstError(env, "EINVAL", "config.features: object expected").ThrowAsJavaScriptException();
    return;
  }
  if (!Open(env, ring.As<Napi::Number>().Uint32Value(), filters.IsObject() ? filters.As<Napi::Object>() : Napi::Object::New(env),
            features.IsObject() ? features.As<Napi::Object>() : Napi::Object::New(env))) {
    Teardown();
    return;
  }
  napi_add_env_cleanup_hook(env, OnCleanup, this);
  cleanup_hook_ = true;
}

Tracer::~Tracer() { Teardown(); }

bool Tracer::Open(Napi::Env env, uint32_t ring_bytes, Napi::Object filters, Napi::Object features) {
  LibbpfLogClear();
  skel_ = rsttrace_bpf__open();
  if (!skel_) {
    ErrnoError(env, "open BPF object", errno, LibbpfLogTail()).ThrowAsJavaScriptException();
    return false;
  }
  int err = bpf_map__set_max_entries(skel_->maps.events, ring_bytes);
  if (err) {
    ErrnoError(env, "size ring buffer to " + std::to_string(ring_bytes) + " bytes", -err)
        .ThrowAsJavaScriptException();
    return false;
  }
  SetSyscallNumbers(skel_);
  std::string bad = ApplyFilters(skel_, filters);
  if (!bad.empty()) {
    RstError(env, "EINVAL", "config.filters." + bad).ThrowAsJavaScriptException();
    return false;
  }
  bad = ApplyFeatures(skel_, features);
  if (!bad.empty()) {
    RstError(env, "EINVAL", "config.features." + bad).ThrowAsJavaScriptException();
    return false;
  }
  err = rsttrace_bpf__load(skel_);
  if (err) {
    ErrnoError(env, "load BPF programs", -err, LibbpfLogTail()).ThrowAsJavaScriptException();
    return false;
  }
  // Attach one by one so that the error names the hook that failed.
  bpf_program *prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link *link = bpf_program__attach(prog);
    if (!link) {
      ErrnoError(env, std::string("attach ") + bpf_program__section_name(prog), errno, LibbpfLogTail())
          .ThrowAsJavaScriptException();
      return false;
    }
    links_.push_back(link);
  }
  ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), OnSample, this, nullptr);
  if (!ring_) {
    ErrnoError(env, "open ring buffer", errno).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value Tracer::Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!ring_) {
    RstError(env, "ECLOSED", "start: tracer is closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (poll_) {
    RstError(env, "EALREADY", "start: already started").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 1 || !info[0].IsFunction()) {
    RstError(env, "EINVAL", "start(onRecords): function expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  on_records_ = Napi::Persistent(info[0].As<Napi::Function>());

  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  resume_timer_ = new uv_timer_t;
  int err = uv_poll_init(loop, poll_, ring_buffer__epoll_fd(ring_));
  if (err == 0) err = uv_timer_init(loop, resume_timer_);
  if (err == 0) {
    poll_->data = this;
    resume_timer_->data = this;
    err = uv_poll_start(poll_, UV_READABLE, OnReadable);
  }
  if (err) {
    RstError(env, "EUV", std::string("poll ring buffer: ") + uv_strerror(err))
        .ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// Records come at two sizes: whole, or without the stack area when no stack
// was walked (RST_RECORD_HEAD_BYTES). Each goes on at the full size, the
// rest zero-filled: a batch is an array at one stride.
int Tracer::OnSample(void *ctx, void *data, size_t size) {
  auto *self = static_cast<Tracer *>(ctx);
  const auto *bytes = static_cast<const uint8_t *>(data);
  if (size > sizeof(struct rst_event)) size = sizeof(struct rst_event);
  self->batch_.insert(self->batch_.end(), bytes, bytes + size);
  self->batch_.resize(self->batch_.size() + (sizeof(struct rst_event) - size), 0);
  return self->batch_.size() >= kMaxBatchBytes ? kBatchFull : 0;
}

bool Tracer::ConsumeBatch() {
  batch_.clear();
  int n = ring_buffer__consume(ring_);
  return n == kBatchFull;
}

void Tracer::Deliver() {
  if (batch_.empty()) return;
  Napi::HandleScope scope(env_);
  delivered_ += batch_.size() / sizeof(struct rst_event);
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env_, batch_.data(), batch_.size());
  batch_.clear();
  on_records_.MakeCallback(env_.Global(), {buf});
  if (env_.IsExceptionPending()) {
    // A throw in the JS handler is a bug: surface it as an uncaught exception.
    Napi::Error err = env_.GetAndClearPendingException();
    napi_fatal_exception(env_, err.Value());
  }
}

void Tracer::OnReadable(uv_poll_t *handle, int status, int events) {
  auto *self = static_cast<Tracer *>(handle->data);
  if (!self || !self->ring_) return;
  bool more = self->ConsumeBatch();
  self->Deliver();
  // The handler may have closed the tracer.
  if (!self->poll_) return;
  uv_poll_stop(self->poll_);
  uv_timer_start(self->resume_timer_, OnResume, more ? 0 : kResumeDelayMs, 0);
}

void Tracer::OnResume(uv_timer_t *handle) {
  auto *self = static_cast<Tracer *>(handle->data);
  if (!self || !self->poll_) return;
  uv_poll_start(self->poll_, UV_READABLE, OnReadable);
}

Napi::Value Tracer::Drain(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!ring_ || on_records_.IsEmpty()) return Napi::Number::New(env, 0);
  uint64_t before = delivered_;
  bool more;
  do {
    more = ConsumeBatch();
    Deliver();
  } while (more && ring_);
  return Napi::Number::New(env, static_cast<double>(delivered_ - before));
}

Napi::Value Tracer::Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object stats = Napi::Object::New(env);
  uint64_t events = 0, drops = 0, misses = 0, filtered = 0, target_drops = 0;
  if (skel_) {
    int ncpu = libbpf_num_possible_cpus();
    std::vector<struct rst_counters> per_cpu(ncpu > 0 ? ncpu : 1);
    __u32 key = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &key, per_cpu.data()) == 0) {
      for (const auto &c : per_cpu) {
        events += c.events;
        drops += c.ringbuf_drops;
        filtered += c.filtered;
        target_drops += c.target_drops;
      }
    }
    // A program that fires while the same program runs on this CPU is skipped
    // by the kernel and counted here: also a lost event.
    bpf_program *prog;
    bpf_object__for_each_program(prog, skel_->obj) {
      if (bpf_program__fd(prog) < 0) continue;
      struct bpf_prog_info pinfo;
      memset(&pinfo, 0, sizeof(pinfo));
      __u32 len = sizeof(pinfo);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pinfo, &len) == 0)
        misses += pinfo.recursion_misses;
    }
  }
  stats.Set("submitted", Napi::Number::New(env, static_cast<double>(events)));
  stats.Set("delivered", Napi::Number::New(env, static_cast<double>(delivered_)));
  stats.Set("ringbufDrops", Napi::Number::New(env, static_cast<double>(drops)));
  stats.Set("recursionMisses", Napi::Number::New(env, static_cast<double>(misses)));
  stats.Set("filtered", Napi::Number::New(env, static_cast<double>(filtered)));
  stats.Set("targetDrops", Napi::Number::New(env, static_cast<double>(target_drops)));
  return stats;
}

Napi::Value Tracer::Close(const Napi::CallbackInfo &info) {
  Teardown();
  return info.Env().Undefined();
}

void Tracer::Teardown() {
  CloseHandle(poll_);
  CloseHandle(resume_timer_);
  if (ring_) {
    ring_buffer__free(ring_);
    ring_ = nullptr;
  }
  for (bpf_link *link : links_) bpf_link__destroy(link);
  links_.clear();
  if (skel_) {
    rsttrace_bpf__destroy(skel_);  // closes programs and maps
    skel_ = nullptr;
  }
  if (!on_records_.IsEmpty()) on_records_.Reset();
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, OnCleanup, this);
    cleanup_hook_ = false;
  }
}

void Tracer::OnCleanup(void *self) { static_cast<Tracer *>(self)->Teardown(); }

namespace {
// The numbers of info[0], an array, or an error thrown and false.
bool NumberList(const Napi::CallbackInfo &info, const char *what, std::vector<double> *out) {
  if (info.Length() < 1 || !info[0].IsArray()) {
    RstError(info.Env(), "EINVAL", std::string(what) + ": array expected").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array list = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsNumber()) {
      RstError(info.Env(), "EINVAL", std::string(what) + ": numbers expected").ThrowAsJavaScriptException();
      return false;
    }
    out->push_back(v.As<Napi::Number>().DoubleValue());
  }
  return true;
}
}  // namespace

Napi::Value Tracer::AddTargets(const Napi::CallbackInfo &info) {
  std::vector<double> pids;
  if (!skel_ || !NumberList(info, "addTargets(pids)", &pids)) return info.Env().Undefined();
  __u8 one = 1;
  for (double p : pids) {
    __u32 pid = static_cast<__u32>(p);
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.targets), &pid, &one, BPF_ANY)) {
      ErrnoError(info.Env(), "add target pid " + std::to_string(pid), errno).ThrowAsJavaScriptException();
      break;
    }
  }
  return info.Env().Undefined();
}

// addTargetInodes([inode, tgid, inode, tgid, ...])
Napi::Value Tracer::AddTargetInodes(const Napi::CallbackInfo &info) {
  std::vector<double> pairs;
  if (!skel_ || !NumberList(info, "addTargetInodes(pairs)", &pairs)) return info.Env().Undefined();
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    __u64 ino = static_cast<__u64>(pairs[i]);
    __u32 pid = static_cast<__u32>(pairs[i + 1]);
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.target_inodes), &ino, &pid, BPF_ANY)) {
      ErrnoError(info.Env(), "add target socket inode", errno).ThrowAsJavaScriptException();
      break;
    }
  }
  return info.Env().Undefined();
}

// addTargetPorts([netns inode, port, tgid, ...]): ports targets listen on.
Napi::Value Tracer::AddTargetPorts(const Napi::CallbackInfo &info) {
  std::vector<double> triples;
  if (!skel_ || !NumberList(info, "addTargetPorts(triples)", &triples)) return info.Env().Undefined();
  for (size_t i = 0; i + 2 < triples.size(); i += 3) {
    struct rst_listen_port key = {};
    key.netns_ino = static_cast<__u32>(triples[i]);
    key.port = static_cast<__u16>(triples[i + 1]);
    __u32 pid = static_cast<__u32>(triples[i + 2]);
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.target_ports), &key, &pid, BPF_ANY)) {
      ErrnoError(info.Env(), "add target listening port", errno).ThrowAsJavaScriptException();
      break;
    }
  }
  return info.Env().Undefined();
}

// The tgids being traced now: those given and the children followed.
Napi::Value Tracer::Targets(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!skel_) return out;
  int fd = bpf_map__fd(skel_->maps.targets);
  __u32 key, next;
  __u32 *prev = nullptr;
  uint32_t n = 0;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    out.Set(n++, Napi::Number::New(env, next));
    key = next;
    prev = &key;
  }
  return out;
}
