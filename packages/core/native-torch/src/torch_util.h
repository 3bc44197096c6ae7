// Tensor handles and argument helpers of the libtorch addon. A handle is a napi external that owns
// one at::Tensor (always contiguous, on the engine's device); `free` drops the tensor at once and
// the external's finalizer deletes what is left when the JS object is collected.
#pragma once
#include <ATen/ATen.h>
#include <node_api.h>
#include <torch/version.h>

#include <functional>
#include <string>
#include <vector>

#include "napi_util.h"

// An absent optional argument. c10::optional became std::optional in libtorch 2.4 (c10's names
// stay as deprecated aliases); before that only c10::nullopt converts to it.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DLCV_NULLOPT std::nullopt
#else
#define DLCV_NULLOPT c10::nullopt
#endif

namespace dlcv_torch {

using dlcv::Args;
using dlcv::check;
using dlcv::JsError;

struct Holder {
  at::Tensor t;
};

// The device new tensors are made on (CPU until setDevice("cuda")).
at::Device& device();
inline at::TensorOptions options(at::ScalarType dtype = at::kFloat) { return at::TensorOptions().dtype(dtype).device(device()); }

// Wraps a result as a new handle (made contiguous first, so every stored tensor can be viewed).
napi_value wrap(napi_env env, const at::Tensor& t);
// The tensor of the handle at argument i; an undefined tensor for null/undefined when optional.
at::Tensor tensorAt(const Args& a, size_t i, bool optional = false);
// The tensors of an array of handles at argument i.
std::vector<at::Tensor> tensorsAt(const Args& a, size_t i);
// A JS array of handles.
napi_value wrapAll(napi_env env, const std::vector<at::Tensor>& ts);

// tfjs dtype codes shared with torch/addon.ts: 0 float32, 1 int32, 2 bool.
at::ScalarType scalarType(int64_t code);

// Runs f(args) and turns C++ and ATen errors into JS errors (first line of the message).
napi_value guarded(napi_env env, napi_callback_info info, const std::function<napi_value(const Args&)>& f);
napi_value undefinedValue(napi_env env);

struct Fn {
  const char* name;
  napi_callback cb;
};
void define(napi_env env, napi_value exports, const std::vector<Fn>& fns);

// One registration function per family file.
void initSettings();
// ATen's intra-op threads, and the BLAS's where it keeps its own pool.
void setThreads(int n);
void registerSettings(napi_env env, napi_value exports);
void registerConv(napi_env env, napi_value exports);
void registerElementwise(napi_env env, napi_value exports);
void registerReduce(napi_env env, napi_value exports);
void registerLayout(napi_env env, napi_value exports);
void registerPool(napi_env env, napi_value exports);
void registerNorm(napi_env env, napi_value exports);
void registerAdam(napi_env env, napi_value exports);

}  // namespace dlcv_torch
