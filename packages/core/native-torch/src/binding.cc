// N-API entry points of the libtorch addon: handles (upload, download, views, casts, free); the
// settings and info (settings.cc) and each op family (conv.cc, elementwise.cc, ...) register
// their own functions.
#include <ATen/Parallel.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "torch_util.h"

namespace dlcv_torch {

at::Device& device() {
  static at::Device d(at::kCPU);
  return d;
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static void finalize(napi_env, void* data, void*) { delete static_cast<Holder*>(data); }

napi_value wrap(napi_env env, const at::Tensor& t) {
  auto* h = new Holder{t.contiguous()};
  napi_value v;
  napi_status s = napi_create_external(env, h, finalize, nullptr, &v);
  if (s != napi_ok) {
    delete h;
    throw JsError("napi_create_external failed");
  }
  return v;
}

napi_value wrapAll(napi_env env, const std::vector<at::Tensor>& ts) {
  napi_value arr;
  check(napi_create_array_with_length(env, ts.size(), &arr), "create_array");
  for (size_t i = 0; i < ts.size(); ++i) check(napi_set_element(env, arr, (uint32_t)i, wrap(env, ts[i])), "set_element");
  return arr;
}

static at::Tensor unwrap(napi_env env, napi_value v, const std::string& what) {
  napi_valuetype type;
  check(napi_typeof(env, v, &type), "typeof");
  if (type != napi_external) throw JsError(what + " is not a tensor handle");
  void* p;
  check(napi_get_value_external(env, v, &p), "get_value_external");
  const at::Tensor& t = static_cast<Holder*>(p)->t;
  if (!t.defined()) throw JsError(what + " was freed");
  return t;
}

at::Tensor tensorAt(const Args& a, size_t i, bool optional) {
  if (optional && a.isNull(i)) return at::Tensor();
  return unwrap(a.env, a.at(i), "argument " + std::to_string(i));
}

std::vector<at::Tensor> tensorsAt(const Args& a, size_t i) {
  uint32_t n;
  check(napi_get_array_length(a.env, a.at(i), &n), "array_length");
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; ++k) {
    napi_value e;
    check(napi_get_element(a.env, a.at(i), k, &e), "get_element");
    out.push_back(unwrap(a.env, e, "element " + std::to_string(k)));
  }
  return out;
}

at::ScalarType scalarType(int64_t code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kInt;
    case 2: return at::kBool;
  }
  throw JsError("unknown dtype code " + std::to_string(code));
}

napi_value guarded(napi_env env, napi_callback_info info, const std::function<napi_value(const Args&)>& f) {
  try {
    Args a(env, info);
    return f(a);
  } catch (const c10::Error& e) {
    std::string m = e.what_without_backtrace();
    napi_throw_error(env, "DLCV_TORCH", m.substr(0, m.find('\n')).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_TORCH", e.what());
  }
  return undefinedValue(env);
}

void define(napi_env env, napi_value exports, const std::vector<Fn>& fns) {
  for (const auto& f : fns) {
    napi_value fn;
    check(napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn), "create_function");
    check(napi_set_named_property(env, exports, f.name, fn), "set_named_property");
  }
}

// --- storage -------------------------------------------------------------------------------

// Host to device. On CUDA the values are first copied into pinned memory (PyTorch's caching host
// allocator, which keeps the block until the copy is done), then copied up asynchronously: a copy
// from pageable memory waits for every kernel queued before it, so the host would wait for the
// GPU at each upload (a batch, the noise, any array that is not one repeated value: backend.ts
// fills those on the device) instead of queueing ahead of it. If pinning fails, the copies stay
// synchronous from then on (said once on stderr).
static at::Tensor toDevice(const at::Tensor& host, at::ScalarType dtype) {
  static bool pinned = true;
  if (device().is_cuda() && pinned) {
    try {
      return host.pin_memory().to(device(), dtype, /*non_blocking=*/true, /*copy=*/true);
    } catch (const std::exception& e) {
      pinned = false;
      fprintf(stderr, "dlcv-torch: pinned host memory is unavailable, so uploads wait for the GPU: %s\n", e.what());
    }
  }
  return host.to(device(), dtype, /*non_blocking=*/false, /*copy=*/true);
}

// upload(values: TypedArray, shape, dtype): a new tensor on the device holding a copy of values.
static napi_value Upload(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    size_t len;
    void* data = a.typed<void>(0, &len);
    std::vector<int64_t> shape = a.ints(1);
    at::ScalarType dtype = scalarType(a.i64(2));
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if ((size_t)numel != len) throw JsError("upload: " + std::to_string(len) + " values for " + std::to_string(numel) + " elements");
    if (numel == 0) return wrap(a.env, at::empty(shape, options(dtype)));
    return wrap(a.env, toDevice(at::from_blob(data, shape, at::TensorOptions().dtype(dtype)), dtype));
  });
}

// The host array of a download (argument i), checked against the tensor's size.
static void* downloadTarget(const Args& a, size_t i, const at::Tensor& t) {
  size_t len;
  void* data = a.typed<void>(i, &len);
  if ((size_t)t.numel() != len) throw JsError("download: output has " + std::to_string(len) + " elements, tensor " + std::to_string(t.numel()));
  return data;
}

// Copies t into the host array data (of t's dtype and size); waits for the device's queued work.
static void copyToHost(const at::Tensor& t, void* data) {
  if (t.numel() > 0) at::from_blob(data, {t.numel()}, at::TensorOptions().dtype(t.scalar_type())).copy_(t.reshape({-1}));
}

// download(handle, out: TypedArray of the tensor's dtype and size): copies the tensor into out.
static napi_value Download(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::Tensor t = tensorAt(a, 0);
    copyToHost(t, downloadTarget(a, 1, t));
    return undefinedValue(a.env);
  });
}

// downloadAsync(handle, out): download() on a libuv thread, returning a promise settled when the
// values are in `out`. The copy waits for the device's queued work, as a download must; on the
// main thread that wait would stop JavaScript (the next batch's preparation, the draw threads'
// hand-over) for as long as the GPU runs. The work holds its own reference to the tensor and to
// `out`, so either side may be released meanwhile.
struct DownloadWork {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref outRef = nullptr;
  at::Tensor t;
  void* data = nullptr;
  std::string error;
};

static napi_value DownloadAsync(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto w = std::make_unique<DownloadWork>();
    w->t = tensorAt(a, 0);
    w->data = downloadTarget(a, 1, w->t);
    napi_value promise, name;
    check(napi_create_promise(a.env, &w->deferred, &promise), "create_promise");
    check(napi_create_reference(a.env, a.at(1), 1, &w->outRef), "create_reference");
    check(napi_create_string_utf8(a.env, "dlcv-torch download", NAPI_AUTO_LENGTH, &name), "create_string");
    auto execute = [](napi_env, void* p) {
      auto* w = static_cast<DownloadWork*>(p);
      try {
        // OpenMP's thread count is per thread: the copy, which ATen may split, takes the engine's.
        at::init_num_threads();
        copyToHost(w->t, w->data);
      } catch (const std::exception& e) {
        w->error = e.what();
      }
    };
    auto complete = [](napi_env env, napi_status, void* p) {
      std::unique_ptr<DownloadWork> w(static_cast<DownloadWork*>(p));
      w->t.reset();
      napi_value result;
      if (w->error.empty()) {
        napi_get_undefined(env, &result);
        napi_resolve_deferred(env, w->deferred, result);
      } else {
        napi_value msg;
        napi_create_string_utf8(env, ("download: " + w->error).c_str(), NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, nullptr, msg, &result);
        napi_reject_deferred(env, w->deferred, result);
      }
      napi_delete_reference(env, w->outRef);
      napi_delete_async_work(env, w->work);
    };
    check(napi_create_async_work(a.env, nullptr, name, execute, complete, w.get(), &w->work), "create_async_work");
    check(napi_queue_async_work(a.env, w->work), "queue_async_work");
    w.release(); // complete() owns it now
    return promise;
  });
}

// free(handle): releases the tensor now (the handle then refuses to be used).
static napi_value Free(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    void* p;
    check(napi_get_value_external(a.env, a.at(0), &p), "get_value_external");
    static_cast<Holder*>(p)->t.reset();
    return undefinedValue(a.env);
  });
}

static napi_value View(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, tensorAt(a, 0).view(a.ints(1))); });
}
static napi_value Cast(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, tensorAt(a, 0).to(scalarType(a.i64(1)))); });
}
static napi_value Clone(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, tensorAt(a, 0).clone()); });
}
// fill(shape, value, dtype)
static napi_value Fill(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return wrap(a.env, at::full(a.ints(0), a.num(1), options(scalarType(a.i64(2))))); });
}
// Waits for the device's queued work (a one-element copy to the host).
static napi_value Sync(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    at::zeros({1}, options()).to(at::kCPU);
    return undefinedValue(a.env);
  });
}

static napi_value Init(napi_env env, napi_value exports) {
  // CPU tensors are large, short-lived malloc blocks; with glibc's defaults each is a fresh mmap
  // whose pages fault in on first touch (a ReLU over 32 MB took 100 ms here, nearly all page
  // faults). As in the native addon: keep such blocks in the heap and the freed memory mapped.
  if (!std::getenv("DLCV_NATIVE_KEEP_MALLOC")) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  }
  initSettings();
  if (const char* t = std::getenv("DLCV_THREADS")) {
    int n = std::atoi(t);
    if (n > 0) setThreads(n);
  }
  try {
    define(env, exports,
           {{"upload", Upload}, {"download", Download}, {"downloadAsync", DownloadAsync}, {"free", Free}, {"view", View}, {"cast", Cast},
            {"clone", Clone}, {"fill", Fill}, {"sync", Sync}});
    registerSettings(env, exports);
    registerConv(env, exports);
    registerElementwise(env, exports);
    registerReduce(env, exports);
    registerLayout(env, exports);
    registerPool(env, exports);
    registerNorm(env, exports);
    registerAdam(env, exports);
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_TORCH", e.what());
  }
  return exports;
}

}  // namespace dlcv_torch

NAPI_MODULE(NODE_GYP_MODULE_NAME, dlcv_torch::Init)
