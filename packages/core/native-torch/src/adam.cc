// One Adam step for a list of variables in one call, with tfjs's AdamOptimizer arithmetic:
//   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,
//   x' = x - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
// where b1^t, b2^t are the optimizer's accBeta1/2 (0-d tensors on the device, so nothing is
// read back to the host). New tensors are returned: tfjs variables may share their storage.
#include "torch_util.h"

namespace dlcv_torch {

// adam(values[], grads[], ms[], vs[], accBeta1, accBeta2, lr, beta1, beta2, eps):
// [x'..., m'..., v'..., accBeta1 * beta1, accBeta2 * beta2]
static napi_value Adam(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto xs = tensorsAt(a, 0), gs = tensorsAt(a, 1), ms = tensorsAt(a, 2), vs = tensorsAt(a, 3);
    at::Tensor acc1 = tensorAt(a, 4), acc2 = tensorAt(a, 5);
    double lr = a.num(6), beta1 = a.num(7), beta2 = a.num(8), eps = a.num(9);
    size_t n = xs.size();
    if (gs.size() != n || ms.size() != n || vs.size() != n) throw JsError("adam: lists of different lengths");
    at::Tensor omb1 = at::rsub(acc1, 1.0), omb2 = at::rsub(acc2, 1.0);
    std::vector<at::Tensor> out(3 * n + 2);
    for (size_t i = 0; i < n; ++i) {
      at::Tensor m = at::mul(ms[i], beta1).add_(gs[i], 1.0 - beta1);
      at::Tensor v = at::mul(vs[i], beta2).addcmul_(gs[i], gs[i], 1.0 - beta2);
      at::Tensor step = at::div(m, omb1).div_(at::div(v, omb2).sqrt_().add_(eps)).mul_(-lr);
      out[i] = step.add_(xs[i]);
      out[n + i] = m;
      out[2 * n + i] = v;
    }
    out[3 * n] = at::mul(acc1, beta1);
    out[3 * n + 1] = at::mul(acc2, beta2);
    return wrapAll(a.env, out);
  });
}

void registerAdam(napi_env env, napi_value exports) { define(env, exports, {{"adam", Adam}}); }

}  // namespace dlcv_torch
