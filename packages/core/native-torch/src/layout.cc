// Layout ops on ATen: transpose, tile, slice, constant pad, concat, gather, one-hot; any dtype.
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

// gather(x, indices (int32), axis): x's slices at the indices along axis, the indices' shape in
// place of that axis (tfjs's GatherV2 without batch dimensions).
static napi_value Gather(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor x = tensorAt(a, 0), idx = tensorAt(a, 1);
    int64_t axis = a.i64(2);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    for (int64_t d : idx.sizes()) shape.push_back(d);
    for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
    return wrap(a.env, at::index_select(x, axis, idx.reshape({-1}).to(at::kLong)).reshape(shape));
  });
}

// oneHot(indices (int32), depth, on, off, dtype): [..., depth]; an index outside [0, depth) gives
// a row of `off`, as in tfjs.
static napi_value OneHot(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor idx = tensorAt(a, 0);
    at::Tensor hot = at::eq(idx.unsqueeze(-1), at::arange(a.i64(1), idx.options()));
    at::ScalarType dtype = scalarType(a.i64(4));
    at::Tensor on = at::full({}, a.num(2), idx.options().dtype(dtype)), off = at::full({}, a.num(3), idx.options().dtype(dtype));
    return wrap(a.env, at::where(hot, on, off));
  });
}

void registerLayout(napi_env env, napi_value exports) {
  define(env, exports,
         {{"transpose", Transpose}, {"tile", Tile}, {"slice", Slice}, {"pad", Pad}, {"concat", Concat}, {"gather", Gather}, {"oneHot", OneHot}});
}

}  // namespace dlcv_torch
