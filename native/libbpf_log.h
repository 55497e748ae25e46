// libbpf prints to stderr by default; rsttrace keeps its last lines instead
// and attaches them to the error of a step that failed (verifier log included).
#pragma once
#include <string>

void LibbpfLogInstall();
void LibbpfLogClear();
std::string LibbpfLogTail();
