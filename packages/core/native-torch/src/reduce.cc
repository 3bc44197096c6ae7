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
    return queueOp(a.env, "reduce", [op = static_cast<ReduceOp>(a.i64(0)), x = operandAt(a, 1), axes = a.ints(2), outShape = a.ints(3)] {
      return reduceOp(op, x.get(), axes).reshape(outShape);
    });
  });
}

// argReduce(isMax, x, axis, outShape): int32 indices of the first extreme value.
static napi_value ArgReduce(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "argReduce", [isMax = a.num(0) != 0, x = operandAt(a, 1), axis = a.i64(2), outShape = a.ints(3)] {
      at::Tensor r = isMax ? at::argmax(x.get(), axis) : at::argmin(x.get(), axis);
      return r.to(at::kInt).reshape(outShape);
    });
  });
}

void registerReduce(napi_env env, napi_value exports) { define(env, exports, {{"reduce", Reduce}, {"argReduce", ArgReduce}}); }

}  // namespace dlcv_torch
