// Layout kernels: transpose, tile, slice, constant pad and concat (OpenMP, float32, row-major).
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops.h"
#include "parallel.h"

namespace dlcv {

// Row-major strides of `shape`.
static std::vector<int64_t> stridesOf(const Shape& shape) {
  std::vector<int64_t> stride(shape.size());
  int64_t acc = 1;
  for (int i = (int)shape.size() - 1; i >= 0; --i) {
    stride[i] = acc;
    acc *= shape[i];
  }
  return stride;
}

// For each row (every index of all but the last axis) of an array of `dims`, in parallel, calls
// f(row, offset) with offset = first + the sum over those axes k of term(k, index along k).
template <class Term, class F>
static void forEachRow(const Shape& dims, int64_t first, Term term, F f) {
  const int r = (int)dims.size();
  int64_t rows = 1;
  for (int i = 0; i < r - 1; ++i) rows *= dims[i];
  parallelRange(rows, 64, [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      int64_t off = first, rem = row;
      for (int k = r - 2; k >= 0; --k) {
        int64_t ik = rem % dims[k];
        rem /= dims[k];
        off += term(k, ik);
      }
      f(row, off);
    }
  });
}

void transpose(const float* x, const Shape& shape, const std::vector<int64_t>& perm, float* out) {
  const int r = (int)shape.size();
  const std::vector<int64_t> inStride = stridesOf(shape);
  std::vector<int64_t> outShape(r), st(r);
  int64_t n = 1;
  for (int i = 0; i < r; ++i) {
    n *= shape[i];
    outShape[i] = shape[perm[i]];
    st[i] = inStride[perm[i]];
  }
  if (r == 0 || n == 0) {
    if (n) out[0] = x[0];
    return;
  }
  const int64_t D = outShape[r - 1];
  const int64_t ls = st[r - 1];
  forEachRow(
      outShape, 0, [&](int k, int64_t ik) { return ik * st[k]; },
      [&](int64_t row, int64_t off) {
        const float* src = x + off;
        float* dst = out + row * D;
        for (int64_t i = 0; i < D; ++i) dst[i] = src[i * ls];
      });
}

void tile(const float* x, const Shape& shape, const Shape& reps, float* out) {
  const int r = (int)shape.size();
  if (r == 0) {
    out[0] = x[0];
    return;
  }
  const std::vector<int64_t> inStride = stridesOf(shape);
  Shape outShape(r);
  int64_t n = 1;
  for (int i = 0; i < r; ++i) {
    outShape[i] = shape[i] * reps[i];
    n *= outShape[i];
  }
  if (n == 0) return;
  const int64_t D = shape[r - 1], OD = outShape[r - 1];
  forEachRow(
      outShape, 0, [&](int k, int64_t ik) { return (ik % shape[k]) * inStride[k]; },
      [&](int64_t row, int64_t off) {
        float* dst = out + row * OD;
        for (int64_t t = 0; t < reps[r - 1]; ++t) std::memcpy(dst + t * D, x + off, D * sizeof(float));
      });
}

void slice(const float* x, const Shape& shape, const std::vector<int64_t>& begin, const Shape& size, float* out) {
  const int r = (int)shape.size();
  int64_t n = 1;
  for (int i = 0; i < r; ++i) n *= size[i];
  if (n == 0) return;
  if (r == 0) {
    out[0] = x[0];
    return;
  }
  const int64_t D = size[r - 1];
  const std::vector<int64_t> inStride = stridesOf(shape);
  forEachRow(
      size, begin[r - 1], [&](int k, int64_t ik) { return (ik + begin[k]) * inStride[k]; },
      [&](int64_t row, int64_t off) { std::memcpy(out + row * D, x + off, D * sizeof(float)); });
}

void padConst(const float* x, const Shape& shape, const std::vector<int64_t>& before, const Shape& outShape,
              float value, float* out) {
  const int r = (int)shape.size();
  int64_t n = 1, no = 1;
  for (int i = 0; i < r; ++i) {
    n *= shape[i];
    no *= outShape[i];
  }
  parallelRange(no, kParallelMin, [&](int64_t s, int64_t e) { std::fill(out + s, out + e, value); });
  if (n == 0) return;
  if (r == 0) {
    out[0] = x[0];
    return;
  }
  const int64_t D = shape[r - 1];
  const std::vector<int64_t> outStride = stridesOf(outShape);
  forEachRow(
      shape, before[r - 1], [&](int k, int64_t ik) { return (ik + before[k]) * outStride[k]; },
      [&](int64_t row, int64_t off) { std::memcpy(out + off, x + row * D, D * sizeof(float)); });
}

void concat(const std::vector<const float*>& xs, const std::vector<int64_t>& widths, int64_t outer, float* out) {
  int64_t W = 0;
  for (auto w : widths) W += w;
  parallelRange(outer, 64, [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      float* dst = out + row * W;
      for (size_t i = 0; i < xs.size(); ++i) {
        std::memcpy(dst, xs[i] + row * widths[i], widths[i] * sizeof(float));
        dst += widths[i];
      }
    }
  });
}

}  // namespace dlcv
