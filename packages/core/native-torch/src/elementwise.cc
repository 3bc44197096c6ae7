// Broadcasting binary ops, comparisons, unary ops and activation gradients on ATen, by the op
// codes of the native addon's tables (op_codes.h). Semantics follow the tfjs cpu kernels; the
// arithmetic is ATen's (results agree to rounding, not bit for bit).
#include "op_codes.h"
#include "torch_util.h"

namespace dlcv_torch {

using dlcv::BinaryOp;
using dlcv::CompareOp;
using dlcv::UnaryGradOp;
using dlcv::UnaryOp;

static at::Tensor binaryOp(BinaryOp op, const at::Tensor& x, const at::Tensor& y) {
  switch (op) {
    case BinaryOp::Add: return at::add(x, y);
    case BinaryOp::Sub: return at::sub(x, y);
    case BinaryOp::Multiply: return at::mul(x, y);
    case BinaryOp::RealDiv: return at::div(x, y);
    case BinaryOp::Maximum: return at::maximum(x, y);
    case BinaryOp::Minimum: return at::minimum(x, y);
    case BinaryOp::SquaredDifference: return at::sub(x, y).square();
    case BinaryOp::Pow: return at::pow(x, y);
    case BinaryOp::Prelu: return at::where(x < 0, x * y, x);
  }
  throw JsError("unknown binary op");
}

// op(x, s), or op(s, x) when scalarFirst: Add, Sub and Multiply, whose scalar forms round as the
// tensor forms do (ATen computes them in float32, the scalar read as a float32 value). No device
// tensor is made for the scalar (PyTorch's `x * 0.5`).
static at::Tensor binaryScalarOp(BinaryOp op, const at::Tensor& x, const at::Scalar& s, bool scalarFirst) {
  switch (op) {
    case BinaryOp::Add: return at::add(x, s);
    case BinaryOp::Sub: return scalarFirst ? at::rsub(x, s) : at::sub(x, s);
    case BinaryOp::Multiply: return at::mul(x, s);
    default: throw JsError("binaryScalar takes add, sub and multiply only");
  }
}

static void binaryInPlace(BinaryOp op, at::Tensor& t, const at::Tensor& y) {
  switch (op) {
    case BinaryOp::Add: t.add_(y); return;
    case BinaryOp::Sub: t.sub_(y); return;
    case BinaryOp::Multiply: t.mul_(y); return;
    case BinaryOp::RealDiv: t.div_(y); return;
    default: t.copy_(binaryOp(op, t, y));
  }
}

static at::Tensor compareOp(CompareOp op, const at::Tensor& x, const at::Tensor& y) {
  switch (op) {
    case CompareOp::Greater: return at::gt(x, y);
    case CompareOp::GreaterEqual: return at::ge(x, y);
    case CompareOp::Less: return at::lt(x, y);
    case CompareOp::LessEqual: return at::le(x, y);
    case CompareOp::Equal: return at::eq(x, y);
    case CompareOp::NotEqual: return at::ne(x, y);
  }
  throw JsError("unknown compare op");
}

// tfjs's softplus: x above -log(eps) + 2 passes through, below log(eps) + 2 is exp(x) (eps: the
// float32 machine epsilon), in between log1p(exp(x)).
static at::Tensor softplusTf(const at::Tensor& v) {
  const double threshold = std::log(1.1920928955078125e-7) + 2.0;
  return at::where(v > -threshold, v, at::where(v < threshold, at::exp(v), at::log1p(at::exp(v))));
}

// NaN stays NaN, as in the tfjs kernels that compare.
static at::Tensor keepNan(const at::Tensor& v, const at::Tensor& r) { return at::where(at::isnan(v), v, r); }

static at::Tensor unaryOp(UnaryOp op, const at::Tensor& v, double alpha, double beta) {
  switch (op) {
    // clamp_min, not relu: the same result (NaN stays NaN), 8 instead of 82 ms over 32 MB on
    // libtorch 1.13 CPU, one kernel on CUDA either way.
    case UnaryOp::Relu: return at::clamp_min(v, 0.0);
    case UnaryOp::Relu6: return at::clamp(v, 0.0, 6.0);
    case UnaryOp::LeakyRelu: return at::leaky_relu(v, alpha);
    case UnaryOp::Elu: return at::elu(v);
    case UnaryOp::Sigmoid: return at::sigmoid(v);
    case UnaryOp::Tanh: return at::tanh(v);
    case UnaryOp::Exp: return at::exp(v);
    case UnaryOp::Log: return at::log(v);
    case UnaryOp::Neg: return at::neg(v);
    case UnaryOp::Sqrt: return at::sqrt(v);
    case UnaryOp::Rsqrt: return at::rsqrt(v);
    case UnaryOp::Square: return at::square(v);
    case UnaryOp::Abs: return at::abs(v);
    case UnaryOp::Erf: return at::erf(v);
    case UnaryOp::Reciprocal: return at::reciprocal(v);
    case UnaryOp::Softplus: return softplusTf(v);
    case UnaryOp::Step: return keepNan(v, at::where(v > 0, at::ones_like(v), at::full_like(v, alpha)));
    case UnaryOp::Log1p: return at::log1p(v);
    case UnaryOp::Expm1: return at::expm1(v);
    case UnaryOp::Sign: return at::sign(v);
    case UnaryOp::Selu: return at::selu(v);
    case UnaryOp::ClipByValue: return keepNan(v, at::clamp(v, alpha, beta));
    case UnaryOp::Gelu: return at::gelu(v, "none");
  }
  throw JsError("unknown unary op");
}

// The activations fused into convolutions and matmuls run in place on the kernel's own output.
static void unaryInPlace(UnaryOp op, at::Tensor& t, double alpha, double beta) {
  switch (op) {
    case UnaryOp::Relu: t.clamp_min_(0.0); return;
    case UnaryOp::Relu6: t.clamp_(0.0, 6.0); return;
    case UnaryOp::LeakyRelu: at::leaky_relu_(t, alpha); return;
    case UnaryOp::Elu: at::elu_(t); return;
    case UnaryOp::Sigmoid: t.sigmoid_(); return;
    default: t.copy_(unaryOp(op, t, alpha, beta));
  }
}

// s: the forward input, or its output for Elu, Sigmoid and Tanh.
static at::Tensor unaryGradOp(UnaryGradOp op, const at::Tensor& dy, const at::Tensor& s, double alpha) {
  switch (op) {
    case UnaryGradOp::Elu: return at::elu_backward(dy, 1.0, 1.0, 1.0, /*is_result=*/true, s);
    case UnaryGradOp::Relu: return at::threshold_backward(dy, s, 0);
    case UnaryGradOp::LeakyRelu: return at::leaky_relu_backward(dy, s, alpha, false);
    case UnaryGradOp::Sigmoid: return at::sigmoid_backward(dy, s);
    case UnaryGradOp::Tanh: return at::tanh_backward(dy, s);
    case UnaryGradOp::Gelu: return at::gelu_backward(dy, s, "none");
  }
  throw JsError("unknown unary gradient op");
}

// binary(op, a, b): broadcasting
static napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "binary", [op = static_cast<BinaryOp>(a.i64(0)), x = operandAt(a, 1), y = operandAt(a, 2)] { return binaryOp(op, x.get(), y.get()); });
  });
}
// binaryScalar(op, x, value, scalarFirst): op(x, value), or op(value, x) when scalarFirst is 1
static napi_value BinaryScalar(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "binaryScalar", [op = static_cast<BinaryOp>(a.i64(0)), x = operandAt(a, 1), value = a.num(2), scalarFirst = a.i64(3) != 0] {
      return binaryScalarOp(op, x.get(), at::Scalar(value), scalarFirst);
    });
  });
}
// binaryInPlace(op, target, b): target = op(target, b)
static napi_value BinaryInPlace(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueInPlace(a.env, "binaryInPlace", [op = static_cast<BinaryOp>(a.i64(0)), target = operandAt(a, 1), y = operandAt(a, 2)] {
      at::Tensor t = target.changedInPlace();
      binaryInPlace(op, t, y.get());
    });
  });
}
static napi_value Compare(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "compare", [op = static_cast<CompareOp>(a.i64(0)), x = operandAt(a, 1), y = operandAt(a, 2)] { return compareOp(op, x.get(), y.get()); });
  });
}
// unary(op, x, alpha, beta)
static napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "unary", [op = static_cast<UnaryOp>(a.i64(0)), x = operandAt(a, 1), alpha = a.num(2), beta = a.num(3)] {
      return unaryOp(op, x.get(), alpha, beta);
    });
  });
}
static napi_value UnaryInPlace(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueInPlace(a.env, "unaryInPlace", [op = static_cast<UnaryOp>(a.i64(0)), target = operandAt(a, 1), alpha = a.num(2), beta = a.num(3)] {
      at::Tensor t = target.changedInPlace();
      unaryInPlace(op, t, alpha, beta);
    });
  });
}
// unaryGrad(op, dy, saved, alpha)
static napi_value UnaryGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "unaryGrad", [op = static_cast<UnaryGradOp>(a.i64(0)), dy = operandAt(a, 1), saved = operandAt(a, 2), alpha = a.num(3)] {
      return unaryGradOp(op, dy.get(), saved.get(), alpha);
    });
  });
}
// select(condition, a, b)
static napi_value Select(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "select", [c = operandAt(a, 0), x = operandAt(a, 1), y = operandAt(a, 2)] { return at::where(c.get(), x.get(), y.get()); });
  });
}

// logical(op, a, b | null): 0 and, 1 or, 2 not (a only); bool tensors.
static napi_value Logical(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    int64_t op = a.i64(0);
    return queueOp(a.env, "logical", [op, x = operandAt(a, 1), y = operandAt(a, 2, op == 2)] {
      if (op == 2) return at::logical_not(x.get());
      return op == 0 ? at::logical_and(x.get(), y.get()) : at::logical_or(x.get(), y.get());
    });
  });
}

void registerElementwise(napi_env env, napi_value exports) {
  define(env, exports,
         {{"binary", Binary},
          {"binaryScalar", BinaryScalar},
          {"binaryInPlace", BinaryInPlace},
          {"compare", Compare},
          {"unary", Unary},
          {"unaryInPlace", UnaryInPlace},
          {"unaryGrad", UnaryGrad},
          {"select", Select},
          {"logical", Logical}});
}

}  // namespace dlcv_torch
