// Convolutions and matrix multiplication over oneDNN, with primitive caches keyed by shape.
// Activations are NHWC (tfjs layout), filters HWIO (tfjs layout). Weights use format_tag::any
// (oneDNN's blocked layout, reordered per call: that is what selects the jit:avx512 / brgconv
// kernels instead of the gemm fallbacks); activations stay plain nhwc (see actTag), which the
// avx512 kernels of oneDNN 2.6 support directly, so they need no reorders (Winograd layers, below,
// are the exception). Builds against oneDNN 2.x (Debian bookworm's 2.6.3) and 3.x (trixie's 3.7.2):
// primitiveDesc and backwardDesc hide the one API difference used here.
#include "ops.h"

#include <dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>
#include <cstdlib>

namespace dlcv {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static engine& eng() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
static stream& strm() {
  static stream s(eng());
  return s;
}

// A primitive descriptor from its arguments: oneDNN 3 takes them (after the engine) directly,
// oneDNN 2 through an operation descriptor of the same arguments. backwardDesc: the same for a
// backward primitive, with the forward primitive descriptor as its hint.
template <typename Prim, typename... Args>
static typename Prim::primitive_desc primitiveDesc(const Args&... args) {
#if DNNL_VERSION_MAJOR >= 3
  return typename Prim::primitive_desc(eng(), args...);
#else
  return typename Prim::primitive_desc(typename Prim::desc(args...), eng());
#endif
}
template <typename Prim, typename Hint, typename... Args>
static typename Prim::primitive_desc backwardDesc(const Hint& hint, const Args&... args) {
#if DNNL_VERSION_MAJOR >= 3
  return typename Prim::primitive_desc(eng(), args..., hint);
#else
  return typename Prim::primitive_desc(typename Prim::desc(args...), eng(), hint);
#endif
}

std::string dnnlInfo() {
  const dnnl_version_t* v = dnnl_version();
  std::ostringstream os;
  os << "oneDNN " << v->major << "." << v->minor << "." << v->patch;
  return os.str();
}

// A memory in oneDNN's preferred layout plus the reorder from/to the user's plain layout.
struct Edge {
  memory::desc user, prim;
  bool needReorder = false;
  memory primMem;
  void init(const memory::desc& u, const memory::desc& p) {
    user = u;
    prim = p;
    needReorder = !(u == p);
    if (needReorder) primMem = memory(p, eng());
  }
  // user -> primitive layout (input side)
  memory in(float* data) {
    memory um(user, eng(), data);
    if (!needReorder) return um;
    reorder(um, primMem).execute(strm(), um, primMem);
    return primMem;
  }
  // memory the primitive writes into (output side)
  memory out(float* data) {
    if (!needReorder) return memory(user, eng(), data);
    return primMem;
  }
  void finish(float* data) {
    if (!needReorder) return;
    memory um(user, eng(), data);
    reorder(primMem, um).execute(strm(), primMem, um);
  }
};

struct ConvKey {
  int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pb, pl, pr, dh, dw, bias;
  bool operator<(const ConvKey& k) const {
    const int64_t* a = &n;
    const int64_t* b = &k.n;
    for (int i = 0; i < 18; ++i) {
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return false;
  }
};

// Activation layout inside oneDNN convolutions. oneDNN 2.6 has jit/brgemm avx512 kernels for
// plain nhwc activations (forward: brgconv:avx512_core, backward: jit:avx512_core), which saves
// the two activation reorders per call that the blocked layout needs; weights stay format any.
// DLCV_CONV_ACT=any switches to oneDNN-chosen (blocked) activation layouts.
static tag actTag() {
  static tag t = [] {
    const char* e = std::getenv("DLCV_CONV_ACT");
    return (e && std::string(e) == "any") ? tag::any : tag::nhwc;
  }();
  return t;
}

// Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3) does a 3x3 stride-1 convolution with 36 instead
// of 144 multiplies per 4x4 output tile and channel pair (plus its transforms); measured here it
// is 1.2-2.4x faster than the direct kernels in each direction (1.8-2.3x on the U-Net's 28x28
// layers), including its reorders to the blocked layout it needs, and agrees with them to ~1e-5
// of the largest value. With few channels (the image layer) it is slower, hence the 16-channel
// floor. DLCV_CONV_WINOGRAD=0 keeps every convolution direct.
static bool winogradEnabled() {
  static bool on = [] {
    const char* e = std::getenv("DLCV_CONV_WINOGRAD");
    return !(e && std::string(e) == "0");
  }();
  return on;
}
static bool wantsWinograd(const ConvKey& k) {
  return winogradEnabled() && k.kh == 3 && k.kw == 3 && k.sh == 1 && k.sw == 1 && k.dh == 1 && k.dw == 1 &&
         k.c >= 16 && k.o >= 16;
}

struct ConvDescs {
  algorithm alg;
  memory::desc src, wei, dst, srcAny, weiAny, dstAny, bias;
  memory::dims strides, dil, padL, padR;
  // Winograd needs oneDNN's blocked activation layout, so its activations are format any.
  ConvDescs(const ConvKey& k, algorithm a)
      : alg(a),
        src({k.n, k.c, k.h, k.w}, dt::f32, tag::nhwc),
        wei({k.o, k.c, k.kh, k.kw}, dt::f32, tag::hwio),
        dst({k.n, k.o, k.oh, k.ow}, dt::f32, tag::nhwc),
        srcAny({k.n, k.c, k.h, k.w}, dt::f32, a == algorithm::convolution_winograd ? tag::any : actTag()),
        weiAny({k.o, k.c, k.kh, k.kw}, dt::f32, tag::any),
        dstAny({k.n, k.o, k.oh, k.ow}, dt::f32, a == algorithm::convolution_winograd ? tag::any : actTag()),
        bias({k.o}, dt::f32, tag::x),
        strides({k.sh, k.sw}),
        dil({k.dh - 1, k.dw - 1}),
        padL({k.pt, k.pl}),
        padR({k.pb, k.pr}) {}
  convolution_forward::primitive_desc fwdPd(bool withBias = false) const {
    if (withBias)
      return primitiveDesc<convolution_forward>(prop_kind::forward_training, alg, srcAny, weiAny, bias, dstAny, strides,
                                                dil, padL, padR);
    return primitiveDesc<convolution_forward>(prop_kind::forward_training, alg, srcAny, weiAny, dstAny, strides, dil,
                                              padL, padR);
  }
};

// Builds a primitive with Winograd where the layer qualifies and this oneDNN/CPU has it (oneDNN
// throws `unimplemented` otherwise: without AVX-512, or on oneDNN 3.7, which has no f32 Winograd
// kernels), else with the direct algorithm.
template <typename Make>
static auto withAlgorithm(const ConvKey& k, Make make) -> decltype(make(ConvDescs(k, algorithm::convolution_direct))) {
  if (wantsWinograd(k)) {
    try {
      return make(ConvDescs(k, algorithm::convolution_winograd));
    } catch (const dnnl::error&) {
    }
  }
  return make(ConvDescs(k, algorithm::convolution_direct));
}

struct ConvFwd {
  convolution_forward prim;
  std::string impl;
  Edge src, wei, dst;
  memory::desc bias;
};
struct ConvBwdData {
  convolution_backward_data prim;
  std::string impl;
  Edge dsrc, wei, ddst;
};
struct ConvBwdW {
  convolution_backward_weights prim;
  std::string impl;
  Edge src, dwei, ddst;
};

static std::mutex gMu;
static std::map<ConvKey, std::unique_ptr<ConvFwd>> gFwd;
static std::map<ConvKey, std::unique_ptr<ConvBwdData>> gBwdD;
static std::map<ConvKey, std::unique_ptr<ConvBwdW>> gBwdW;

static ConvFwd* getFwd(const ConvKey& k) {
  auto it = gFwd.find(k);
  if (it != gFwd.end()) return it->second.get();
  auto p = withAlgorithm(k, [&](const ConvDescs& d) {
    auto pd = d.fwdPd(k.bias != 0);
    auto q = std::make_unique<ConvFwd>();
    q->prim = convolution_forward(pd);
    q->impl = pd.impl_info_str();
    if (k.bias) q->bias = pd.bias_desc();
    q->src.init(d.src, pd.src_desc());
    q->wei.init(d.wei, pd.weights_desc());
    q->dst.init(d.dst, pd.dst_desc());
    return q;
  });
  return (gFwd[k] = std::move(p)).get();
}
// Both backward directions: the same descriptor arguments and forward hint, each its own
// primitive type, cache and memory edges (`edges` fills them from the primitive descriptor).
template <typename Prim, typename Holder, typename Edges>
static Holder* cachedBackward(std::map<ConvKey, std::unique_ptr<Holder>>& cache, const ConvKey& k, Edges edges) {
  auto it = cache.find(k);
  if (it != cache.end()) return it->second.get();
  auto p = withAlgorithm(k, [&](const ConvDescs& d) {
    auto hint = d.fwdPd();
    auto pd = backwardDesc<Prim>(hint, d.alg, d.srcAny, d.weiAny, d.dstAny, d.strides, d.dil, d.padL, d.padR);
    auto q = std::make_unique<Holder>();
    q->prim = Prim(pd);
    q->impl = pd.impl_info_str();
    edges(*q, d, pd);
    return q;
  });
  return (cache[k] = std::move(p)).get();
}
static ConvBwdData* getBwdD(const ConvKey& k) {
  return cachedBackward<convolution_backward_data>(gBwdD, k, [](ConvBwdData& q, const ConvDescs& d, const auto& pd) {
    q.dsrc.init(d.src, pd.diff_src_desc());
    q.wei.init(d.wei, pd.weights_desc());
    q.ddst.init(d.dst, pd.diff_dst_desc());
  });
}
static ConvBwdW* getBwdW(const ConvKey& k) {
  return cachedBackward<convolution_backward_weights>(gBwdW, k, [](ConvBwdW& q, const ConvDescs& d, const auto& pd) {
    q.src.init(d.src, pd.src_desc());
    q.dwei.init(d.wei, pd.diff_weights_desc());
    q.ddst.init(d.dst, pd.diff_dst_desc());
  });
}

// One line per cached convolution primitive, "<direction> <n>x<h>x<w>x<c> k<kh>x<kw>x<o> s<sh>x<sw>:
// <oneDNN implementation>", so tests and benchmarks can see which algorithm each layer got.
std::vector<std::string> convImplementations() {
  std::lock_guard<std::mutex> lock(gMu);
  std::vector<std::string> out;
  auto line = [&](const char* dir, const ConvKey& k, const std::string& impl) {
    std::ostringstream os;
    os << dir << ' ' << k.n << 'x' << k.h << 'x' << k.w << 'x' << k.c << " k" << k.kh << 'x' << k.kw << 'x' << k.o
       << " s" << k.sh << 'x' << k.sw << ": " << impl;
    out.push_back(os.str());
  };
  for (auto& e : gFwd) line("forward", e.first, e.second->impl);
  for (auto& e : gBwdD) line("backward_data", e.first, e.second->impl);
  for (auto& e : gBwdW) line("backward_weights", e.first, e.second->impl);
  return out;
}

static ConvKey keyOf(const ConvParams& c, bool bias = false) {
  return ConvKey{c.n, c.h, c.w, c.c, c.kh, c.kw, c.o, c.oh, c.ow, c.sh, c.sw, c.pt, c.pb, c.pl, c.pr, c.dh, c.dw,
                 bias ? 1 : 0};
}

void conv2dForward(const ConvParams& c, float* x, float* w, float* y, float* bias) {
  std::lock_guard<std::mutex> lock(gMu);
  ConvFwd* p = getFwd(keyOf(c, bias != nullptr));
  memory s = p->src.in(x), wm = p->wei.in(w), d = p->dst.out(y);
  if (bias) {
    memory bm(p->bias, eng(), bias);
    p->prim.execute(strm(), {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, d}});
  } else {
    p->prim.execute(strm(), {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, d}});
  }
  p->dst.finish(y);
  strm().wait();
}

void conv2dBackwardData(const ConvParams& c, float* dy, float* w, float* dx) {
  std::lock_guard<std::mutex> lock(gMu);
  ConvBwdData* p = getBwdD(keyOf(c));
  memory dd = p->ddst.in(dy), wm = p->wei.in(w), ds = p->dsrc.out(dx);
  p->prim.execute(strm(), {{DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, ds}});
  p->dsrc.finish(dx);
  strm().wait();
}

void conv2dBackwardFilter(const ConvParams& c, float* x, float* dy, float* dw) {
  std::lock_guard<std::mutex> lock(gMu);
  ConvBwdW* p = getBwdW(keyOf(c));
  memory s = p->src.in(x), dd = p->ddst.in(dy), dwm = p->dwei.out(dw);
  p->prim.execute(strm(), {{DNNL_ARG_SRC, s}, {DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
  p->dwei.finish(dw);
  strm().wait();
}

// ---------------------------------------------------------------------------------------------
// Batched matmul: out[b] = op(A[b]) x op(B[b]); batch dims broadcast when one side has batch 1.
struct MmKey {
  int64_t ba, bb, m, k, n, ta, tb;
  bool operator<(const MmKey& o) const {
    const int64_t* a = &ba;
    const int64_t* b = &o.ba;
    for (int i = 0; i < 7; ++i) {
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return false;
  }
};
struct Mm {
  matmul prim;
  memory::desc a, b, c;
};
static std::map<MmKey, std::unique_ptr<Mm>> gMm;

void matmulBatched(int64_t batchA, int64_t batchB, int64_t m, int64_t k, int64_t n, bool transA, bool transB,
                   float* a, float* b, float* out) {
  std::lock_guard<std::mutex> lock(gMu);
  MmKey key{batchA, batchB, m, k, n, transA, transB};
  auto it = gMm.find(key);
  Mm* p;
  if (it != gMm.end()) {
    p = it->second.get();
  } else {
    int64_t bo = std::max(batchA, batchB);
    memory::desc ad({batchA, m, k}, dt::f32,
                    transA ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    memory::desc bd({batchB, k, n}, dt::f32,
                    transB ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    memory::desc cd({bo, m, n}, dt::f32, memory::dims{m * n, n, 1});
    auto pd = primitiveDesc<matmul>(ad, bd, cd);
    auto q = std::make_unique<Mm>();
    q->prim = matmul(pd);
    q->a = ad;
    q->b = bd;
    q->c = cd;
    p = (gMm[key] = std::move(q)).get();
  }
  memory am(p->a, eng(), a), bm(p->b, eng(), b), cm(p->c, eng(), out);
  p->prim.execute(strm(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  strm().wait();
}

}  // namespace dlcv
