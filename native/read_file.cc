// procfs hands /proc/kallsyms out a page a read (~1300 reads, ~50 ms of the
// kernel formatting symbols), and node's own fs.readFile issues those reads
// one turn of the event loop at a time: slow whenever the main thread is
// busy, as it is in a storm. This worker reads the whole file in one go on a
// pool thread, beside the main thread.
#include "read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace {

class ReadFileWorker : public Napi::AsyncWorker {
 public:
  ReadFileWorker(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env, "rsttrace:readFile"), path_(std::move(path)), deferred_(env) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      errno_ = errno;
      return;
    }
    char chunk[1 << 16];
    for (;;) {
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) errno_ = errno;
      if (n <= 0) break;
      data_.append(chunk, static_cast<size_t>(n));
    }
    close(fd);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (errno_) {
      deferred_.Reject(ErrnoError(env, "read " + path_, errno_).Value());
      return;
    }
    deferred_.Resolve(Napi::Buffer<char>::Copy(env, data_.data(), data_.size()));
  }

  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  std::string path_;
  std::string data_;
  int errno_ = 0;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value ReadFile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "readFile(path): path must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto *worker = new ReadFileWorker(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself once settled
  return promise;
}
