// Reductions (sum, mean, max, min, prod) over the middle axis of x viewed as [A, R, B], and
// argMax / argMin (OpenMP, float32). Sums and products accumulate in double; max and min
// propagate NaN, as the tfjs cpu backend does.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "op_codes.h"
#include "ops.h"
#include "parallel.h"

namespace dlcv {

namespace {

// One reduction: its op, the reduced length R and the start values.
struct Reduction {
  ReduceOp op;
  int64_t R;
  double initD;  // Sum, Mean and Prod accumulate in double
  float initF;   // Max and Min in float

  Reduction(ReduceOp o, int64_t r)
      : op(o),
        R(r),
        initD(o == ReduceOp::Prod ? 1.0 : 0.0),
        initF(o == ReduceOp::Max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity()) {}

  bool sums() const { return op == ReduceOp::Sum || op == ReduceOp::Mean; }
  bool inDouble() const { return sums() || op == ReduceOp::Prod; }
  float finish(double v) const { return op == ReduceOp::Mean ? (float)(v / (double)R) : (float)v; }

  // The reduction of one contiguous row of R values.
  float row(const float* p) const {
    if (sums()) {
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t r = 0; r < R; ++r) acc += p[r];
      return finish(acc);
    } else if (op == ReduceOp::Prod) {
      double acc = 1;
      for (int64_t r = 0; r < R; ++r) acc *= p[r];
      return (float)acc;
    } else if (op == ReduceOp::Max) {
      float m = initF;
      for (int64_t r = 0; r < R; ++r) m = (p[r] > m || std::isnan(p[r])) ? p[r] : m;
      return m;
    } else {
      float m = initF;
      for (int64_t r = 0; r < R; ++r) m = (p[r] < m || std::isnan(p[r])) ? p[r] : m;
      return m;
    }
  }

  // Folds rows [r0, r1) of the [R, B] block at `base`, columns [b0, b1), into accD / accF.
  void block(const float* base, int64_t B, int64_t r0, int64_t r1, int64_t b0, int64_t b1, double* accD,
             float* accF) const {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = base + r * B;
      if (sums()) {
#pragma omp simd
        for (int64_t b = b0; b < b1; ++b) accD[b - b0] += row[b];
      } else if (op == ReduceOp::Prod) {
        for (int64_t b = b0; b < b1; ++b) accD[b - b0] *= row[b];
      } else if (op == ReduceOp::Max) {
        for (int64_t b = b0; b < b1; ++b) {
          float v = row[b];
          float& m = accF[b - b0];
          m = (v > m || std::isnan(v)) ? v : m;
        }
      } else {
        for (int64_t b = b0; b < b1; ++b) {
          float v = row[b];
          float& m = accF[b - b0];
          m = (v < m || std::isnan(v)) ? v : m;
        }
      }
    }
  }
};

// B == 1: contiguous rows, one per output.
void reduceRows(const Reduction& red, const float* x, int64_t A, float* out, bool big, int nt) {
  const int64_t R = red.R;
  if (!big || A >= nt) {
    parallelRange(A, big ? 1 : A + 1, [&](int64_t s, int64_t e) {
      for (int64_t a = s; a < e; ++a) out[a] = red.row(x + a * R);
    });
    return;
  }
  // few long rows: split each row among threads (sum/mean only need this for speed)
  for (int64_t a = 0; a < A; ++a) {
    const float* p = x + a * R;
    if (red.sums()) {
      double acc = 0;
#pragma omp parallel for reduction(+ : acc) schedule(static)
      for (int64_t r = 0; r < R; ++r) acc += p[r];
      out[a] = red.finish(acc);
    } else {
      out[a] = red.row(p);
    }
  }
}

// B > 1, one thread per slice a of [A, R, B].
void reduceColumns(const Reduction& red, const float* x, int64_t A, int64_t B, float* out, bool big) {
  const int64_t R = red.R;
  parallelRange(A, big ? 1 : A + 1, [&](int64_t s, int64_t e) {
    std::vector<double> accD(B);
    std::vector<float> accF(B);
    for (int64_t a = s; a < e; ++a) {
      std::fill(accD.begin(), accD.end(), red.initD);
      std::fill(accF.begin(), accF.end(), red.initF);
      red.block(x + a * R * B, B, 0, R, 0, B, accD.data(), accF.data());
      for (int64_t b = 0; b < B; ++b) out[a * B + b] = red.inDouble() ? red.finish(accD[b]) : accF[b];
    }
  });
}

// B > 1 and fewer slices than threads: split R among threads with private partials, then combine
// them in thread order.
void reduceColumnsSplit(const Reduction& red, const float* x, int64_t A, int64_t B, float* out, int nt) {
  const int64_t R = red.R;
  std::vector<double> partD((size_t)nt * B);
  std::vector<float> partF((size_t)nt * B);
  for (int64_t a = 0; a < A; ++a) {
    std::fill(partD.begin(), partD.end(), red.initD);
    std::fill(partF.begin(), partF.end(), red.initF);
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), T = omp_get_num_threads();
      int64_t chunk = (R + T - 1) / T;
      int64_t r0 = std::min<int64_t>(R, t * chunk), r1 = std::min<int64_t>(R, r0 + chunk);
      if (r0 < r1) red.block(x + a * R * B, B, r0, r1, 0, B, partD.data() + t * B, partF.data() + t * B);
    }
    for (int64_t b = 0; b < B; ++b) {
      if (red.sums()) {
        double s = 0;
        for (int t = 0; t < nt; ++t) s += partD[t * B + b];
        out[a * B + b] = red.finish(s);
      } else if (red.op == ReduceOp::Prod) {
        double s = 1;
        for (int t = 0; t < nt; ++t) s *= partD[t * B + b];
        out[a * B + b] = (float)s;
      } else {
        float m = red.initF;
        for (int t = 0; t < nt; ++t) {
          float v = partF[t * B + b];
          if (red.op == ReduceOp::Max) m = (v > m || std::isnan(v)) ? v : m;
          else m = (v < m || std::isnan(v)) ? v : m;
        }
        out[a * B + b] = m;
      }
    }
  }
}

}  // namespace

void reduce3(int op, const float* x, int64_t A, int64_t R, int64_t B, float* out) {
  if (op < 0 || op > static_cast<int>(ReduceOp::Prod)) throw std::runtime_error("unknown reduce op");
  const Reduction red(static_cast<ReduceOp>(op), R);
  const int nt = omp_get_max_threads();
  const bool big = A * R * B >= kParallelMin && nt > 1;
  if (B == 1) reduceRows(red, x, A, out, big, nt);
  else if (!big || A >= nt) reduceColumns(red, x, A, B, out, big);
  else reduceColumnsSplit(red, x, A, B, out, nt);
}

void argReduce3(bool isMax, const float* x, int64_t A, int64_t R, int64_t B, int32_t* out) {
  parallelRange(A * B, kParallelMin, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      int64_t a = i / B, b = i % B;
      const float* p = x + a * R * B + b;
      float best = p[0];
      int32_t bi = 0;
      for (int64_t r = 1; r < R; ++r) {
        float v = p[r * B];
        if (isMax ? v > best : v < best) {
          best = v;
          bi = (int32_t)r;
        }
      }
      out[i] = bi;
    }
  });
}

}  // namespace dlcv
