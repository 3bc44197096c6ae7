// Batch norm (inference form, training form and its backward) and GroupNorm (forward and
// backward) on ATen's native kernels. Channels are the last axis (NHWC, or [N, C]).
#include "torch_util.h"

namespace dlcv_torch {

static at::Tensor perChannel(const at::Tensor& t) { return t.defined() ? t.reshape({-1}) : t; }

// [n, h, w, c] as an NCHW view (channels-last strides: ATen's vectorised channels-last batch
// norm kernels), anything else as [rows, c].
static at::Tensor channelsAxis1(const at::Tensor& x) {
  return x.dim() == 4 ? x.permute({0, 3, 1, 2}) : x.reshape({-1, x.size(-1)});
}
static at::Tensor channelsAxisLast(const at::Tensor& t, at::IntArrayRef shape) {
  return t.dim() == 4 ? t.permute({0, 2, 3, 1}) : t.view(shape);
}

// batchNorm(x, mean, variance, scale | null, offset | null, eps): the given statistics, in
// ATen's inference batch norm: one kernel over x (on CUDA, where a sampling forward is bound by
// the GPU's memory traffic, instead of four elementwise passes).
static napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "batchNorm", [xIn = operandAt(a, 0), mean = operandAt(a, 1), variance = operandAt(a, 2), scale = operandAt(a, 3, true),
                                        offset = operandAt(a, 4, true), eps = a.num(5)] {
      const at::Tensor& x = xIn.get();
      auto r = at::native_batch_norm(channelsAxis1(x), perChannel(scale.get()), perChannel(offset.get()), perChannel(mean.get()), perChannel(variance.get()),
                                     /*training=*/false, 0.0, eps);
      return channelsAxisLast(std::get<0>(r), x.sizes());
    });
  });
}

// batchNormTrain(x, scale, offset, eps): [y, mean, biased variance, 1 / std] over all but the last axis.
static napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOps(a.env, "batchNormTrain", 4, [xIn = operandAt(a, 0), scale = operandAt(a, 1), offset = operandAt(a, 2), eps = a.num(3)] {
      const at::Tensor& x = xIn.get();
      auto r = at::native_batch_norm(channelsAxis1(x), perChannel(scale.get()), perChannel(offset.get()), {}, {}, true, 0.0, eps);
      const at::Tensor& invStd = std::get<2>(r);
      at::Tensor variance = invStd.pow(-2) - eps;
      return std::vector<at::Tensor>{channelsAxisLast(std::get<0>(r), x.sizes()), std::get<1>(r), variance, invStd};
    });
  });
}

// batchNormTrainGrad(dy, x, scale, mean, invStd): [dx, dscale, doffset]
static napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOps(a.env, "batchNormTrainGrad", 3, [dy = operandAt(a, 0), xIn = operandAt(a, 1), scale = operandAt(a, 2), mean = operandAt(a, 3), invStd = operandAt(a, 4)] {
      const at::Tensor& x = xIn.get();
      auto r = at::native_batch_norm_backward(channelsAxis1(dy.get()), channelsAxis1(x), perChannel(scale.get()), {}, {}, mean.get(), invStd.get(), true,
                                              0.0, {true, true, true});
      return std::vector<at::Tensor>{channelsAxisLast(std::get<0>(r), x.sizes()), std::get<1>(r), std::get<2>(r)};
    });
  });
}

// [n, ..., c] as the contiguous [n, c, s] that ATen's GroupNorm kernels take.
static at::Tensor channelsFirst(const at::Tensor& x) {
  return x.reshape({x.size(0), -1, x.size(-1)}).permute({0, 2, 1}).contiguous();
}
static at::Tensor channelsLast(const at::Tensor& t, at::IntArrayRef shape) { return t.permute({0, 2, 1}).reshape(shape); }

// groupNorm(x, scale, offset, groups, eps): [y, mean, 1 / std], the statistics [n, groups].
static napi_value GroupNorm(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOps(a.env, "groupNorm", 3, [xIn = operandAt(a, 0), scale = operandAt(a, 1), offset = operandAt(a, 2), groups = a.i64(3), eps = a.num(4)] {
      const at::Tensor& x = xIn.get();
      at::Tensor X = channelsFirst(x);
      int64_t n = X.size(0), c = X.size(1), s = X.size(2);
      auto r = at::native_group_norm(X, perChannel(scale.get()), perChannel(offset.get()), n, c, s, groups, eps);
      return std::vector<at::Tensor>{channelsLast(std::get<0>(r), x.sizes()), std::get<1>(r).view({n, -1}), std::get<2>(r).view({n, -1})};
    });
  });
}

// groupNormGrad(dy, x, scale, mean, invStd, groups): [dx, dscale, doffset]
static napi_value GroupNormGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOps(a.env, "groupNormGrad", 3,
                    [dy = operandAt(a, 0), xIn = operandAt(a, 1), scale = operandAt(a, 2), mean = operandAt(a, 3), invStd = operandAt(a, 4), groups = a.i64(5)] {
                      const at::Tensor& x = xIn.get();
                      at::Tensor X = channelsFirst(x), DY = channelsFirst(dy.get());
                      int64_t n = X.size(0), c = X.size(1), s = X.size(2);
                      auto r = at::native_group_norm_backward(DY, X, mean.get(), invStd.get(), perChannel(scale.get()), n, c, s, groups, {true, true, true});
                      return std::vector<at::Tensor>{channelsLast(std::get<0>(r), x.sizes()), std::get<1>(r), std::get<2>(r)};
                    });
  });
}

void registerNorm(napi_env env, napi_value exports) {
  define(env, exports,
         {{"batchNorm", BatchNorm},
          {"batchNormTrain", BatchNormTrain},
          {"batchNormTrainGrad", BatchNormTrainGrad},
          {"groupNorm", GroupNorm},
          {"groupNormGrad", GroupNormGrad}});
}

}  // namespace dlcv_torch
