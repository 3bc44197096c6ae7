// The fused Adam update, and the OpenMP thread count every kernel uses.
#include <omp.h>

#include <cmath>

#include "ops.h"
#include "parallel.h"

namespace dlcv {

int numThreads() { return omp_get_max_threads(); }
void setThreads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

void adam(float* var, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
          float oneMinusAccBeta1, float oneMinusAccBeta2, float* outVar, float* outM, float* outV) {
  const float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
  parallelRange(n, kParallelMin, [&](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) {
      float gi = g[i];
      float nm = m[i] * beta1 + gi * c1;
      float nv = v[i] * beta2 + (gi * gi) * c2;
      float bm = nm / oneMinusAccBeta1;
      float bv = nv / oneMinusAccBeta2;
      outM[i] = nm;
      outV[i] = nv;
      outVar[i] = (bm / (std::sqrt(bv) + eps)) * (-lr) + var[i];
    }
  });
}

}  // namespace dlcv
