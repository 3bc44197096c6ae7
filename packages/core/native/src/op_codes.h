// The op codes of the elementwise and reduction families, one table per family. An op's code is
// its position in its table; binding.cc exports every table by name (addon.opCodes()), so the
// TS side looks codes up instead of repeating them. Each entry is the op's tfjs name and, for the
// elementwise families, its scalar expression over:
//   binary, compare: x, y (the two operands after broadcasting)
//   unary:           v (the input), alpha and beta (LeakyRelu's slope, Step's value at v <= 0,
//                    ClipByValue's bounds)
//   unaryGrad:       dy, s (the saved forward input, or output for Elu/Sigmoid/Tanh), alpha
#pragma once
#include <cmath>

#define DLCV_BINARY_OPS(X)                                                    \
  X(Add, x + y)                                                               \
  X(Sub, x - y)                                                               \
  X(Multiply, x * y)                                                          \
  X(RealDiv, x / y)                                                           \
  X(Maximum, (std::isnan(x) || std::isnan(y)) ? NAN : (x > y ? x : y))        \
  X(Minimum, (std::isnan(x) || std::isnan(y)) ? NAN : (x < y ? x : y))        \
  X(SquaredDifference, (x - y) * (x - y))                                     \
  X(Pow, std::pow(x, y))                                                      \
  X(Prelu, x < 0 ? y * x : x)

#define DLCV_COMPARE_OPS(X) \
  X(Greater, x > y)         \
  X(GreaterEqual, x >= y)   \
  X(Less, x < y)            \
  X(LessEqual, x <= y)      \
  X(Equal, x == y)          \
  X(NotEqual, x != y)

#define DLCV_UNARY_OPS(X)                                                          \
  X(Relu, v < 0 ? 0.0f : v)                                                        \
  X(Relu6, std::min(std::max(v, 0.0f), 6.0f))                                      \
  X(LeakyRelu, v < 0 ? alpha * v : v)                                              \
  X(Elu, v >= 0 ? v : std::exp(v) - 1.0f)                                          \
  X(Sigmoid, 1.0f / (1.0f + std::exp(-v)))                                         \
  X(Tanh, std::tanh(v))                                                            \
  X(Exp, std::exp(v))                                                              \
  X(Log, std::log(v))                                                              \
  X(Neg, -v)                                                                       \
  X(Sqrt, std::sqrt(v))                                                            \
  X(Rsqrt, 1.0f / std::sqrt(v))                                                    \
  X(Square, v * v)                                                                 \
  X(Abs, std::fabs(v))                                                             \
  X(Erf, std::erf(v))                                                              \
  X(Reciprocal, 1.0f / v)                                                          \
  X(Softplus, softplusTf(v))                                                       \
  X(Step, std::isnan(v) ? NAN : (v > 0 ? 1.0f : alpha))                            \
  X(Log1p, std::log1p(v))                                                          \
  X(Expm1, std::expm1(v))                                                          \
  X(Sign, v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f))                                   \
  X(Selu, seluScalar(v))                                                           \
  X(ClipByValue, std::isnan(v) ? NAN : std::min(beta, std::max(alpha, v)))         \
  X(Gelu, geluScalar(v))

#define DLCV_UNARY_GRAD_OPS(X)                                    \
  X(Elu, s >= 0 ? dy : dy * (s + 1.0f))                           \
  X(Relu, dy * (std::isnan(s) ? NAN : (s > 0 ? 1.0f : 0.0f)))     \
  X(LeakyRelu, s > 0 ? dy : dy * alpha)                           \
  X(Sigmoid, dy * (s * (1.0f - s)))                               \
  X(Tanh, dy * (1.0f - s * s))                                    \
  X(Gelu, geluGradScalar(dy, s))

// Reductions over the middle axis of [A, R, B]; reduce.cc implements each by name.
#define DLCV_REDUCE_OPS(X) \
  X(Sum)                   \
  X(Mean)                  \
  X(Max)                   \
  X(Min)                   \
  X(Prod)

#define DLCV_OP_ENUM(name, ...) name,
#define DLCV_OP_NAME(name, ...) #name,

namespace dlcv {

enum class BinaryOp : int { DLCV_BINARY_OPS(DLCV_OP_ENUM) };
enum class CompareOp : int { DLCV_COMPARE_OPS(DLCV_OP_ENUM) };
enum class UnaryOp : int { DLCV_UNARY_OPS(DLCV_OP_ENUM) };
enum class UnaryGradOp : int { DLCV_UNARY_GRAD_OPS(DLCV_OP_ENUM) };
enum class ReduceOp : int { DLCV_REDUCE_OPS(DLCV_OP_ENUM) };

}  // namespace dlcv
