// One Adam step for a list of variables in one call, in one of two ways:
//
// foreach: tfjs's AdamOptimizer arithmetic,
//   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,
//   x' = x - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
// where b1^t, b2^t are the optimizer's accBeta1/2 (0-d float32 tensors). The caller passes 1 - b1^t
// and 1 - b2^t as float32 numbers it keeps on the host (torch/adam.ts), so a step never reads the
// device. Each line is one ATen foreach op over all variables: on CUDA a handful of multi-tensor
// kernels per op, instead of ~11 launches per variable; on the CPU ATen runs the per-tensor ops, so
// the values are those of the ops written out.
//
// fused: ATen's _fused_adam_ (PyTorch's Adam(fused=True)), the same update in one multi-tensor
// kernel that computes the bias corrections from the step number t itself, in double: the values
// differ from foreach's in the last bits. Only where the libtorch has that kernel for the
// tensors' device (CUDA since 1.13, the CPU since 2.4); fusedAdamKernels() says which.
//
// Either way new tensors are returned, with accBeta1/2's next values b^(t+1) = b^t * b: tfjs
// variables may share their storage.
#include <array>

#include <ATen/core/dispatch/Dispatcher.h>

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

// Whether this libtorch registers a _fused_adam_ kernel for the device (its dispatcher's table,
// so a CUDA build's CPU answer is the CPU kernel's). The table is filled when libtorch loads: each
// answer is looked up once, not on every step.
static bool hasFusedAdamKernel(c10::DeviceType device) {
  auto lookUp = [](c10::DispatchKey key) {
    auto op = c10::Dispatcher::singleton().findSchema({"aten::_fused_adam_", ""});
    return op && op->hasKernelForDispatchKey(key);
  };
  static const bool cuda = lookUp(c10::DispatchKey::CUDA), cpu = lookUp(c10::DispatchKey::CPU);
  return device == at::kCUDA ? cuda : cpu;
}

// [x'], [m'], [v'] for non-empty lists, by _fused_adam_ at step t. It updates its operands in
// place and takes one size and stride per variable across the four lists: it runs on contiguous
// copies of x, m and v (a multiply by 1, one multi-tensor op a list, exact) and contiguous grads.
static std::array<std::vector<at::Tensor>, 3> fusedStep(const std::vector<at::Tensor>& xs, const std::vector<at::Tensor>& gs, const std::vector<at::Tensor>& ms,
                                                        const std::vector<at::Tensor>& vs, double lr, double beta1, double beta2, double eps, double t) {
  auto contiguous = [](const std::vector<at::Tensor>& ts) {
    std::vector<at::Tensor> out;
    out.reserve(ts.size());
    for (const auto& x : ts) out.push_back(x.contiguous());
    return out;
  };
  auto copies = [&](const std::vector<at::Tensor>& ts) { return at::_foreach_mul(contiguous(ts), at::Scalar(1.0)); };
  std::vector<at::Tensor> x = copies(xs), m = copies(ms), v = copies(vs), g = contiguous(gs);
  // The kernel reads each variable's step from a float32 tensor on its device; one serves all.
  std::vector<at::Tensor> steps(xs.size(), at::scalar_tensor(t, xs[0].options()));
  at::_fused_adam_(x, g, m, v, /*max_exp_avg_sqs=*/{}, steps, lr, beta1, beta2, /*weight_decay=*/0.0, eps, /*amsgrad=*/false, /*maximize=*/false);
  return {std::move(x), std::move(m), std::move(v)};
}

// adam(values[], grads[], ms[], vs[], accBeta1, accBeta2, lr, beta1, beta2, eps, 1 - b1^t, 1 - b2^t,
// fused, t): [x'..., m'..., v'..., accBeta1 * beta1, accBeta2 * beta2]; fused 1 takes _fused_adam_
// at step t (an error where the device has no such kernel), 0 the foreach ops.
static napi_value Adam(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto xs = operandsAt(a, 0), gs = operandsAt(a, 1), ms = operandsAt(a, 2), vs = operandsAt(a, 3);
    size_t n = xs.size();
    if (gs.size() != n || ms.size() != n || vs.size() != n) throw JsError("adam: lists of different lengths");
    bool fused = a.num(12) != 0;
    // the engine's device, which setDevice's wait made visible to this thread
    c10::DeviceType engineDevice = device().type();
    if (fused && !hasFusedAdamKernel(engineDevice))
      throw JsError(std::string("adam: libtorch ") + TORCH_VERSION + " has no fused Adam kernel (_fused_adam_) for " + c10::DeviceTypeName(engineDevice, true));
    return queueOps(a.env, "adam", 3 * n + 2,
                    [xs = std::move(xs), gs = std::move(gs), ms = std::move(ms), vs = std::move(vs), acc1 = operandAt(a, 4), acc2 = operandAt(a, 5),
                     lr = a.num(6), beta1 = a.num(7), beta2 = a.num(8), eps = a.num(9), omb1 = a.num(10), omb2 = a.num(11), fused, t = a.num(13)] {
                      std::vector<at::Tensor> out;
                      out.reserve(3 * xs.size() + 2);
                      if (!xs.empty()) {  // ATen's foreach ops refuse empty lists
                        auto values = tensorsOf(xs), grads = tensorsOf(gs), firsts = tensorsOf(ms), seconds = tensorsOf(vs);
                        auto parts = fused ? fusedStep(values, grads, firsts, seconds, lr, beta1, beta2, eps, t)
                                           : foreachStep(values, grads, firsts, seconds, lr, beta1, beta2, eps, at::Scalar(omb1), at::Scalar(omb2));
                        for (auto&& part : parts) out.insert(out.end(), part.begin(), part.end());
                      }
                      out.push_back(at::mul(acc1.get(), beta1));
                      out.push_back(at::mul(acc2.get(), beta2));
                      return out;
                    });
  });
}

// fusedAdamKernels(): { cpu, cuda }, 1 where this libtorch has a _fused_adam_ kernel for the device.
static napi_value FusedAdamKernels(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    napi_value obj, v;
    check(napi_create_object(a.env, &obj), "create_object");
    for (auto [key, device] : {std::pair{"cpu", at::kCPU}, std::pair{"cuda", at::kCUDA}}) {
      check(napi_create_double(a.env, hasFusedAdamKernel(device) ? 1 : 0, &v), "create_double");
      check(napi_set_named_property(a.env, obj, key, v), "set_named_property");
    }
    return obj;
  });
}

void registerAdam(napi_env env, napi_value exports) { define(env, exports, {{"adam", Adam}, {"fusedAdamKernels", FusedAdamKernels}}); }

}  // namespace dlcv_torch
