// Batch norm (inference, and training with its backward) over all but the last axis, and
// GroupNorm on NHWC with its backward (OpenMP, float32; statistics accumulate in double).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "op_codes.h"
#include "ops.h"
#include "parallel.h"

namespace dlcv {

void batchNormInfer(const float* x, int64_t rows, int64_t c, const float* mean, const float* var,
                    const float* scale, const float* offset, float eps, float* out) {
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; ++j) {
    float s = scale ? scale[j] : 1.0f;
    float inv = 1.0f / std::sqrt(var[j] + eps);
    mul[j] = s * inv;
    add[j] = (offset ? offset[j] : 0.0f) - mean[j] * s * inv;
  }
  parallelRange(rows, std::max<int64_t>(1, kParallelMin / std::max<int64_t>(c, 1)), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* px = x + r * c;
      float* po = out + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) po[j] = px[j] * mul[j] + add[j];
    }
  });
}

// acc[j] += sum over rows of (x[r, j] - mean[j])^2: the second pass of a two-pass variance.
static void addSquaredDeviations(const float* x, int64_t rows, int64_t c, const float* mean, double* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* px = x + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) {
      float d = px[j] - mean[j];
      acc[j] += d * d;
    }
  }
}

void batchNormTrain(const float* x, int64_t rows, int64_t c, const float* scale, const float* offset, float eps,
                    float* y, float* mean, float* var, float* invStd) {
  reduce3(static_cast<int>(ReduceOp::Mean), x, 1, rows, c, mean);
  // variance (two-pass for accuracy)
  const int nt = omp_get_max_threads();
  std::vector<double> part((size_t)nt * c, 0.0);
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t chunk = (rows + T - 1) / T;
    int64_t r0 = std::min<int64_t>(rows, t * chunk), r1 = std::min<int64_t>(rows, r0 + chunk);
    addSquaredDeviations(x + r0 * c, r1 - r0, c, mean, part.data() + (size_t)t * c);
  }
  for (int64_t j = 0; j < c; ++j) {
    double s = 0;
    for (int t = 0; t < nt; ++t) s += part[(size_t)t * c + j];
    var[j] = (float)(s / (double)rows);
    invStd[j] = 1.0f / std::sqrt(var[j] + eps);
  }
  batchNormInfer(x, rows, c, mean, var, scale, offset, eps, y);
}

void batchNormTrainGrad(const float* dy, const float* x, int64_t rows, int64_t c, const float* scale,
                        const float* mean, const float* invStd, float* dx, float* dscale, float* doffset) {
  const int nt = omp_get_max_threads();
  std::vector<double> pa((size_t)nt * c, 0.0), pb((size_t)nt * c, 0.0);
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t chunk = (rows + T - 1) / T;
    int64_t r0 = std::min<int64_t>(rows, t * chunk), r1 = std::min<int64_t>(rows, r0 + chunk);
    double* sdy = pa.data() + (size_t)t * c;
    double* sdyx = pb.data() + (size_t)t * c;
    // float sums over blocks of rows (full SIMD width), flushed into double per block
    const int64_t kBlock = 64;
    std::vector<float> fa(c), fb(c);
    for (int64_t rb = r0; rb < r1; rb += kBlock) {
      std::fill(fa.begin(), fa.end(), 0.0f);
      std::fill(fb.begin(), fb.end(), 0.0f);
      const int64_t re = std::min(r1, rb + kBlock);
      for (int64_t r = rb; r < re; ++r) {
        const float* pdy = dy + r * c;
        const float* px = x + r * c;
        float* pfa = fa.data();
        float* pfb = fb.data();
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          pfa[j] += pdy[j];
          pfb[j] += pdy[j] * (px[j] - mean[j]);
        }
      }
      for (int64_t j = 0; j < c; ++j) {
        sdy[j] += fa[j];
        sdyx[j] += fb[j];
      }
    }
  }
  std::vector<float> k1(c), k2(c), k3(c);
  for (int64_t j = 0; j < c; ++j) {
    double a = 0, b = 0;
    for (int t = 0; t < nt; ++t) {
      a += pa[(size_t)t * c + j];
      b += pb[(size_t)t * c + j];
    }
    float s = scale ? scale[j] : 1.0f;
    doffset[j] = (float)a;
    dscale[j] = (float)(b * invStd[j]);
    // dx = s*inv*(dy - mean(dy) - xhat*mean(dy*xhat))
    float inv = invStd[j];
    k1[j] = s * inv;
    k2[j] = (float)(s * inv * a / rows);
    k3[j] = (float)(s * inv * inv * inv * b / rows);
  }
  parallelRange(rows, std::max<int64_t>(1, kParallelMin / std::max<int64_t>(c, 1)), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* pdy = dy + r * c;
      const float* px = x + r * c;
      float* pdx = dx + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) pdx[j] = k1[j] * pdy[j] - k2[j] - k3[j] * (px[j] - mean[j]);
    }
  });
}

// GroupNorm on x viewed as [n, s, c] (NHWC with s = H*W): each sample's channels are split into
// `groups` contiguous groups, each normalised over its s * c/groups values (biased variance).
// Parallel over samples; statistics accumulate in double per channel, then per group.
void groupNorm(const float* x, int64_t n, int64_t s, int64_t c, int64_t groups, const float* scale,
               const float* offset, float eps, float* y, float* mean, float* invStd) {
  const int64_t cg = c / groups;
  const double m = (double)(s * cg);
#pragma omp parallel for schedule(static) if (n * s * c >= kParallelMin)
  for (int64_t b = 0; b < n; ++b) {
    const float* xb = x + b * s * c;
    float* yb = y + b * s * c;
    std::vector<double> acc(c, 0.0);
    std::vector<float> mu(c), mul(c), add(c);
    for (int64_t r = 0; r < s; ++r) {
      const float* px = xb + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) acc[j] += px[j];
    }
    for (int64_t g = 0; g < groups; ++g) {
      double t = 0;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) t += acc[j];
      mean[b * groups + g] = (float)(t / m);
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) mu[j] = mean[b * groups + g];
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    addSquaredDeviations(xb, s, c, mu.data(), acc.data());
    for (int64_t g = 0; g < groups; ++g) {
      double t = 0;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) t += acc[j];
      const float inv = 1.0f / std::sqrt((float)(t / m) + eps);
      invStd[b * groups + g] = inv;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
        const float sc = scale ? scale[j] : 1.0f;
        mul[j] = sc * inv;
        add[j] = (offset ? offset[j] : 0.0f) - mu[j] * sc * inv;
      }
    }
    for (int64_t r = 0; r < s; ++r) {
      const float* px = xb + r * c;
      float* py = yb + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) py[j] = px[j] * mul[j] + add[j];
    }
  }
}

void groupNormGrad(const float* dy, const float* x, int64_t n, int64_t s, int64_t c, int64_t groups,
                   const float* scale, const float* mean, const float* invStd, float* dx, float* dscale,
                   float* doffset) {
  const int64_t cg = c / groups;
  const double m = (double)(s * cg);
  const int nt = (n * s * c >= kParallelMin) ? omp_get_max_threads() : 1;
  // per-thread partial sums of dscale / doffset, added in thread order (deterministic)
  std::vector<double> pScale((size_t)nt * c, 0.0), pOffset((size_t)nt * c, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t chunk = (n + T - 1) / T;
    const int64_t b0 = std::min<int64_t>(n, t * chunk), b1 = std::min<int64_t>(n, b0 + chunk);
    std::vector<double> a(c), bb(c);
    std::vector<float> mu(c), k1(c), k3(c), k4(c);
    double* ps = pScale.data() + (size_t)t * c;
    double* po = pOffset.data() + (size_t)t * c;
    for (int64_t b = b0; b < b1; ++b) {
      const float* xb = x + b * s * c;
      const float* dyb = dy + b * s * c;
      float* dxb = dx + b * s * c;
      for (int64_t j = 0; j < c; ++j) mu[j] = mean[b * groups + j / cg];
      std::fill(a.begin(), a.end(), 0.0);
      std::fill(bb.begin(), bb.end(), 0.0);
      for (int64_t r = 0; r < s; ++r) {
        const float* px = xb + r * c;
        const float* pdy = dyb + r * c;
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          a[j] += pdy[j];
          bb[j] += pdy[j] * (px[j] - mu[j]);
        }
      }
      for (int64_t g = 0; g < groups; ++g) {
        const double inv = invStd[b * groups + g];
        double sa = 0, sb = 0;  // sum(dy*scale), sum(dy*scale*(x-mean)) over the group
        for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
          const double sc = scale ? scale[j] : 1.0;
          sa += sc * a[j];
          sb += sc * bb[j];
          po[j] += a[j];
          ps[j] += bb[j] * inv;
        }
        // dx = inv*(scale*dy - mean(scale*dy) - xhat*mean(scale*dy*xhat))
        const double c3 = -inv * inv * inv * sb / m;
        const double c4 = -inv * sa / m - c3 * mean[b * groups + g];
        for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
          k1[j] = (float)((scale ? scale[j] : 1.0) * inv);
          k3[j] = (float)c3;
          k4[j] = (float)c4;
        }
      }
      for (int64_t r = 0; r < s; ++r) {
        const float* px = xb + r * c;
        const float* pdy = dyb + r * c;
        float* pdx = dxb + r * c;
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) pdx[j] = k1[j] * pdy[j] + k3[j] * px[j] + k4[j];
      }
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double ss = 0, so = 0;
    for (int t = 0; t < nt; ++t) {
      ss += pScale[(size_t)t * c + j];
      so += pOffset[(size_t)t * c + j];
    }
    dscale[j] = (float)ss;
    doffset[j] = (float)so;
  }
}

}  // namespace dlcv
