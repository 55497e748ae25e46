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
static_assert(RST_RECORD_HEAD_BYTES == offsetof(struct rst_event, kstack), "a record without a stack ends where kstack starts");
static_assert(offsetof(struct rst_event, owner) % 8 == 0, "owner must be 8-byte aligned");

Napi::Object RecordLayout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  Napi::Object fields = Napi::Object::New(env);

  // Nested members are exported flat: "owner.pid", "history.ts_ns".
#define FIELD(name)                                                                   \
  do {                                                                                \
    Napi::Object f = Napi::Object::New(env);                                          \
    f.Set("offset", Napi::Number::New(env, offsetof(struct rst_event, name)));        \
    f.Set("size", Napi::Number::New(env, sizeof(((struct rst_event *)0)->name)));     \
    fields.Set(#name, f);                                                             \
  } while (0)
  FIELD(ts_ns);
  FIELD(sock_cookie);
  FIELD(sock_ino);
  FIELD(netns_ino);
  FIELD(cpu);
  FIELD(pid);
  FIELD(tid);
  FIELD(reason);
  FIELD(syscall_nr);
  FIELD(err);
  FIELD(family);
  FIELD(lport);
  FIELD(rport);
  FIELD(kind);
  FIELD(state);
  FIELD(flags);
  FIELD(seg_tcp_flags);
  FIELD(sk_shutdown);
  FIELD(owner_source);
  FIELD(seg_window);
  FIELD(seg_seq);
  FIELD(seg_ack);
  FIELD(seg_payload_bytes);
  FIELD(rcv_unread_bytes);
  FIELD(snd_unsent_bytes);
  FIELD(snd_unacked_bytes);
  FIELD(linger_sec);
  FIELD(laddr);
  FIELD(raddr);
  FIELD(comm);
  FIELD(owner.seen_ns);
  FIELD(owner.closed_ns);
  FIELD(owner.cgroup_id);
  FIELD(owner.pid);
  FIELD(owner.tid);
  FIELD(owner.uid);
  FIELD(owner.syscall_nr);
  FIELD(owner.comm);
  FIELD(history.ts_ns);
  FIELD(history.old_state);
  FIELD(history.new_state);
  FIELD(history.count);
  FIELD(kstack_bytes);
  FIELD(stack_key);
  FIELD(kstack);
#undef FIELD

  Napi::Object constants = Napi::Object::New(env);
#define CONST(name) constants.Set(#name, Napi::Number::New(env, name))
  CONST(RST_KIND_SEND);
  CONST(RST_KIND_RECV);
  CONST(RST_KIND_ERRNO);
  CONST(RST_F_SOCK);
  CONST(RST_F_SEGMENT);
  CONST(RST_F_REASON);
  CONST(RST_F_FULLSOCK);
  CONST(RST_F_KTHREAD);
  CONST(RST_F_LINGER);
  CONST(RST_F_TARGET_LISTENER);
  CONST(RST_F_STACK_REUSED);
  CONST(RST_OWNER_NONE);
  CONST(RST_OWNER_SOCKET);
  CONST(RST_OWNER_TUPLE);
  CONST(RST_STACK_DEPTH);
  CONST(RST_COMM_LEN);
  CONST(RST_HISTORY_LEN);
#undef CONST

  layout.Set("recordSize", Napi::Number::New(env, sizeof(struct rst_event)));
  layout.Set("fields", fields);
  layout.Set("constants", constants);
  return layout;
}
