// Reductions over a set of axes (the native addon's ReduceOp table) and arg-reductions on ATen.
#include "op_codes.h"
#include "torch_util.h"

namespace dlcv_torch {

using dlcv::ReduceOp;

static at::Tensor reduceOp(ReduceOp op, const at::Tensor& x, const std::vector<int64_t>& axes) {
  switch (op) {
    case ReduceOp::Sum: return at::sum(x, axes);
    case ReduceOp::Mean: return at::mean(x, axes);
    case ReduceOp::Max: return at::amax(x, axes);
    case ReduceOp::Min: return at::amin(x, axes);
    case ReduceOp::Prod: {
      // ATen's prod takes one axis at a time; the highest first keeps the lower indices valid.
      at::Tensor r = x;
      for (auto it = axes.rbegin(); it != axes.rend(); ++it) r = at::prod(r, *it);
      return r;
    }
  }
  throw JsError("unknown reduce op");
}

// reduce(op, x, axes, outShape)
static napi_value Reduce(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor r = reduceOp(static_cast<ReduceOp>(a.i64(0)), tensorAt(a, 1), a.ints(2));
    return wrap(a.env, r.reshape(a.ints(3)));
  });
}

// argReduce(isMax, x, axis, outShape): int32 indices of the first extreme value.
static napi_value ArgReduce(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor x = tensorAt(a, 1);
    int64_t axis = a.i64(2);
    at::Tensor r = a.num(0) != 0 ? at::argmax(x, axis) : at::argmin(x, axis);
    return wrap(a.env, r.to(at::kInt).reshape(a.ints(3)));
  });
}

void registerReduce(napi_env env, napi_value exports) { define(env, exports, {{"reduce", Reduce}, {"argReduce", ArgReduce}}); }

}  // namespace dlcv_torch
