// The record layout of bpf/rsttrace.h, exported to the TypeScript decoder.
#pragma once
#include <napi.h>

Napi::Object RecordLayout(Napi::Env env);
