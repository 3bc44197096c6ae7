// The addon's op timing (setOpTiming / takeOpTimes): the time ops take where they run (the op
// thread, or the call with the queue off), by op name, when switched on: their ATen work alone,
// without the argument parsing on the JavaScript thread. A read's includes its wait for the
// device. Touched only by the thread that runs ops, and read there (through runNow).
#include <ATen/record_function.h>

#include <chrono>
#include <map>
#include <string_view>

#include "torch_util.h"

namespace dlcv_torch {

namespace {

struct OpTime {
  int64_t ops = 0;
  double ms = 0;
};
bool timingOps = false;
// By name; std::less<> finds a name without making a string of it.
using OpTimes = std::map<std::string, OpTime, std::less<>>;
OpTimes& opTimes() {
  static auto* times = new OpTimes();
  return *times;
}

}  // namespace

void runTimed(const char* name, const std::function<void()>& run) {
  RECORD_USER_SCOPE(std::string("dlcv::") + name);
  if (!timingOps) {
    run();
    return;
  }
  auto t0 = std::chrono::steady_clock::now();
  struct Record {
    const char* name;
    std::chrono::steady_clock::time_point t0;
    ~Record() {
      auto it = opTimes().find(std::string_view(name));
      if (it == opTimes().end()) it = opTimes().emplace(name, OpTime{}).first;
      OpTime& t = it->second;
      t.ops += 1;
      t.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  } record{name, t0};
  run();
}

// setOpTiming(on): time each op where it runs from now on (1) or not (0, the default); either
// way the times so far are dropped.
static napi_value SetOpTiming(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    bool on = a.num(0) != 0;
    runNow(
        "setOpTiming",
        [on] {
          timingOps = on;
          opTimes().clear();
        },
        /*timed=*/false);
    return undefinedValue(a.env);
  });
}

// takeOpTimes(): { name: [ops, ms] } of the ops run since the last take (or setOpTiming), once
// the ops queued before it have run; the totals start again from zero.
static napi_value TakeOpTimes(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    OpTimes taken;
    runNow("takeOpTimes", [&taken] { taken.swap(opTimes()); }, /*timed=*/false);
    napi_value obj;
    check(napi_create_object(a.env, &obj), "create_object");
    for (const auto& [name, t] : taken) {
      napi_value pair, ops, ms;
      check(napi_create_array_with_length(a.env, 2, &pair), "create_array");
      check(napi_create_double(a.env, (double)t.ops, &ops), "create_double");
      check(napi_create_double(a.env, t.ms, &ms), "create_double");
      check(napi_set_element(a.env, pair, 0, ops), "set_element");
      check(napi_set_element(a.env, pair, 1, ms), "set_element");
      check(napi_set_named_property(a.env, obj, name.c_str(), pair), "set_named_property");
    }
    return obj;
  });
}

void registerOpTiming(napi_env env, napi_value exports) { define(env, exports, {{"setOpTiming", SetOpTiming}, {"takeOpTimes", TakeOpTimes}}); }

}  // namespace dlcv_torch
