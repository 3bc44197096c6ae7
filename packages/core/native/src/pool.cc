// Pooling, NHWC, dilation 1 (tfjs cpu semantics: windows clipped to the input), and the
// gradients of max and average pooling (OpenMP, float32).
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "ops.h"
#include "parallel.h"

namespace dlcv {

// The input rows (or columns) [lo, hi) of output position o's window, clipped to [0, n).
static inline void windowSpan(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t n, int64_t& lo, int64_t& hi) {
  lo = o * stride - pad;
  hi = std::min(n, lo + k);
  lo = std::max<int64_t>(0, lo);
}
// Calls f(b, yr, yc, r0, r1, c0, c1) for each output pixel of the output rows i in [s, e) of
// the n * oh (b = i / oh, yr = i % oh), with its window's input rows [r0, r1) and columns [c0, c1).
template <class F>
static void forEachWindow(const PoolParams& p, int64_t s, int64_t e, F f) {
  for (int64_t i = s; i < e; ++i) {
    int64_t b = i / p.oh, yr = i % p.oh;
    int64_t r0, r1;
    windowSpan(yr, p.sh, p.pt, p.kh, p.h, r0, r1);
    for (int64_t yc = 0; yc < p.ow; ++yc) {
      int64_t c0, c1;
      windowSpan(yc, p.sw, p.pl, p.kw, p.w, c0, c1);
      f(b, yr, yc, r0, r1, c0, c1);
    }
  }
}

// The forward pools: `start(m)` resets the per-channel accumulator, `add(m, px)` folds in one
// input pixel's channels, `finish(m, py, count)` writes the output pixel (count: the window's
// pixels inside the input).
template <class Start, class Add, class Finish>
static void poolWindows(const PoolParams& p, const float* x, float* y, Start start, Add add, Finish finish) {
  parallelRange(p.n * p.oh, 1, [&](int64_t s, int64_t e) {
    std::vector<float> m(p.c);
    forEachWindow(p, s, e, [&](int64_t b, int64_t yr, int64_t yc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      start(m);
      for (int64_t xr = r0; xr < r1; ++xr)
        for (int64_t xc = c0; xc < c1; ++xc) add(m.data(), x + ((b * p.h + xr) * p.w + xc) * p.c);
      finish(m.data(), y + ((b * p.oh + yr) * p.ow + yc) * p.c, (r1 - r0) * (c1 - c0));
    });
  });
}

void maxPool(const PoolParams& p, const float* x, float* y) {
  const int64_t C = p.c;
  poolWindows(
      p, x, y, [](std::vector<float>& m) { std::fill(m.begin(), m.end(), -std::numeric_limits<float>::infinity()); },
      [C](float* m, const float* px) {
        for (int64_t d = 0; d < C; ++d) m[d] = px[d] > m[d] ? px[d] : m[d];
      },
      [C](const float* m, float* py, int64_t) { std::memcpy(py, m, C * sizeof(float)); });
}

void avgPool(const PoolParams& p, const float* x, float* y) {
  const int64_t C = p.c;
  poolWindows(
      p, x, y, [](std::vector<float>& m) { std::fill(m.begin(), m.end(), 0.0f); },
      [C](float* m, const float* px) {
        for (int64_t d = 0; d < C; ++d) m[d] += px[d];
      },
      [C](const float* m, float* py, int64_t n) {
        float count = (float)n;
        for (int64_t d = 0; d < C; ++d) py[d] = m[d] / count;
      });
}

// Windows that tile the input (stride = window, inside it, no dilation, e.g. every 2x2 pooling
// of the DANN and the U-Net): each input pixel is in at most one window, so dx is written once,
// in order, with no zero-fill pass and no scatter, and the per-channel work is branch-free
// (vectorized): the window's max first, then the gradient goes to the first pixel equal to it
// (row-major scan order, as the cpu backend's). One window row at a time, so x is read from
// memory once. Measured on [512, 28, 28, 32]: 15 ms against 30 ms for the general kernel.
static void maxPoolGradTiled(const PoolParams& p, const float* dy, const float* x, float* dx) {
  const int64_t rowLen = p.w * p.c;
  parallelRange(p.n * p.oh, 1, [&](int64_t s, int64_t e) {
    // Bit masks, not bools: `a == b && !taken` compiles to branches (mispredicted half the time).
    std::vector<float> m(p.c);
    std::vector<uint32_t> taken(p.c), gBits(p.c);
    for (int64_t i = s; i < e; ++i) {
      int64_t b = i / p.oh, yr = i % p.oh;
      const float* x0 = x + (b * p.h + yr * p.kh) * rowLen;
      float* dx0 = dx + (b * p.h + yr * p.kh) * rowLen;
      const float* dyRow = dy + i * p.ow * p.c;
      for (int64_t yc = 0; yc < p.ow; ++yc) {
        const int64_t col = yc * p.kw * p.c;
        std::fill(m.begin(), m.end(), -std::numeric_limits<float>::infinity());
        for (int64_t wr = 0; wr < p.kh; ++wr)
          for (int64_t wc = 0; wc < p.kw; ++wc) {
            const float* px = x0 + wr * rowLen + col + wc * p.c;
            for (int64_t d = 0; d < p.c; ++d) m[d] = px[d] > m[d] ? px[d] : m[d];
          }
        std::memcpy(gBits.data(), dyRow + yc * p.c, sizeof(float) * p.c);
        for (int64_t d = 0; d < p.c; ++d)  // a window of -Infinity only gets no gradient
          taken[d] = m[d] > -std::numeric_limits<float>::infinity() ? 0u : ~0u;
        for (int64_t wr = 0; wr < p.kh; ++wr)
          for (int64_t wc = 0; wc < p.kw; ++wc) {
            const float* px = x0 + wr * rowLen + col + wc * p.c;
            uint32_t* pdx = reinterpret_cast<uint32_t*>(dx0 + wr * rowLen + col + wc * p.c);
            for (int64_t d = 0; d < p.c; ++d) {
              uint32_t eq = px[d] == m[d] ? ~0u : 0u;
              pdx[d] = gBits[d] & eq & ~taken[d];
              taken[d] |= eq;
            }
          }
      }
      // columns right of the last window, and rows below it, get no gradient
      const int64_t covered = p.ow * p.kw * p.c;
      if (covered < rowLen)
        for (int64_t wr = 0; wr < p.kh; ++wr) std::memset(dx0 + wr * rowLen + covered, 0, sizeof(float) * (rowLen - covered));
      if (yr == p.oh - 1 && p.oh * p.kh < p.h)
        std::memset(dx0 + p.kh * rowLen, 0, sizeof(float) * (p.h - p.oh * p.kh) * rowLen);
    }
  });
}

void maxPoolGrad(const PoolParams& p, const float* dy, const float* x, float* dx) {
  bool tiles = p.sh == p.kh && p.sw == p.kw && p.pt == 0 && p.pl == 0 && p.dh == 1 && p.dw == 1 &&
               p.oh * p.kh <= p.h && p.ow * p.kw <= p.w;  // no window reaches into bottom/right padding
  if (tiles) {
    maxPoolGradTiled(p, dy, x, dx);
    return;
  }
  std::memset(dx, 0, sizeof(float) * p.n * p.h * p.w * p.c);
  parallelRange(p.n, 1, [&](int64_t s, int64_t e) {
    std::vector<float> m(p.c);
    std::vector<int64_t> pos(p.c);
    forEachWindow(p, s * p.oh, e * p.oh, [&](int64_t b, int64_t yr, int64_t yc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      std::fill(m.begin(), m.end(), -std::numeric_limits<float>::infinity());
      std::fill(pos.begin(), pos.end(), -1);
      for (int64_t xr = r0; xr < r1; ++xr)
        for (int64_t xc = c0; xc < c1; ++xc) {
          int64_t base = ((b * p.h + xr) * p.w + xc) * p.c;
          for (int64_t d = 0; d < p.c; ++d)
            if (x[base + d] > m[d]) {
              m[d] = x[base + d];
              pos[d] = base + d;
            }
        }
      const float* pdy = dy + ((b * p.oh + yr) * p.ow + yc) * p.c;
      for (int64_t d = 0; d < p.c; ++d)
        if (pos[d] >= 0) dx[pos[d]] += pdy[d];
    });
  });
}

void avgPoolGrad(const PoolParams& p, const float* dy, float* dx) {
  std::memset(dx, 0, sizeof(float) * p.n * p.h * p.w * p.c);
  const float mult = 1.0f / (float)(p.kh * p.kw);
  parallelRange(p.n, 1, [&](int64_t s, int64_t e) {
    forEachWindow(p, s * p.oh, e * p.oh, [&](int64_t b, int64_t yr, int64_t yc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      const float* pdy = dy + ((b * p.oh + yr) * p.ow + yc) * p.c;
      for (int64_t xr = r0; xr < r1; ++xr)
        for (int64_t xc = c0; xc < c1; ++xc) {
          float* pdx = dx + ((b * p.h + xr) * p.w + xc) * p.c;
          for (int64_t d = 0; d < p.c; ++d) pdx[d] += pdy[d] * mult;
        }
    });
  });
}

}  // namespace dlcv
