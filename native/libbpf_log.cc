#include "libbpf_log.h"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <deque>

namespace {
constexpr size_t kMaxLines = 60;
std::deque<std::string> lines;

int OnPrint(enum libbpf_print_level level, const char *format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), format, args);
  if (n <= 0) return 0;
  std::string line(buf);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  lines.push_back(line);
  if (lines.size() > kMaxLines) lines.pop_front();
  return n;
}
}  // namespace

void LibbpfLogInstall() { libbpf_set_print(OnPrint); }

void LibbpfLogClear() { lines.clear(); }

std::string LibbpfLogTail() {
  std::string out;
  for (const auto &l : lines) {
    if (!out.empty()) out += "\n";
    out += "libbpf: " + l;
  }
  return out;
}
