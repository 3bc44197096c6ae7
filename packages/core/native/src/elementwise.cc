// Broadcasting binary and comparison ops, and select (OpenMP, float32). Semantics follow the
// tfjs cpu backend kernels they replace; the ops themselves are the tables in op_codes.h.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "op_codes.h"
#include "ops.h"
#include "parallel.h"

namespace dlcv {

// Broadcast planning: collapse the output shape into as few dims as possible, keeping for each
// operand a stride (0 where broadcast).
struct Plan {
  int r = 0;
  int64_t dims[16];
  int64_t sa[16], sb[16];
  int64_t n = 1;
};

static Plan makePlan(const Shape& A, const Shape& B, const Shape& O) {
  int R = (int)O.size();
  std::vector<int64_t> a(R, 1), b(R, 1);
  for (size_t i = 0; i < A.size(); ++i) a[R - A.size() + i] = A[i];
  for (size_t i = 0; i < B.size(); ++i) b[R - B.size() + i] = B[i];
  std::vector<int64_t> stA(R), stB(R);
  int64_t accA = 1, accB = 1;
  for (int i = R - 1; i >= 0; --i) {
    stA[i] = (a[i] == 1) ? 0 : accA;
    stB[i] = (b[i] == 1) ? 0 : accB;
    accA *= a[i];
    accB *= b[i];
  }
  // Collect non-trivial dims from innermost outwards, merging when contiguous.
  std::vector<int64_t> d, xa, xb;
  for (int i = R - 1; i >= 0; --i) {
    if (O[i] == 1) continue;
    if (!d.empty()) {
      int64_t dl = d.back(), al = xa.back(), bl = xb.back();
      if (stA[i] == al * dl && stB[i] == bl * dl) {
        d.back() = dl * O[i];
        continue;
      }
    }
    d.push_back(O[i]);
    xa.push_back(stA[i]);
    xb.push_back(stB[i]);
  }
  Plan p;
  if (d.empty()) {
    p.r = 1;
    p.dims[0] = 1;
    p.sa[0] = 0;
    p.sb[0] = 0;
    p.n = 1;
    return p;
  }
  p.r = (int)d.size();
  for (int i = 0; i < p.r; ++i) {
    p.dims[i] = d[p.r - 1 - i];
    p.sa[i] = xa[p.r - 1 - i];
    p.sb[i] = xb[p.r - 1 - i];
    p.n *= p.dims[i];
  }
  // A size-1 operand gives stride 0 everywhere; a contiguous innermost gives 1.
  if (p.sa[p.r - 1] > 1 || p.sb[p.r - 1] > 1) {
    // should not happen: innermost stride is 0 or 1 by construction
  }
  return p;
}

template <class T, class F>
static void runBroadcast(const Plan& p, const float* a, const float* b, T* out, F f) {
  const int r = p.r;
  const int64_t D = p.dims[r - 1];
  const int64_t la = p.sa[r - 1], lb = p.sb[r - 1];
  parallelRange(p.n, kParallelMin, [&](int64_t s, int64_t e) {
    int64_t idx = s;
    while (idx < e) {
      int64_t row = idx / D, col = idx % D;
      int64_t len = std::min(D - col, e - idx);
      int64_t oa = 0, ob = 0, rem = row;
      for (int k = r - 2; k >= 0; --k) {
        int64_t ik = rem % p.dims[k];
        rem /= p.dims[k];
        oa += ik * p.sa[k];
        ob += ik * p.sb[k];
      }
      oa += col * la;
      ob += col * lb;
      const float* pa = a + oa;
      const float* pb = b + ob;
      T* po = out + idx;
      if (la && lb) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) po[i] = f(pa[i], pb[i]);
      } else if (la) {
        const float vb = *pb;
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) po[i] = f(pa[i], vb);
      } else if (lb) {
        const float va = *pa;
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) po[i] = f(va, pb[i]);
      } else {
        const T v = f(*pa, *pb);
        for (int64_t i = 0; i < len; ++i) po[i] = v;
      }
      idx += len;
    }
  });
}

#define DLCV_BINARY_CASE(name, expr) \
  case BinaryOp::name: runBroadcast(p, a, b, out, [](float x, float y) { return expr; }); break;

void binary(int op, const float* a, const Shape& sa, const float* b, const Shape& sb, float* out, const Shape& so) {
  Plan p = makePlan(sa, sb, so);
  switch (static_cast<BinaryOp>(op)) {
    DLCV_BINARY_OPS(DLCV_BINARY_CASE)
    default: throw std::runtime_error("unknown binary op");
  }
}

#define DLCV_COMPARE_CASE(name, expr) \
  case CompareOp::name: runBroadcast(p, a, b, out, [](float x, float y) -> uint8_t { return expr; }); break;

void compare(int op, const float* a, const Shape& sa, const float* b, const Shape& sb, uint8_t* out,
             const Shape& so) {
  Plan p = makePlan(sa, sb, so);
  switch (static_cast<CompareOp>(op)) {
    DLCV_COMPARE_OPS(DLCV_COMPARE_CASE)
    default: throw std::runtime_error("unknown compare op");
  }
}

void select(const uint8_t* cond, const float* a, const float* b, float* out, int64_t n) {
  parallelRange(n, kParallelMin, [&](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) out[i] = cond[i] ? a[i] : b[i];
  });
}

}  // namespace dlcv
