#include "layout.h"

#include <linux/types.h>
#include <cstddef>

#include "rsttrace.h"

// The ring buffer hands out 8-byte aligned records; keep them packed tight so
// a batch is an array of records at a fixed stride.
static_assert(sizeof(struct rst_event) % 8 == 0, "rst_event must be a multiple of 8 bytes");
static_assert(sizeof(struct rst_event) ==
                  offsetof(struct rst_event, kstack) + sizeof(((struct rst_event *)0)->kstack),
              "rst_event has trailing padding: make it explicit in rsttrace.h");
static_assert(offsetof(struct rst_event, kstack) % 8 == 0, "kstack must be 8-byte aligned");

Napi::Object RecordLayout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  Napi::Object fields = Napi::Object::New(env);

#define FIELD(name)                                                                   \
  do {                                                                                \
    Napi::Object f = Napi::Object::New(env);                                          \
    f.Set("offset", Napi::Number::New(env, offsetof(struct rst_event, name)));        \
    f.Set("size", Napi::Number::New(env, sizeof(((struct rst_event *)0)->name)));     \
    fields.Set(#name, f);                                                             \
  } while (0)
  FIELD(ts_ns);
  FIELD(sock_cookie);
  FIELD(netns_ino);
  FIELD(cpu);
  FIELD(pid);
  FIELD(tid);
  FIELD(reason);
  FIELD(family);
  FIELD(lport);
  FIELD(rport);
  FIELD(direction);
  FIELD(state);
  FIELD(flags);
  FIELD(seg_tcp_flags);
  FIELD(seg_window);
  FIELD(seg_seq);
  FIELD(seg_ack);
  FIELD(seg_payload_bytes);
  FIELD(laddr);
  FIELD(raddr);
  FIELD(comm);
  FIELD(kstack_bytes);
  FIELD(kstack);
#undef FIELD

  Napi::Object constants = Napi::Object::New(env);
#define CONST(name) constants.Set(#name, Napi::Number::New(env, name))
  CONST(RST_DIR_SEND);
  CONST(RST_DIR_RECV);
  CONST(RST_F_SOCK);
  CONST(RST_F_SEGMENT);
  CONST(RST_F_REASON);
  CONST(RST_STACK_DEPTH);
  CONST(RST_COMM_LEN);
#undef CONST

  layout.Set("recordSize", Napi::Number::New(env, sizeof(struct rst_event)));
  layout.Set("fields", fields);
  layout.Set("constants", constants);
  return layout;
}
