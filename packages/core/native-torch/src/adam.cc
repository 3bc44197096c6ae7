// One Adam step for a list of variables in one call, with tfjs's AdamOptimizer arithmetic:
//   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,
//   x' = x - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
// where b1^t, b2^t are the optimizer's accBeta1/2 (0-d float32 tensors, whose next values
// b^(t+1) = b^t * b the call returns). The caller passes 1 - b1^t and 1 - b2^t as float32 numbers
// it keeps on the host (torch/adam.ts), so a step never reads the device. Each line is one ATen
// foreach op over all variables: on CUDA a handful of multi-tensor kernels a step, as PyTorch's
// own Adam, instead of ~11 launches per variable; on the CPU ATen runs the per-tensor ops, so
// the values are those of the ops written out. New tensors are returned: tfjs variables may
// share their storage.
#include <array>

#include "torch_util.h"

namespace dlcv_torch {

// [x'], [m'], [v'] for non-empty lists.
static std::array<std::vector<at::Tensor>, 3> foreachStep(const std::vector<at::Tensor>& xs, const std::vector<at::Tensor>& gs, const std::vector<at::Tensor>& ms,
                                                          const std::vector<at::Tensor>& vs, double lr, double beta1, double beta2, double eps,
                                                          const at::Scalar& omb1, const at::Scalar& omb2) {
  std::vector<at::Tensor> m = at::_foreach_mul(ms, at::Scalar(beta1));
  at::_foreach_add_(m, gs, at::Scalar(1.0 - beta1));
  std::vector<at::Tensor> v = at::_foreach_mul(vs, at::Scalar(beta2));
  at::_foreach_addcmul_(v, gs, gs, at::Scalar(1.0 - beta2));
  std::vector<at::Tensor> denom = at::_foreach_div(v, omb2);
  at::_foreach_sqrt_(denom);
  at::_foreach_add_(denom, at::Scalar(eps));
  std::vector<at::Tensor> step = at::_foreach_div(m, omb1);
  at::_foreach_div_(step, denom);
  at::_foreach_mul_(step, at::Scalar(-lr));
  at::_foreach_add_(step, xs);
  return {std::move(step), std::move(m), std::move(v)};
}

// adam(values[], grads[], ms[], vs[], accBeta1, accBeta2, lr, beta1, beta2, eps, 1 - b1^t, 1 - b2^t):
// [x'..., m'..., v'..., accBeta1 * beta1, accBeta2 * beta2]
static napi_value Adam(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto xs = operandsAt(a, 0), gs = operandsAt(a, 1), ms = operandsAt(a, 2), vs = operandsAt(a, 3);
    size_t n = xs.size();
    if (gs.size() != n || ms.size() != n || vs.size() != n) throw JsError("adam: lists of different lengths");
    return queueOps(a.env, "adam", 3 * n + 2,
                    [xs = std::move(xs), gs = std::move(gs), ms = std::move(ms), vs = std::move(vs), acc1 = operandAt(a, 4), acc2 = operandAt(a, 5),
                     lr = a.num(6), beta1 = a.num(7), beta2 = a.num(8), eps = a.num(9), omb1 = a.num(10), omb2 = a.num(11)] {
                      std::vector<at::Tensor> out;
                      out.reserve(3 * xs.size() + 2);
                      if (!xs.empty()) {  // ATen's foreach ops refuse empty lists
                        auto parts = foreachStep(tensorsOf(xs), tensorsOf(gs), tensorsOf(ms), tensorsOf(vs), lr, beta1, beta2, eps, at::Scalar(omb1), at::Scalar(omb2));
                        for (auto&& part : parts) out.insert(out.end(), part.begin(), part.end());
                      }
                      out.push_back(at::mul(acc1.get(), beta1));
                      out.push_back(at::mul(acc2.get(), beta2));
                      return out;
                    });
  });
}

void registerAdam(napi_env env, napi_value exports) { define(env, exports, {{"adam", Adam}}); }

}  // namespace dlcv_torch
