// Small helpers over plain node_api.h: typed-array views and integer/number arguments.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlcv {

struct JsError : std::runtime_error {
  explicit JsError(const std::string& m) : std::runtime_error(m) {}
};

inline void check(napi_status s, const char* what) {
  if (s != napi_ok) throw JsError(std::string("napi call failed: ") + what);
}

struct Args {
  napi_env env;
  size_t argc = 0;
  napi_value argv[24];
  Args(napi_env e, napi_callback_info info) : env(e) {
    argc = 24;
    check(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "get_cb_info");
  }
  napi_value at(size_t i) const {
    if (i >= argc) throw JsError("missing argument " + std::to_string(i));
    return argv[i];
  }
  template <typename T>
  T* typed(size_t i, size_t* len = nullptr) const {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    bool is;
    check(napi_is_typedarray(env, at(i), &is), "is_typedarray");
    if (!is) throw JsError("argument " + std::to_string(i) + " is not a typed array");
    check(napi_get_typedarray_info(env, at(i), &type, &length, &data, &ab, &off), "typedarray_info");
    if (len) *len = length;
    return static_cast<T*>(data);
  }
  float* f32(size_t i, size_t* len = nullptr) const { return typed<float>(i, len); }
  uint8_t* u8(size_t i, size_t* len = nullptr) const { return typed<uint8_t>(i, len); }
  bool isNull(size_t i) const {
    napi_valuetype t;
    check(napi_typeof(env, at(i), &t), "typeof");
    return t == napi_null || t == napi_undefined;
  }
  double num(size_t i) const {
    double v;
    check(napi_get_value_double(env, at(i), &v), "get_value_double");
    return v;
  }
  int64_t i64(size_t i) const { return static_cast<int64_t>(num(i)); }
  std::vector<int64_t> ints(size_t i) const {
    std::vector<double> d = doubles(i);
    std::vector<int64_t> out(d.size());
    for (size_t k = 0; k < d.size(); ++k) out[k] = static_cast<int64_t>(d[k]);
    return out;
  }
  std::vector<double> doubles(size_t i) const {
    uint32_t n;
    check(napi_get_array_length(env, at(i), &n), "array_length");
    std::vector<double> out(n);
    for (uint32_t k = 0; k < n; ++k) {
      napi_value e;
      check(napi_get_element(env, at(i), k, &e), "get_element");
      check(napi_get_value_double(env, e, &out[k]), "element double");
    }
    return out;
  }
};

}  // namespace dlcv
