// Elementwise unary ops and the gradients of the activations (OpenMP, float32). Semantics follow
// the tfjs cpu backend kernels they replace; the ops themselves are the tables in op_codes.h.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "op_codes.h"
#include "ops.h"
#include "parallel.h"

// Vectorised transcendental functions from glibc's libmvec (AVX-512 variants, glibc >= 2.35),
// used for GELU / sigmoid / tanh and their gradients when the CPU has AVX-512; scalar otherwise.
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
#define DLCV_MVEC 1
#include <immintrin.h>
extern "C" __m512 _ZGVeN16v_erff(__m512);
extern "C" __m512 _ZGVeN16v_expf(__m512);
extern "C" __m512 _ZGVeN16v_tanhf(__m512);
#endif
#endif

namespace dlcv {

#ifdef DLCV_MVEC
static bool hasAvx512() {
  static const bool b = __builtin_cpu_supports("avx512f");
  return b;
}
// kind: 0 gelu fwd, 1 gelu grad (dy, x), 2 sigmoid fwd, 3 tanh fwd. Returns elements done.
__attribute__((target("avx512f"))) static int64_t mvecRange(int kind, const float* x, const float* dy, float* o,
                                                            int64_t s, int64_t e) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512 rs2 = _mm512_set1_ps(0.70710678118654752f), rs2pi = _mm512_set1_ps(0.39894228040143268f);
  const __m512 mhalf = _mm512_set1_ps(-0.5f);
  int64_t i = s;
  for (; i + 16 <= e; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i), r;
    switch (kind) {
      case 0: r = _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, _ZGVeN16v_erff(_mm512_mul_ps(v, rs2)))); break;
      case 1: {
        __m512 cdf = _mm512_mul_ps(half, _mm512_add_ps(one, _ZGVeN16v_erff(_mm512_mul_ps(v, rs2))));
        __m512 pdf = _mm512_mul_ps(rs2pi, _ZGVeN16v_expf(_mm512_mul_ps(mhalf, _mm512_mul_ps(v, v))));
        r = _mm512_mul_ps(_mm512_loadu_ps(dy + i), _mm512_fmadd_ps(v, pdf, cdf));
        break;
      }
      case 2: r = _mm512_div_ps(one, _mm512_add_ps(one, _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), v)))); break;
      default: r = _ZGVeN16v_tanhf(v); break;
    }
    _mm512_storeu_ps(o + i, r);
  }
  return i;
}
#endif

static inline float geluScalar(float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); }
static inline float geluGradScalar(float dy, float x) {
  const float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
  const float pdf = 0.39894228040143268f * std::exp(-0.5f * x * x);
  return dy * (cdf + x * pdf);
}

static inline float softplusTf(float x) {
  const float eps = 1.1920928955078125e-7f;
  const float threshold = std::log(eps) + 2.0f;
  if (x > -threshold) return x;
  if (x < threshold) return std::exp(x);
  return std::log(1.0f + std::exp(x));
}

static inline float seluScalar(float v) {
  const float scale = 1.0507009873554805f, a = 1.6732632423543772f;
  return v >= 0 ? scale * v : scale * a * (std::exp(v) - 1.0f);
}

template <class F>
static void mapUnary(const float* x, float* out, int64_t n, F f) {
  parallelRange(n, kParallelMin, [&](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) out[i] = f(x[i]);
  });
}

#define DLCV_UNARY_CASE(name, expr) \
  case UnaryOp::name: mapUnary(x, out, n, [alpha, beta](float v) { return expr; }); break;

void unary(int op, const float* x, float* out, int64_t n, float alpha, float beta) {
  const UnaryOp u = static_cast<UnaryOp>(op);
#ifdef DLCV_MVEC
  if ((u == UnaryOp::Gelu || u == UnaryOp::Sigmoid || u == UnaryOp::Tanh) && hasAvx512()) {
    const int kind = u == UnaryOp::Gelu ? 0 : (u == UnaryOp::Sigmoid ? 2 : 3);
    parallelRange(n, kParallelMin / 4, [&](int64_t s, int64_t e) {
      int64_t i = mvecRange(kind, x, nullptr, out, s, e);
      for (; i < e; ++i)
        out[i] = kind == 0 ? geluScalar(x[i]) : (kind == 2 ? 1.0f / (1.0f + std::exp(-x[i])) : std::tanh(x[i]));
    });
    return;
  }
#endif
  switch (u) {
    DLCV_UNARY_OPS(DLCV_UNARY_CASE)
    default: throw std::runtime_error("unknown unary op");
  }
}

// out = f(dy, s) elementwise, s being the saved forward input or output.
template <class F>
static void mapGrad(const float* dy, const float* saved, float* out, int64_t n, F f) {
  parallelRange(n, kParallelMin, [&](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) out[i] = f(dy[i], saved[i]);
  });
}

#define DLCV_UNARY_GRAD_CASE(name, expr) \
  case UnaryGradOp::name: mapGrad(dy, saved, out, n, [alpha](float dy, float s) { return expr; }); break;

void unaryGrad(int op, const float* dy, const float* saved, float* out, int64_t n, float alpha) {
  const UnaryGradOp g = static_cast<UnaryGradOp>(op);
#ifdef DLCV_MVEC
  if (g == UnaryGradOp::Gelu && hasAvx512()) {
    parallelRange(n, kParallelMin / 4, [&](int64_t s, int64_t e) {
      int64_t i = mvecRange(1, saved, dy, out, s, e);
      for (; i < e; ++i) out[i] = geluGradScalar(dy[i], saved[i]);
    });
    return;
  }
#endif
  switch (g) {
    DLCV_UNARY_GRAD_OPS(DLCV_UNARY_GRAD_CASE)
    default: throw std::runtime_error("unknown unaryGrad op");
  }
}

}  // namespace dlcv
