// OpenMP work splitting shared by the hand-written CPU kernels.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace dlcv {

// Below this many elements a kernel runs on the calling thread.
static const int64_t kParallelMin = 1 << 15;

// Split [0, n) among threads; f(begin, end) runs once per chunk.
template <class F>
static void parallelRange(int64_t n, int64_t grain, F f) {
  if (n <= 0) return;
  int nt = omp_get_max_threads();
  if (n < grain || nt <= 1) {
    f(0, n);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t chunk = (n + T - 1) / T;
    int64_t b = std::min<int64_t>(n, t * chunk), e = std::min<int64_t>(n, b + chunk);
    if (b < e) f(b, e);
  }
}

}  // namespace dlcv
