// N-API entry points. Every function works on caller-allocated typed arrays (no copies) and
// runs synchronously; OpenMP / oneDNN use all configured threads inside each call.
#include <node_api.h>

#include <cstdlib>
#include <initializer_list>
#include <malloc.h>
#include <string>

#include "napi_util.h"
#include "op_codes.h"
#include "ops.h"
#include "pcg32.h"

namespace dlcv {

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static ConvParams convParams(const Args& a, size_t i) {
  auto v = a.ints(i);
  if (v.size() != 17) throw JsError("conv params must have 17 entries");
  return ConvParams{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
                    v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
}
static PoolParams poolParams(const Args& a, size_t i) {
  auto v = a.ints(i);
  if (v.size() != 14) throw JsError("pool params must have 14 entries");
  return PoolParams{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

#define DLCV_FN(name) static napi_value name(napi_env env, napi_callback_info info)
#define DLCV_BODY(...)                                  \
  try {                                                   \
    Args a(env, info);                                    \
    __VA_ARGS__;                                              \
  } catch (const std::exception& e) {                     \
    napi_throw_error(env, "DLCV_NATIVE", e.what());       \
  }                                                       \
  return undef(env);

DLCV_FN(Info) {
  try {
    napi_value obj, s, n;
    napi_create_object(env, &obj);
    std::string d = dnnlInfo();
    napi_create_string_utf8(env, d.c_str(), d.size(), &s);
    napi_set_named_property(env, obj, "dnnl", s);
    napi_create_int32(env, numThreads(), &n);
    napi_set_named_property(env, obj, "threads", n);
    return obj;
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_NATIVE", e.what());
    return undef(env);
  }
}
DLCV_FN(ConvImplementations) {
  try {
    std::vector<std::string> lines = convImplementations();
    napi_value arr;
    napi_create_array_with_length(env, lines.size(), &arr);
    for (size_t i = 0; i < lines.size(); ++i) {
      napi_value s;
      napi_create_string_utf8(env, lines[i].c_str(), lines[i].size(), &s);
      napi_set_element(env, arr, (uint32_t)i, s);
    }
    return arr;
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_NATIVE", e.what());
    return undef(env);
  }
}
// { name: code } for one op family, codes in table order.
static napi_value codeTable(napi_env env, std::initializer_list<const char*> names) {
  napi_value obj;
  check(napi_create_object(env, &obj), "create_object");
  int32_t code = 0;
  for (const char* name : names) {
    napi_value v;
    check(napi_create_int32(env, code++, &v), "create_int32");
    check(napi_set_named_property(env, obj, name, v), "set_named_property");
  }
  return obj;
}
// The op_codes.h tables: { unary: { Relu: 0, ... }, unaryGrad, binary, compare, reduce }.
DLCV_FN(OpCodes) {
  try {
    napi_value obj;
    check(napi_create_object(env, &obj), "create_object");
    check(napi_set_named_property(env, obj, "unary", codeTable(env, {DLCV_UNARY_OPS(DLCV_OP_NAME)})), "unary");
    check(napi_set_named_property(env, obj, "unaryGrad", codeTable(env, {DLCV_UNARY_GRAD_OPS(DLCV_OP_NAME)})),
          "unaryGrad");
    check(napi_set_named_property(env, obj, "binary", codeTable(env, {DLCV_BINARY_OPS(DLCV_OP_NAME)})), "binary");
    check(napi_set_named_property(env, obj, "compare", codeTable(env, {DLCV_COMPARE_OPS(DLCV_OP_NAME)})), "compare");
    check(napi_set_named_property(env, obj, "reduce", codeTable(env, {DLCV_REDUCE_OPS(DLCV_OP_NAME)})), "reduce");
    return obj;
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_NATIVE", e.what());
    return undef(env);
  }
}
DLCV_FN(SetThreads) { DLCV_BODY(setThreads((int)a.i64(0))) }
DLCV_FN(Conv2d) {
  DLCV_BODY(conv2dForward(convParams(a, 3), a.f32(0), a.f32(1), a.f32(2),
                          a.argc > 4 && !a.isNull(4) ? a.f32(4) : nullptr))
}
DLCV_FN(Conv2dBackpropInput) { DLCV_BODY(conv2dBackwardData(convParams(a, 3), a.f32(0), a.f32(1), a.f32(2))) }
DLCV_FN(Conv2dBackpropFilter) { DLCV_BODY(conv2dBackwardFilter(convParams(a, 3), a.f32(0), a.f32(1), a.f32(2))) }
DLCV_FN(MatMul) {
  DLCV_BODY(matmulBatched(a.i64(3), a.i64(4), a.i64(5), a.i64(6), a.i64(7), a.num(8) != 0, a.num(9) != 0, a.f32(0),
                          a.f32(1), a.f32(2)))
}
DLCV_FN(Binary) {
  DLCV_BODY(binary((int)a.i64(0), a.f32(1), a.ints(2), a.f32(3), a.ints(4), a.f32(5), a.ints(6)))
}
DLCV_FN(Compare) {
  DLCV_BODY(compare((int)a.i64(0), a.f32(1), a.ints(2), a.f32(3), a.ints(4), a.u8(5), a.ints(6)))
}
DLCV_FN(Unary) {
  DLCV_BODY({
    size_t n;
    float* x = a.f32(1, &n);
    unary((int)a.i64(0), x, a.f32(2), (int64_t)n, (float)a.num(3), (float)a.num(4));
  })
}
DLCV_FN(UnaryGrad) {
  DLCV_BODY({
    size_t n;
    float* dy = a.f32(1, &n);
    unaryGrad((int)a.i64(0), dy, a.f32(2), a.f32(3), (int64_t)n, (float)a.num(4));
  })
}
DLCV_FN(Select) {
  DLCV_BODY({
    size_t n;
    uint8_t* c = a.u8(0, &n);
    select(c, a.f32(1), a.f32(2), a.f32(3), (int64_t)n);
  })
}
DLCV_FN(Reduce) { DLCV_BODY(reduce3((int)a.i64(0), a.f32(1), a.i64(2), a.i64(3), a.i64(4), a.f32(5))) }
DLCV_FN(ArgReduce) {
  DLCV_BODY(argReduce3(a.num(0) != 0, a.f32(1), a.i64(2), a.i64(3), a.i64(4), a.typed<int32_t>(5)))
}
DLCV_FN(Transpose) { DLCV_BODY(transpose(a.f32(0), a.ints(1), a.ints(2), a.f32(3))) }
DLCV_FN(Tile) { DLCV_BODY(tile(a.f32(0), a.ints(1), a.ints(2), a.f32(3))) }
DLCV_FN(Pad) { DLCV_BODY(padConst(a.f32(0), a.ints(1), a.ints(2), a.ints(3), (float)a.num(4), a.f32(5))) }
DLCV_FN(Slice) { DLCV_BODY(slice(a.f32(0), a.ints(1), a.ints(2), a.ints(3), a.f32(4))) }
DLCV_FN(Concat) {
  DLCV_BODY({
    uint32_t len;
    check(napi_get_array_length(env, a.at(0), &len), "array_length");
    std::vector<const float*> xs(len);
    for (uint32_t i = 0; i < len; ++i) {
      napi_value e;
      check(napi_get_element(env, a.at(0), i, &e), "get_element");
      napi_typedarray_type t;
      size_t l, off;
      void* d;
      napi_value ab;
      check(napi_get_typedarray_info(env, e, &t, &l, &d, &ab, &off), "typedarray_info");
      xs[i] = static_cast<const float*>(d);
    }
    concat(xs, a.ints(1), a.i64(2), a.f32(3));
  })
}
DLCV_FN(MaxPool) { DLCV_BODY(maxPool(poolParams(a, 2), a.f32(0), a.f32(1))) }
DLCV_FN(AvgPool) { DLCV_BODY(avgPool(poolParams(a, 2), a.f32(0), a.f32(1))) }
DLCV_FN(MaxPoolGrad) { DLCV_BODY(maxPoolGrad(poolParams(a, 3), a.f32(0), a.f32(1), a.f32(2))) }
DLCV_FN(AvgPoolGrad) { DLCV_BODY(avgPoolGrad(poolParams(a, 2), a.f32(0), a.f32(1))) }
DLCV_FN(BatchNorm) {
  DLCV_BODY(batchNormInfer(a.f32(0), a.i64(1), a.i64(2), a.f32(3), a.f32(4), a.isNull(5) ? nullptr : a.f32(5),
                           a.isNull(6) ? nullptr : a.f32(6), (float)a.num(7), a.f32(8)))
}
DLCV_FN(BatchNormTrain) {
  DLCV_BODY(batchNormTrain(a.f32(0), a.i64(1), a.i64(2), a.isNull(3) ? nullptr : a.f32(3),
                           a.isNull(4) ? nullptr : a.f32(4), (float)a.num(5), a.f32(6), a.f32(7), a.f32(8),
                           a.f32(9)))
}
DLCV_FN(BatchNormTrainGrad) {
  DLCV_BODY(batchNormTrainGrad(a.f32(0), a.f32(1), a.i64(2), a.i64(3), a.isNull(4) ? nullptr : a.f32(4), a.f32(5),
                               a.f32(6), a.f32(7), a.f32(8), a.f32(9)))
}
DLCV_FN(GroupNorm) {
  DLCV_BODY(groupNorm(a.f32(0), a.i64(1), a.i64(2), a.i64(3), a.i64(4), a.isNull(5) ? nullptr : a.f32(5),
                      a.isNull(6) ? nullptr : a.f32(6), (float)a.num(7), a.f32(8), a.f32(9), a.f32(10)))
}
DLCV_FN(GroupNormGrad) {
  DLCV_BODY(groupNormGrad(a.f32(0), a.f32(1), a.i64(2), a.i64(3), a.i64(4), a.i64(5),
                          a.isNull(6) ? nullptr : a.f32(6), a.f32(7), a.f32(8), a.f32(9), a.f32(10), a.f32(11)))
}
DLCV_FN(Adam) {
  DLCV_BODY({
    size_t n;
    float* g = a.f32(1, &n);
    adam(a.f32(0), g, a.f32(2), a.f32(3), (int64_t)n, (float)a.num(4), (float)a.num(5), (float)a.num(6),
         (float)a.num(7), (float)a.num(8), (float)a.num(9), a.f32(10), a.f32(11), a.f32(12));
  })
}

// dropoutMask(out, state, p, value): out[i] = 0 where the i-th uniform of the Rng stream at state
// ([stateHi, stateLo, incHi, incLo]) is below p, else value.
DLCV_FN(DropoutMask) {
  DLCV_BODY({
    size_t n;
    float* out = a.f32(0, &n);
    Pcg32 rng = pcg32FromState(a.ints(1));
    dropoutMask(rng, a.num(2), (float)a.num(3), out, (int64_t)n);
  })
}

static napi_value Init(napi_env env, napi_value exports) {
  // Tensors are large, short-lived Float32Arrays allocated through malloc/calloc. With glibc's
  // defaults each one is a fresh mmap whose pages fault in on first touch (~4 us per 4 KiB page
  // in a VM: 15 ms for a 16 MB activation, more than the kernel itself). Keep such blocks in the
  // heap and do not return freed memory to the OS eagerly, so allocations reuse warm pages.
  // (M_MMAP_MAX 0: even blocks above glibc's 32 MB mmap-threshold cap come from the heap.)
  if (!std::getenv("DLCV_NATIVE_KEEP_MALLOC")) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  }
  if (const char* t = std::getenv("DLCV_THREADS")) {
    int n = std::atoi(t);
    if (n > 0) setThreads(n);
  }
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"info", Info},
      {"setThreads", SetThreads},
      {"convImplementations", ConvImplementations},
      {"opCodes", OpCodes},
      {"conv2d", Conv2d},
      {"conv2dBackpropInput", Conv2dBackpropInput},
      {"conv2dBackpropFilter", Conv2dBackpropFilter},
      {"matmul", MatMul},
      {"binary", Binary},
      {"compare", Compare},
      {"unary", Unary},
      {"unaryGrad", UnaryGrad},
      {"select", Select},
      {"reduce", Reduce},
      {"argReduce", ArgReduce},
      {"transpose", Transpose},
      {"tile", Tile},
      {"slice", Slice},
      {"pad", Pad},
      {"concat", Concat},
      {"maxPool", MaxPool},
      {"avgPool", AvgPool},
      {"maxPoolGrad", MaxPoolGrad},
      {"avgPoolGrad", AvgPoolGrad},
      {"batchNorm", BatchNorm},
      {"batchNormTrain", BatchNormTrain},
      {"batchNormTrainGrad", BatchNormTrainGrad},
      {"groupNorm", GroupNorm},
      {"groupNormGrad", GroupNormGrad},
      {"adam", Adam},
      {"dropoutMask", DropoutMask},
  };
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace dlcv

NAPI_MODULE(NODE_GYP_MODULE_NAME, dlcv::Init)
