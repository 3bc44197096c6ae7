// Convolutions (forward, input gradient, filter gradient) and matrix products on ATen. Tensors
// are tfjs's NHWC / HWIO; ATen sees them as NCHW / OIHW through permuted views (channels-last
// strides, which cuDNN and oneDNN take without copies), and results are permuted back to NHWC.
// setConvLayout(1) gives the convolutions contiguous NCHW / OIHW copies instead, the layout
// PyTorch's own models use (cuDNN picks other algorithms for it; a copy each way per call).
#include <array>

#include "torch_util.h"

namespace dlcv_torch {

// Read and set on the op thread.
static bool convChannelsLast = true;

// tfjs's convolution geometry: the native addon's 17 parameters
// [n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw].
struct ConvGeometry {
  int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pb, pl, pr, dh, dw;
  // ATen pads symmetrically: the common part goes to ATen, the rest is padded explicitly.
  int64_t padH() const { return std::min(pt, pb); }
  int64_t padW() const { return std::min(pl, pr); }
  bool asymmetric() const { return pt != pb || pl != pr; }
  // [left, right, top, bottom] of the explicit padding, for constant_pad_nd on NCHW.
  std::vector<int64_t> extra() const { return {pl - padW(), pr - padW(), pt - padH(), pb - padH()}; }
};

static ConvGeometry geometry(const Args& a, size_t i) {
  auto v = a.ints(i);
  if (v.size() != 17) throw JsError("conv params must have 17 entries");
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
}

static at::Tensor nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
static at::Tensor nhwc(const at::Tensor& y) { return y.permute({0, 2, 3, 1}); }
// A convolution's input or output gradient (an NCHW view) in the layout of setConvLayout.
static at::Tensor inConvLayout(const at::Tensor& t) { return convChannelsLast ? t : t.contiguous(); }
static at::MemoryFormat convMemoryFormat() { return convChannelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous; }
// HWIO -> OIHW, stored channels-last (OHWI): the layout oneDNN and cuDNN take with NHWC inputs
// (measured on libtorch 1.13 CPU: 49 instead of 73 ms for a 3x3 128->128 layer at 32x28x28).
// Made as one 2D transpose of the [kh*kw*i, o] matrix, which ATen copies in cache-sized tiles:
// the 4-d permute's copy took 11.5 instead of 2.8 ms for DCGAN's 4x4x256x512 weight there.
static at::Tensor oihw(const at::Tensor& w) {
  int64_t kh = w.size(0), kw = w.size(1), i = w.size(2), o = w.size(3);
  return w.reshape({kh * kw * i, o}).t().contiguous().view({o, kh, kw, i}).permute({0, 3, 1, 2});
}
// The inverse, for a weight gradient: OIHW back to a contiguous HWIO, by the same 2D transpose
// when it is stored channels-last.
static at::Tensor hwio(const at::Tensor& g) {
  int64_t o = g.size(0), i = g.size(1), kh = g.size(2), kw = g.size(3);
  if (!g.is_contiguous(at::MemoryFormat::ChannelsLast)) return g.permute({2, 3, 1, 0}).contiguous();
  return g.permute({0, 2, 3, 1}).reshape({o, kh * kw * i}).t().contiguous().view({kh, kw, i, o});
}
// An HWIO weight as OIHW in the layout of setConvLayout: channels-last (oihw), or one copy
// straight into contiguous OIHW.
static at::Tensor convWeight(const at::Tensor& w) { return convChannelsLast ? oihw(w) : w.permute({3, 2, 0, 1}).contiguous(); }
// convWeight of w's tensor, made once per handle and kept in its holder: a layer's weight is the
// filter of its forward and of its input gradient (a DCGAN step runs D's forward three times),
// and each would otherwise copy it.
static const at::Tensor& cachedConvWeight(const Operand& w) {
  Holder* h = w.holder();
  if (!h->convWeight.defined() || h->convWeightChannelsLast != convChannelsLast) {
    h->convWeight = convWeight(w.get());
    h->convWeightChannelsLast = convChannelsLast;
  }
  return h->convWeight;
}

// x (NCHW view) with the asymmetric part of the padding applied.
static at::Tensor padded(const at::Tensor& x, const ConvGeometry& g) {
  return g.asymmetric() ? at::constant_pad_nd(x, g.extra(), 0) : x;
}

// An uninitialised NCHW tensor in the convolutions' layout: the operand of convolution_backward
// whose values the requested gradient does not read (only its shape and layout).
static at::Tensor shapeOnly(std::vector<int64_t> sizes, const at::Tensor& like) {
  return at::empty(sizes, like.options().memory_format(convMemoryFormat()));
}

// conv2d(x, filter, params, bias | null)
static napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "conv2d", [x = operandAt(a, 0), w = operandAt(a, 1), g = geometry(a, 2), bias = operandAt(a, 3, true)] {
      at::Tensor y = at::convolution(inConvLayout(padded(nchw(x.get()), g)), cachedConvWeight(w), bias.get(), {g.sh, g.sw}, {g.padH(), g.padW()},
                                     {g.dh, g.dw}, false, {0, 0}, 1);
      return nhwc(y);
    });
  });
}

// conv2dBackpropInput(dy, filter, params): the input gradient of the forward convolution (also
// tfjs's transposed convolution). convolution_backward, not a transposed convolution: on
// libtorch 1.13 CPU the latter has no oneDNN path (3.4 s instead of 0.11 s for a DCGAN layer).
static napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "conv2dBackpropInput", [dyIn = operandAt(a, 0), w = operandAt(a, 1), g = geometry(a, 2)] {
      at::Tensor dy = inConvLayout(nchw(dyIn.get()));
      int64_t eh = g.pt + g.pb - 2 * g.padH(), ew = g.pl + g.pr - 2 * g.padW();
      at::Tensor input = shapeOnly({g.n, g.c, g.h + eh, g.w + ew}, dy);
      auto grads = at::convolution_backward(dy, input, cachedConvWeight(w), DLCV_NULLOPT, {g.sh, g.sw}, {g.padH(), g.padW()}, {g.dh, g.dw},
                                            false, {0, 0}, 1, {true, false, false});
      at::Tensor dx = std::get<0>(grads);
      if (g.asymmetric()) dx = dx.narrow(2, g.pt - g.padH(), g.h).narrow(3, g.pl - g.padW(), g.w);
      return nhwc(dx);
    });
  });
}

// conv2dBackpropFilter(x, dy, params)
static napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "conv2dBackpropFilter", [xIn = operandAt(a, 0), dyIn = operandAt(a, 1), g = geometry(a, 2)] {
      at::Tensor x = inConvLayout(padded(nchw(xIn.get()), g));
      at::Tensor dy = inConvLayout(nchw(dyIn.get()));
      auto grads = at::convolution_backward(dy, x, shapeOnly({g.o, g.c, g.kh, g.kw}, x), DLCV_NULLOPT, {g.sh, g.sw}, {g.padH(), g.padW()},
                                            {g.dh, g.dw}, false, {0, 0}, 1, {false, true, false});
      return hwio(std::get<1>(grads));
    });
  });
}

// t as a [rows, cols] matrix: itself when it has that shape, else a view (a copy only when its
// strides allow no view).
static at::Tensor asMatrix(const at::Tensor& t, int64_t rows, int64_t cols) {
  return t.dim() == 2 && t.size(0) == rows && t.size(1) == cols ? t : t.reshape({rows, cols});
}

// matmul(a, b, batchA, batchB, m, k, n, transA, transB, outShape): a is [batchA, m, k] (or
// [batchA, k, m] when transA), b [batchB, k, n] (or [batchB, n, k]); a batch of 1 broadcasts.
// Two batches of 1 (every dense layer and its gradients) go straight to at::mm on 2-D views: the
// op thread's ATen calls are then the product alone, with no 3-D reshapes or selects around it.
static napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    int64_t batchA = a.i64(2), batchB = a.i64(3), m = a.i64(4), k = a.i64(5), n = a.i64(6);
    bool transA = a.num(7) != 0, transB = a.num(8) != 0;
    return queueOp(a.env, "matmul", [x = operandAt(a, 0), y = operandAt(a, 1), batchA, batchB, m, k, n, transA, transB, outShape = a.ints(9)] {
      at::Tensor out;
      if (batchA == 1 && batchB == 1) {
        at::Tensor A = transA ? asMatrix(x.get(), k, m).transpose(0, 1) : asMatrix(x.get(), m, k);
        at::Tensor B = transB ? asMatrix(y.get(), n, k).transpose(0, 1) : asMatrix(y.get(), k, n);
        out = at::mm(A, B);
      } else {
        at::Tensor A = transA ? x.get().reshape({batchA, k, m}).transpose(1, 2) : x.get().reshape({batchA, m, k});
        at::Tensor B = transB ? y.get().reshape({batchB, n, k}).transpose(1, 2) : y.get().reshape({batchB, k, n});
        out = at::matmul(A, B);
      }
      return out.sizes().equals(outShape) ? out : out.reshape(outShape);
    });
  });
}

// How far the convolutions of two small 3x3 'same' layers (8 and 1 input channels) in a layout
// (NCHW or channels-last) are from float64's on the engine's device: [forward, input gradient,
// filter gradient], each the largest difference over the largest magnitude of float64's, the
// larger of the two layers'. A libtorch may compute a layout wrongly: Debian trixie's 2.6.0
// (oneDNN 3.7) gives the input gradients of contiguous NCHW layers on the CPU off by 26-95% of
// their largest value, or NaN, and so those of a 1-channel layer in channels-last too (ATen takes
// its strides for contiguous ones). The inputs are fixed patterns (no RNG state).
static std::array<double, 3> convLayoutError(bool channelsLast) {
  auto pattern = [](std::vector<int64_t> shape, double step, at::ScalarType dtype) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return at::arange(n, options(at::kDouble)).mul(step).sin().view(shape).to(dtype);
  };
  auto run = [&](int64_t channels, at::ScalarType dtype, at::MemoryFormat format) {
    at::Tensor x = pattern({2, channels, 6, 6}, 0.37, dtype).contiguous(format), w = pattern({4, channels, 3, 3}, 0.53, dtype).contiguous(format);
    at::Tensor dy = pattern({2, 4, 6, 6}, 0.71, dtype).contiguous(format);
    at::Tensor y = at::convolution(x, w, at::Tensor(), {1, 1}, {1, 1}, {1, 1}, false, {0, 0}, 1);
    auto grads = at::convolution_backward(dy, x, w, DLCV_NULLOPT, {1, 1}, {1, 1}, {1, 1}, false, {0, 0}, 1, {true, true, false});
    return std::array<at::Tensor, 3>{y, std::get<0>(grads), std::get<1>(grads)};
  };
  std::array<double, 3> error{0, 0, 0};
  for (int64_t channels : {8, 1}) {
    auto got = run(channels, at::kFloat, channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    auto exact = run(channels, at::kDouble, at::MemoryFormat::Contiguous);
    for (size_t i = 0; i < 3; ++i) {
      double e = (got[i].to(at::kDouble) - exact[i]).abs().max().item<double>() / exact[i].abs().max().item<double>();
      if (!(e <= error[i])) error[i] = e;  // NaN stays
    }
  }
  return error;
}

// setConvLayout(nchw): 0 channels-last views (the default), 1 contiguous NCHW / OIHW copies. The
// engine checks the layout with convLayoutError first (torch/index.ts settleConvolutions).
static napi_value SetConvLayout(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    bool channelsLast = a.num(0) == 0;
    runNow("setConvLayout", [channelsLast] { convChannelsLast = channelsLast; });
    return undefinedValue(a.env);
  });
}

// convLayoutError(nchw): [forward, input gradient, filter gradient] of convLayoutError on the
// engine's device for the layout of setConvLayout(nchw).
static napi_value ConvLayoutError(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    bool channelsLast = a.num(0) == 0;
    std::array<double, 3> error;
    runNow("convLayoutError", [channelsLast, &error] { error = convLayoutError(channelsLast); }, /*timed=*/false);
    napi_value arr, v;
    check(napi_create_array_with_length(a.env, 3, &arr), "create_array");
    for (uint32_t i = 0; i < 3; ++i) {
      check(napi_create_double(a.env, error[i], &v), "create_double");
      check(napi_set_element(a.env, arr, i, v), "set_element");
    }
    return arr;
  });
}

void registerConv(napi_env env, napi_value exports) {
  define(env, exports,
         {{"setConvLayout", SetConvLayout},
          {"convLayoutError", ConvLayoutError},
          {"conv2d", Conv2d},
          {"conv2dBackpropInput", Conv2dBackpropInput},
          {"conv2dBackpropFilter", Conv2dBackpropFilter},
          {"matmul", MatMul}});
}

}  // namespace dlcv_torch
