// Layout ops on ATen: transpose, tile, slice, constant pad, concat; any dtype.
#include "torch_util.h"

namespace dlcv_torch {

// transpose(x, perm)
static napi_value Transpose(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, tensorAt(a, 0).permute(a.ints(1))); });
}
// tile(x, reps)
static napi_value Tile(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, tensorAt(a, 0).repeat(a.ints(1))); });
}
// slice(x, begin, size)
static napi_value Slice(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor x = tensorAt(a, 0);
    auto begin = a.ints(1), size = a.ints(2);
    for (size_t d = 0; d < begin.size(); ++d) x = x.narrow((int64_t)d, begin[d], size[d]);
    return wrap(a.env, x);
  });
}
// pad(x, before, outShape, value): constant padding, `before` elements before each axis.
static napi_value Pad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor x = tensorAt(a, 0);
    auto before = a.ints(1), outShape = a.ints(2);
    // constant_pad_nd takes [before, after] pairs from the last axis to the first.
    std::vector<int64_t> pads;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      pads.push_back(before[d]);
      pads.push_back(outShape[d] - before[d] - x.size(d));
    }
    return wrap(a.env, at::constant_pad_nd(x, pads, a.num(3)));
  });
}
// concat(xs, axis)
static napi_value Concat(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, at::cat(tensorsAt(a, 0), a.i64(1))); });
}

void registerLayout(napi_env env, napi_value exports) {
  define(env, exports, {{"transpose", Transpose}, {"tile", Tile}, {"slice", Slice}, {"pad", Pad}, {"concat", Concat}});
}

}  // namespace dlcv_torch
