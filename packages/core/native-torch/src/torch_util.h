// Tensor handles and argument helpers of the libtorch addon, and its op queue.
//
// A handle is a number naming a shared Holder (handles.cc), which owns one at::Tensor (contiguous,
// on the engine's device). Every op and read goes through the op queue (op_queue.cc): when it is on,
// one thread runs the ops in the order they were called while JavaScript goes on; a call parses
// its arguments, queues the ATen work and returns handles at once, whose tensors the op thread
// sets when it gets there. When it is off, the same work runs inside the call. Either way ATen
// sees the same calls in the same order, so results are the same bytes.
#pragma once
#include <ATen/ATen.h>
#include <node_api.h>
#include <torch/version.h>

#include <functional>
#include <memory>
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

// A handle's tensor, set and read by the op thread only (inside the call when the queue is off).
struct Holder {
  at::Tensor t;
  // Why t was not made: the failed op's name and error, set with the failure of the op that was to
  // make it (an op failing for want of an input passes on its input's, so the first failure's).
  std::shared_ptr<const std::string> failure;
  // t as a convolution weight (conv.cc's cachedConvWeight), made by the first convolution that
  // takes t as its filter and kept for the others; `convWeightChannelsLast` is the layout it was
  // made in. An op that changes t in place takes it through Operand::changedInPlace, which drops
  // it (the engine changes a tensor in place only inside the kernel that makes it, before another
  // handle can share its storage).
  at::Tensor convWeight;
  bool convWeightChannelsLast = true;
  // Releases the tensor and what was made from it.
  void release() {
    t.reset();
    convWeight.reset();
    failure.reset();
  }
};
using HolderPtr = std::shared_ptr<Holder>;

// The error of an op whose input was not made: it names the failure that left it unmade.
struct InputNotMade : JsError {
  explicit InputNotMade(std::shared_ptr<const std::string> cause)
      : JsError("an input was not made: " + (cause ? "its op failed (" + *cause + ")" : std::string("the op that makes it failed"))), cause(std::move(cause)) {}
  std::shared_ptr<const std::string> cause;
};
// A call's error that is an earlier op's failure (reported late, or what left an input of this
// call unmade), not the call's own: its JS error has the code kEarlierOpFailedCode (kernel.ts's
// EARLIER_OP_FAILED), so that the backend does not take it for a failure of the call's kernel.
struct EarlierOpFailed : JsError {
  using JsError::JsError;
};
inline constexpr const char* kEarlierOpFailedCode = "DLCV_EARLIER_OP_FAILED";

// A new handle to h.
napi_value handleOf(napi_env env, HolderPtr h);
// The Holder of handle v; an error naming `what` when v was freed or is no handle.
HolderPtr holderOf(napi_env env, napi_value v, const std::string& what);
// Removes handle v and returns its Holder; null when v was freed before, an error when v is no
// handle.
HolderPtr takeHandle(napi_env env, napi_value v, const std::string& what);
// Handles made and not yet freed.
int64_t liveHandles();

// The device new tensors are made on (CPU until setDevice("cuda")).
at::Device& device();
inline at::TensorOptions options(at::ScalarType dtype = at::kFloat) { return at::TensorOptions().dtype(dtype).device(device()); }

// An input of a queued op: its handle's Holder, whose tensor is read when the op runs.
class Operand {
 public:
  Operand() = default;
  explicit Operand(HolderPtr h) : h_(std::move(h)) {}
  // The tensor; an undefined one for an absent optional input. An error when the op that was to
  // make it failed.
  const at::Tensor& get() const;
  // The tensor, for an op that changes it in place: what was made from it (the holder's
  // convWeight) is dropped first.
  const at::Tensor& changedInPlace() const;
  // The handle's holder (null for an absent optional input), for what is kept beside its tensor.
  Holder* holder() const { return h_.get(); }

 private:
  HolderPtr h_;
};

// The operand of the handle at argument i (an absent one for null/undefined when optional).
Operand operandAt(const Args& a, size_t i, bool optional = false);
// The operands of an array of handles at argument i.
std::vector<Operand> operandsAt(const Args& a, size_t i);
// Their tensors, when the op runs.
std::vector<at::Tensor> tensorsOf(const std::vector<Operand>& operands);

// Queues an op (`name` prefixes its error) and returns a new handle to the tensor it makes.
napi_value queueOp(napi_env env, const char* name, std::function<at::Tensor()> op);
// The same for an op making `count` tensors: a JS array of `count` handles.
napi_value queueOps(napi_env env, const char* name, size_t count, std::function<std::vector<at::Tensor>()> op);
// The same for an op that changes its operands in place: returns undefined.
napi_value queueInPlace(napi_env env, const char* name, std::function<void()> op);
// Runs f after every op queued before it and waits for it (f's error is thrown here): reads,
// settings, anything that needs the op thread's results or state on the JavaScript thread.
// Untimed (`timed` false): left out of the op timing (the timing functions' own work).
void runNow(const char* name, const std::function<void()>& f, bool timed = true);
// Clears the failure of a queued op waiting to be reported when `message`, an error reported
// otherwise (an asynchronous read's), names it already.
void clearQueuedErrorNamedIn(const std::string& message);
// Runs an op's work where ops run (op_timing.cc): timed when the op timing is on, and under
// Kineto one event, dlcv::<name>, that the ATen calls it makes follow (tools/bench/aten-events.js
// groups them so).
void runTimed(const char* name, const std::function<void()>& run);
// Whether the op queue is on.
bool queueOn();
// How long the op thread polls for the next op before it sleeps, in microseconds (setQueueSpin).
int64_t queueSpin();
// Freed handles whose tensors wait for the next op queued to release them (releaseAt).
int64_t releasesWaiting();
// Releases the tensor of the handle at argument i once the ops queued before now have run (with
// the queue on, on the op thread before the next op queued runs); the handle is refused from
// then on (freeing it again does nothing).
void releaseAt(const Args& a, size_t i);

// tfjs dtype codes shared with torch/addon.ts: 0 float32, 1 int32, 2 bool.
at::ScalarType scalarType(int64_t code);

// The first line of an error's message (ATen's errors carry a C++ backtrace below it).
std::string errorLine(const std::exception& e);
// Whether e is an earlier op's failure (EarlierOpFailed, InputNotMade) rather than the call's own.
bool isEarlierFailure(const std::exception& e);

// Runs f(args) and turns C++ and ATen errors into JS errors (the first line of each): f's own,
// and a queued op's failure, which the queueing and reading helpers above throw (code
// kEarlierOpFailedCode for those, else DLCV_TORCH).
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
void registerQueue(napi_env env, napi_value exports);
void registerOpTiming(napi_env env, napi_value exports);
void registerConv(napi_env env, napi_value exports);
void registerElementwise(napi_env env, napi_value exports);
void registerReduce(napi_env env, napi_value exports);
void registerLayout(napi_env env, napi_value exports);
void registerPool(napi_env env, napi_value exports);
void registerNorm(napi_env env, napi_value exports);
void registerAdam(napi_env env, napi_value exports);
void registerRunningAverages(napi_env env, napi_value exports);
void registerProfile(napi_env env, napi_value exports);

}  // namespace dlcv_torch
