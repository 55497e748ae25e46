// Tracer: owns the loaded BPF skeleton and delivers its ring buffer's records
// to JavaScript on the Node event loop, one Buffer per wake-up.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

struct rsttrace_bpf;
struct ring_buffer;
struct bpf_link;

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Tracer(const Napi::CallbackInfo &info);  // new Tracer({ ringBufferBytes })
  ~Tracer() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo &info);  // start(onRecords(buffer))
  Napi::Value Drain(const Napi::CallbackInfo &info);  // deliver what is in the ring now
  Napi::Value Stats(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value AddTargets(const Napi::CallbackInfo &info);       // addTargets([tgid...])
  Napi::Value AddTargetInodes(const Napi::CallbackInfo &info);  // addTargetInodes([ino, tgid, ...])
  Napi::Value AddTargetPorts(const Napi::CallbackInfo &info);   // addTargetPorts([netns, port, tgid, ...])
  Napi::Value Targets(const Napi::CallbackInfo &info);          // targets(): tgid[]

  bool Open(Napi::Env env, uint32_t ring_bytes, Napi::Object filters, Napi::Object features);
  void Teardown();
  // Consumes up to one batch from the ring; true when the batch cap stopped it.
  bool ConsumeBatch();
  void Deliver();

  static int OnSample(void *ctx, void *data, size_t size);
  static void OnReadable(uv_poll_t *handle, int status, int events);
  static void OnResume(uv_timer_t *handle);
  static void OnCleanup(void *self);

  Napi::Env env_;
  rsttrace_bpf *skel_ = nullptr;
  std::vector<bpf_link *> links_;
  ring_buffer *ring_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  uv_timer_t *resume_timer_ = nullptr;
  Napi::FunctionReference on_records_;
  std::vector<uint8_t> batch_;
  uint64_t delivered_ = 0;
  bool cleanup_hook_ = false;
};
