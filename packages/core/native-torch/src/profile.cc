// Kineto's profiler (what torch.profiler runs) over the ops the addon runs, for
// tools/bench/bench.js --profile-aten: ATen's ops where they run (the op thread when the queue is
// on) and, on CUDA, what each step puts on the GPU (kernels, copies, fills) with their device
// time. python/torch_reference.py's `profile` records the same events for PyTorch's step, so the
// two tables compare op for op and kernel for kernel.
#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>

#include "torch_util.h"

namespace dlcv_torch {

namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

// An event's duration in microseconds: libtorch 2.x's KinetoEvent has durationNs(), 1.13's
// durationUs() (the first overload is chosen where durationNs exists).
template <typename Event>
auto durationUs(const Event& e, int) -> decltype((double)e.durationNs()) {
  return (double)e.durationNs() / 1000.0;
}
template <typename Event>
double durationUs(const Event& e, long) {
  return (double)e.durationUs();
}
// Its start in microseconds, the same way (startNs() in 2.x, startUs() in 1.13).
template <typename Event>
auto startUs(const Event& e, int) -> decltype((double)e.startNs()) {
  return (double)e.startNs() / 1000.0;
}
template <typename Event>
double startUs(const Event& e, long) {
  return (double)e.startUs();
}

// Whether the profiler is on; touched only by the thread that runs ops (through runNow).
bool profiling = false;

}  // namespace

// startAtenProfile(): records the ops run from now on (after the ops queued before it), on the
// thread that runs them, and on CUDA the GPU's activity.
static napi_value StartAtenProfile(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    runNow(
        "startAtenProfile",
        [] {
          if (profiling) throw JsError("the profiler is already on");
          std::set<ActivityType> activities{ActivityType::CPU};
          if (device().is_cuda()) activities.insert(ActivityType::CUDA);
          ProfilerConfig config(ProfilerState::KINETO);
          profiler::prepareProfiler(config, activities);
          profiler::enableProfiler(config, activities);
          profiling = true;
        },
        /*timed=*/false);
    return undefinedValue(a.env);
  });
}

// stopAtenProfile(): the events since startAtenProfile, once the ops queued before it have run:
// [[name, onDevice (1: on the GPU, 0: on the host), microseconds, start (microseconds), thread,
//   correlation, linked correlation], ...]: an op's start and thread tell which addon op it ran
// in; on CUDA a kernel's linked correlation is the correlation of the ATen op that launched it,
// and its correlation that of the runtime call (tools/bench/aten-events.js matches them).
static napi_value StopAtenProfile(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    std::unique_ptr<profiler::ProfilerResult> result;
    runNow(
        "stopAtenProfile",
        [&result] {
          if (!profiling) throw JsError("the profiler is not on (startAtenProfile)");
          profiling = false;
          result = profiler::disableProfiler();
        },
        /*timed=*/false);
    const auto& events = result->events();
    napi_value arr;
    check(napi_create_array_with_length(a.env, events.size(), &arr), "create_array");
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      std::string name = e.name();
      napi_value row, nameValue, onDevice, us, start, thread, correlation, linked;
      check(napi_create_array_with_length(a.env, 7, &row), "create_array");
      check(napi_create_string_utf8(a.env, name.c_str(), name.size(), &nameValue), "create_string");
      check(napi_create_int32(a.env, e.deviceType() == c10::DeviceType::CPU ? 0 : 1, &onDevice), "create_int32");
      check(napi_create_double(a.env, durationUs(e, 0), &us), "create_double");
      check(napi_create_double(a.env, startUs(e, 0), &start), "create_double");
      check(napi_create_double(a.env, (double)e.startThreadId(), &thread), "create_double");
      check(napi_create_double(a.env, (double)e.correlationId(), &correlation), "create_double");
      check(napi_create_double(a.env, (double)e.linkedCorrelationId(), &linked), "create_double");
      check(napi_set_element(a.env, row, 0, nameValue), "set_element");
      check(napi_set_element(a.env, row, 1, onDevice), "set_element");
      check(napi_set_element(a.env, row, 2, us), "set_element");
      check(napi_set_element(a.env, row, 3, start), "set_element");
      check(napi_set_element(a.env, row, 4, thread), "set_element");
      check(napi_set_element(a.env, row, 5, correlation), "set_element");
      check(napi_set_element(a.env, row, 6, linked), "set_element");
      check(napi_set_element(a.env, arr, (uint32_t)i, row), "set_element");
    }
    return arr;
  });
}

void registerProfile(napi_env env, napi_value exports) {
  define(env, exports, {{"startAtenProfile", StartAtenProfile}, {"stopAtenProfile", StopAtenProfile}});
}

}  // namespace dlcv_torch
