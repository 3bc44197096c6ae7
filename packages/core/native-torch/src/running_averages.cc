// One step of many running averages in one call (the ddpm EMA's 86 weights, a BatchNorm's mean
// and variance):
//   out[i] = runnings[i] * keep + (values[i] * scales[i]) * take      (no scales: values[i] * take)
// with ATen's foreach ops, the float32 multiplies and add of the single-tensor kernel
// (kernels/fused/DlcvRunningAverage.ts, whose factors reach ATen as numbers too) in its order,
// so each element gets the same bits (a scale of 1 multiplies exactly); on CUDA a few
// multi-tensor launches instead of three or four a tensor. keep, take and the scales are float32
// values (the caller rounds them).
#include "torch_util.h"

namespace dlcv_torch {

// runningAverages(runnings[], values[], keep, take, scales[] | null): [out...]
static napi_value RunningAverages(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto runnings = operandsAt(a, 0), values = operandsAt(a, 1);
    size_t n = runnings.size();
    if (values.size() != n) throw JsError("runningAverages: " + std::to_string(n) + " running tensors, " + std::to_string(values.size()) + " values");
    std::vector<at::Scalar> scales;
    if (!a.isNull(4)) {
      for (double s : a.doubles(4)) scales.emplace_back(s);
      if (scales.size() != n) throw JsError("runningAverages: " + std::to_string(scales.size()) + " scales for " + std::to_string(n) + " values");
    }
    return queueOps(a.env, "runningAverages", n, [runnings = std::move(runnings), values = std::move(values), keep = a.num(2), take = a.num(3), scales = std::move(scales)] {
      if (runnings.empty()) return std::vector<at::Tensor>{};  // ATen's foreach ops refuse empty lists
      std::vector<at::Tensor> r = tensorsOf(runnings), v = tensorsOf(values);
      for (size_t i = 0; i < r.size(); ++i)
        if (!r[i].sizes().equals(v[i].sizes())) throw JsError("tensor " + std::to_string(i) + " and its value differ in shape");  // submit prefixes the op's name
      std::vector<at::Tensor> taken;
      if (scales.empty()) {
        taken = at::_foreach_mul(v, at::Scalar(take));
      } else {
        taken = at::_foreach_mul(v, scales);
        at::_foreach_mul_(taken, at::Scalar(take));
      }
      std::vector<at::Tensor> out = at::_foreach_mul(r, at::Scalar(keep));
      at::_foreach_add_(out, taken);
      return out;
    });
  });
}

void registerRunningAverages(napi_env env, napi_value exports) { define(env, exports, {{"runningAverages", RunningAverages}}); }

}  // namespace dlcv_torch
