// Max and average pooling and their gradients on ATen, NHWC through NCHW views. tfjs's 'same'
// padding may put more on the bottom/right than the top/left; ATen pads symmetrically, so such
// cases pad explicitly (-inf for max; for avg a window sum over the count of elements inside the
// input, tfjs's divisor).
#include <limits>

#include "torch_util.h"

namespace dlcv_torch {

// The native addon's 14 pooling parameters [n,h,w,c, oh,ow, kh,kw, sh,sw, pt,pl, dh,dw].
struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
  int64_t pb() const { return std::max<int64_t>(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - pt); }
  int64_t pr() const { return std::max<int64_t>(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w - pl); }
  // ATen's own padding: symmetric and at most half the window.
  bool atenPads() const { return pt == pb() && pl == pr() && 2 * pt <= kh && 2 * pl <= kw; }
  std::vector<int64_t> pads() const { return {pl, pr(), pt, pb()}; }
};

static PoolGeometry geometry(const Args& a, size_t i) {
  auto v = a.ints(i);
  if (v.size() != 14) throw JsError("pool params must have 14 entries");
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

static at::Tensor nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
static at::Tensor nhwc(const at::Tensor& y) { return y.permute({0, 2, 3, 1}); }
static at::Tensor unpad(const at::Tensor& x, const PoolGeometry& g) { return x.narrow(2, g.pt, g.h).narrow(3, g.pl, g.w); }

// maxPool(x, params)
static napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "maxPool", [in = operandAt(a, 0), g = geometry(a, 1)] {
      at::Tensor x = nchw(in.get());
      bool own = g.atenPads();
      if (!own) x = at::constant_pad_nd(x, g.pads(), -std::numeric_limits<double>::infinity());
      int64_t ph = own ? g.pt : 0, pw = own ? g.pl : 0;
      return nhwc(at::max_pool2d(x, {g.kh, g.kw}, {g.sh, g.sw}, {ph, pw}, {g.dh, g.dw}, false));
    });
  });
}

// maxPoolGrad(dy, x, params): dy to the first maximum of each window, nothing from a window
// whose maximum is -inf (as tfjs, which finds no maximum there).
static napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "maxPoolGrad", [dyIn = operandAt(a, 0), xIn = operandAt(a, 1), g = geometry(a, 2)] {
      at::Tensor dy = nchw(dyIn.get()), x = nchw(xIn.get());
      bool own = g.atenPads();
      if (!own) x = at::constant_pad_nd(x, g.pads(), -std::numeric_limits<double>::infinity());
      std::vector<int64_t> k{g.kh, g.kw}, s{g.sh, g.sw}, p{own ? g.pt : 0, own ? g.pl : 0}, d{g.dh, g.dw};
      auto yi = at::max_pool2d_with_indices(x, k, s, p, d, false);
      const at::Tensor& y = std::get<0>(yi);
      at::Tensor live = at::where(y == -std::numeric_limits<double>::infinity(), at::zeros_like(dy), dy);
      at::Tensor dx = at::max_pool2d_with_indices_backward(live, x, k, s, p, d, false, std::get<1>(yi));
      return nhwc(own ? dx : unpad(dx, g));
    });
  });
}

// Per-window counts of elements inside the input, [1, 1, oh, ow], for explicitly padded windows.
static at::Tensor windowCounts(const PoolGeometry& g, const at::TensorOptions& o) {
  at::Tensor ones = at::constant_pad_nd(at::ones({1, 1, g.h, g.w}, o), g.pads(), 0);
  return at::avg_pool2d(ones, {g.kh, g.kw}, {g.sh, g.sw}, {0, 0}, false, true, 1);
}

// avgPool(x, params)
static napi_value AvgPool(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "avgPool", [in = operandAt(a, 0), g = geometry(a, 1)] {
      at::Tensor x = nchw(in.get());
      std::vector<int64_t> k{g.kh, g.kw}, s{g.sh, g.sw};
      if (g.atenPads()) return nhwc(at::avg_pool2d(x, k, s, {g.pt, g.pl}, false, false, DLCV_NULLOPT));
      at::Tensor sums = at::avg_pool2d(at::constant_pad_nd(x, g.pads(), 0), k, s, {0, 0}, false, true, 1);
      return nhwc(sums / windowCounts(g, x.options()));
    });
  });
}

// avgPoolGrad(dy, params): dy spread over each window divided by the window's full size, as
// tfjs's AvgPoolGrad does whatever the padding (its forward divides by the elements inside).
static napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "avgPoolGrad", [dyIn = operandAt(a, 0), g = geometry(a, 1)] {
      at::Tensor dy = nchw(dyIn.get());
      bool own = g.atenPads();
      int64_t h = own ? g.h : g.h + g.pt + g.pb(), w = own ? g.w : g.w + g.pl + g.pr();
      // The input's values are not read, only its shape and layout.
      at::Tensor input = at::empty({g.n, g.c, h, w}, dy.options().memory_format(at::MemoryFormat::ChannelsLast));
      std::vector<int64_t> p{own ? g.pt : 0, own ? g.pl : 0};
      at::Tensor dx = at::avg_pool2d_backward(dy, input, {g.kh, g.kw}, {g.sh, g.sw}, p, false, true, DLCV_NULLOPT);
      return nhwc(own ? dx : unpad(dx, g));
    });
  });
}

void registerPool(napi_env env, napi_value exports) {
  define(env, exports, {{"maxPool", MaxPool}, {"maxPoolGrad", MaxPoolGrad}, {"avgPool", AvgPool}, {"avgPoolGrad", AvgPoolGrad}});
}

}  // namespace dlcv_torch
