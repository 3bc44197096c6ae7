// Layout ops on ATen: transpose, tile, slice, constant pad, concat, gather, one-hot; any dtype.
#include "torch_util.h"

namespace dlcv_torch {

// transpose(x, perm)
static napi_value Transpose(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "transpose", [x = operandAt(a, 0), perm = a.ints(1)] { return x.get().permute(perm); });
  });
}
// tile(x, reps)
static napi_value Tile(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "tile", [x = operandAt(a, 0), reps = a.ints(1)] { return x.get().repeat(reps); });
  });
}
// slice(x, begin, size): a view narrowed on the axes it cuts (each narrow is 3 ATen events).
static napi_value Slice(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "slice", [in = operandAt(a, 0), begin = a.ints(1), size = a.ints(2)] {
      at::Tensor x = in.get();
      for (size_t d = 0; d < begin.size(); ++d) {
        if (begin[d] != 0 || size[d] != x.size((int64_t)d)) x = x.narrow((int64_t)d, begin[d], size[d]);
      }
      return x;
    });
  });
}
// pad(x, before, outShape, value): constant padding, `before` elements before each axis.
static napi_value Pad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "pad", [in = operandAt(a, 0), before = a.ints(1), outShape = a.ints(2), value = a.num(3)] {
      const at::Tensor& x = in.get();
      // constant_pad_nd takes [before, after] pairs from the last axis to the first.
      std::vector<int64_t> pads;
      for (int64_t d = x.dim() - 1; d >= 0; --d) {
        pads.push_back(before[d]);
        pads.push_back(outShape[d] - before[d] - x.size(d));
      }
      return at::constant_pad_nd(x, pads, value);
    });
  });
}
// concat(xs, axis)
static napi_value Concat(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "concat", [xs = operandsAt(a, 0), axis = a.i64(1)] { return at::cat(tensorsOf(xs), axis); });
  });
}

// gather(x, indices (int32), axis): x's slices at the indices along axis, the indices' shape in
// place of that axis (tfjs's GatherV2 without batch dimensions).
static napi_value Gather(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "gather", [xIn = operandAt(a, 0), idxIn = operandAt(a, 1), axis = a.i64(2)] {
      const at::Tensor &x = xIn.get(), &idx = idxIn.get();
      std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
      for (int64_t d : idx.sizes()) shape.push_back(d);
      for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
      return at::index_select(x, axis, idx.reshape({-1}).to(at::kLong)).reshape(shape);
    });
  });
}

// oneHot(indices (int32), depth, on, off, dtype): [..., depth]; an index outside [0, depth) gives
// a row of `off`, as in tfjs.
static napi_value OneHot(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "oneHot", [idxIn = operandAt(a, 0), depth = a.i64(1), onValue = a.num(2), offValue = a.num(3), dtype = scalarType(a.i64(4))] {
      const at::Tensor& idx = idxIn.get();
      at::Tensor hot = at::eq(idx.unsqueeze(-1), at::arange(depth, idx.options()));
      at::Tensor on = at::full({}, onValue, idx.options().dtype(dtype)), off = at::full({}, offValue, idx.options().dtype(dtype));
      return at::where(hot, on, off);
    });
  });
}

void registerLayout(napi_env env, napi_value exports) {
  define(env, exports,
         {{"transpose", Transpose}, {"tile", Tile}, {"slice", Slice}, {"pad", Pad}, {"concat", Concat}, {"gather", Gather}, {"oneHot", OneHot}});
}

}  // namespace dlcv_torch
