#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlcv {

using Shape = std::vector<int64_t>;

struct ConvParams {
  int64_t n, h, w, c;       // input NHWC
  int64_t kh, kw, o;        // filter HWIO: kh, kw, c, o
  int64_t oh, ow;           // output spatial
  int64_t sh, sw;           // strides
  int64_t pt, pb, pl, pr;   // paddings
  int64_t dh, dw;           // dilations (tfjs convention, 1 = none)
};

std::string dnnlInfo();
std::vector<std::string> convImplementations();
void conv2dForward(const ConvParams& c, float* x, float* w, float* y, float* bias = nullptr);
void conv2dBackwardData(const ConvParams& c, float* dy, float* w, float* dx);
void conv2dBackwardFilter(const ConvParams& c, float* x, float* dy, float* dw);
void matmulBatched(int64_t batchA, int64_t batchB, int64_t m, int64_t k, int64_t n, bool transA, bool transB,
                   float* a, float* b, float* out);

int numThreads();
void setThreads(int n);

// Elementwise ops. `op` is a code from op_codes.h's table of the family (BinaryOp, CompareOp,
// UnaryOp, UnaryGradOp); binary and compare broadcast a and b to the output shape.
void binary(int op, const float* a, const Shape& sa, const float* b, const Shape& sb, float* out,
            const Shape& so);
void compare(int op, const float* a, const Shape& sa, const float* b, const Shape& sb, uint8_t* out,
             const Shape& so);
void unary(int op, const float* x, float* out, int64_t n, float alpha, float beta);
// saved: the forward input, or its output for Elu, Sigmoid and Tanh.
void unaryGrad(int op, const float* dy, const float* saved, float* out, int64_t n, float alpha);
void select(const uint8_t* cond, const float* a, const float* b, float* out, int64_t n);
// Reduce x viewed as [A, R, B] over R. op: a ReduceOp code (op_codes.h).
void reduce3(int op, const float* x, int64_t A, int64_t R, int64_t B, float* out);
void argReduce3(bool isMax, const float* x, int64_t A, int64_t R, int64_t B, int32_t* out);
void transpose(const float* x, const Shape& shape, const std::vector<int64_t>& perm, float* out);
void tile(const float* x, const Shape& shape, const Shape& reps, float* out);
void slice(const float* x, const Shape& shape, const std::vector<int64_t>& begin, const Shape& size, float* out);
void padConst(const float* x, const Shape& shape, const std::vector<int64_t>& before, const Shape& outShape,
              float value, float* out);
void concat(const std::vector<const float*>& xs, const std::vector<int64_t>& widths, int64_t outer, float* out);

struct PoolParams {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
};
void maxPool(const PoolParams& p, const float* x, float* y);
void avgPool(const PoolParams& p, const float* x, float* y);
void maxPoolGrad(const PoolParams& p, const float* dy, const float* x, float* dx);
void avgPoolGrad(const PoolParams& p, const float* dy, float* dx);

// out = (x - mean) * rsqrt(var + eps) * scale + offset with per-channel (last dim) params.
void batchNormInfer(const float* x, int64_t rows, int64_t c, const float* mean, const float* var,
                    const float* scale, const float* offset, float eps, float* out);
// Training batch norm over all but the last dim: returns y, saves mean and inverse std.
void batchNormTrain(const float* x, int64_t rows, int64_t c, const float* scale, const float* offset, float eps,
                    float* y, float* mean, float* var, float* invStd);
// Backward of batchNormTrain w.r.t. x, scale, offset.
void batchNormTrainGrad(const float* dy, const float* x, int64_t rows, int64_t c, const float* scale,
                        const float* mean, const float* invStd, float* dx, float* dscale, float* doffset);

// GroupNorm over x viewed as [n, s, c] with `groups` contiguous channel groups (NHWC GroupNorm):
// returns y and per (sample, group) mean and inverse std, [n * groups] each.
void groupNorm(const float* x, int64_t n, int64_t s, int64_t c, int64_t groups, const float* scale,
               const float* offset, float eps, float* y, float* mean, float* invStd);
// Backward of groupNorm w.r.t. x, scale, offset.
void groupNormGrad(const float* dy, const float* x, int64_t n, int64_t s, int64_t c, int64_t groups,
                   const float* scale, const float* mean, const float* invStd, float* dx, float* dscale,
                   float* doffset);

void adam(float* var, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
          float oneMinusAccBeta1, float oneMinusAccBeta2, float* outVar, float* outM, float* outV);

}  // namespace dlcv
