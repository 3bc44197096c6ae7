// N-API entry points of the libtorch addon: handles (upload, download, views, casts, free); the
// settings and info (settings.cc) and each op family (conv.cc, elementwise.cc, ...) register
// their own functions.
#include <ATen/Parallel.h>
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>

#include "pcg32.h"
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
  } catch (const std::exception& e) {
    napi_throw_error(env, isEarlierFailure(e) ? kEarlierOpFailedCode : "DLCV_TORCH", errorLine(e).c_str());
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

// A host tensor for an upload: pinned on CUDA (PyTorch's caching host allocator, which keeps the
// block until the upload is done), so that the upload is asynchronous: one from pageable memory
// waits for every kernel queued before it. If pinning fails, uploads stay synchronous from then
// on (said once on stderr). Called by the JavaScript thread (uploads) and the op thread (masks).
static at::Tensor hostTensor(const std::vector<int64_t>& shape, at::ScalarType dtype) {
  static std::atomic<bool> pinned{true};
  if (device().is_cuda() && pinned.load()) {
    try {
      return at::empty(shape, at::TensorOptions().dtype(dtype).pinned_memory(true));
    } catch (const std::exception& e) {
      if (pinned.exchange(false)) fprintf(stderr, "dlcv-torch: pinned host memory is unavailable, so uploads wait for the GPU: %s\n", e.what());
    }
  }
  return at::empty(shape, at::TensorOptions().dtype(dtype));
}

// The device's copy of a host tensor from hostTensor.
static at::Tensor toDevice(const at::Tensor& host) { return host.device() == device() ? host : host.to(device(), host.scalar_type(), /*non_blocking=*/host.is_pinned()); }

// A copy of a JS array's values, made during the call (the array may change once it returns).
static at::Tensor hostCopy(const void* data, const std::vector<int64_t>& shape, at::ScalarType dtype) {
  at::Tensor host = hostTensor(shape, dtype);
  if (host.nbytes() > 0) std::memcpy(host.data_ptr(), data, host.nbytes());
  return host;
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
    at::Tensor host = hostCopy(data, shape, dtype);
    return queueOp(a.env, "upload", [host] { return toDevice(host); });
  });
}

// dropoutMask(shape, state, p, value): a float32 tensor whose i-th element is 0 where the i-th
// uniform of the Rng stream at state ([stateHi, stateLo, incHi, incLo]) is below p, else value.
// Drawn by the op thread on the host (core's Rng in C++, pcg32.h), then uploaded.
static napi_value DropoutMask(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    std::vector<int64_t> shape = a.ints(0);
    dlcv::Pcg32 rng = dlcv::pcg32FromState(a.ints(1));
    return queueOp(a.env, "dropoutMask", [shape, rng, p = a.num(2), value = (float)a.num(3)]() mutable {
      at::Tensor host = hostTensor(shape, at::kFloat);
      dlcv::dropoutMask(rng, p, value, host.data_ptr<float>(), host.numel());
      return toDevice(host);
    });
  });
}

// Copies t into the host array data of `len` elements; waits for the device's queued work.
static void copyToHost(const at::Tensor& t, void* data, size_t len) {
  if ((size_t)t.numel() != len) throw JsError("output has " + std::to_string(len) + " elements, tensor " + std::to_string(t.numel()));
  if (t.numel() > 0) at::from_blob(data, {t.numel()}, at::TensorOptions().dtype(t.scalar_type())).copy_(t.reshape({-1}));
}

// download(handle, out: TypedArray of the tensor's dtype and size): copies the tensor into out,
// once the ops queued before it have run.
static napi_value Download(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    Operand t = operandAt(a, 0);
    size_t len;
    void* data = a.typed<void>(1, &len);
    runNow("download", [&] { copyToHost(t.get(), data, len); });
    return undefinedValue(a.env);
  });
}

// downloadAsync(handle, out): download() without blocking JavaScript, returning a promise settled
// when the values are in `out`. The copy is queued like any op; a libuv thread waits for it (and
// with the queue off makes it), since the copy waits for the device's queued work, which on the
// main thread would stop JavaScript (the next batch's preparation, the draw threads' hand-over)
// for as long as the GPU runs. The work holds its own reference to the tensor and to `out`, so
// either side may be released meanwhile.
struct DownloadWork {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref outRef = nullptr;
  Operand t;
  void* data = nullptr;
  size_t len = 0;
  // With the queue on: the queued copy's error ("" when done), set on the op thread.
  std::future<std::string> copied;
  std::string error;
};

// Copies t into data; its error as text ("" when done).
static std::string copyOrError(const Operand& t, void* data, size_t len) {
  try {
    copyToHost(t.get(), data, len);
    return "";
  } catch (const std::exception& e) {
    return errorLine(e);
  }
}

static napi_value DownloadAsync(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    auto w = std::make_unique<DownloadWork>();
    w->t = operandAt(a, 0);
    w->data = a.typed<void>(1, &w->len);
    if (queueOn()) {
      // The promise belongs to the queued copy, so it outlives its set_value.
      auto copied = std::make_shared<std::promise<std::string>>();
      w->copied = copied->get_future();
      queueInPlace(a.env, "downloadAsync", [copied, t = w->t, data = w->data, len = w->len] { copied->set_value(copyOrError(t, data, len)); });
    }
    napi_value promise, name;
    check(napi_create_promise(a.env, &w->deferred, &promise), "create_promise");
    check(napi_create_reference(a.env, a.at(1), 1, &w->outRef), "create_reference");
    check(napi_create_string_utf8(a.env, "dlcv-torch download", NAPI_AUTO_LENGTH, &name), "create_string");
    auto execute = [](napi_env, void* p) {
      auto* w = static_cast<DownloadWork*>(p);
      if (w->copied.valid()) {
        try {
          w->error = w->copied.get();
        } catch (const std::future_error&) {
          w->error = "the engine stopped before the copy ran";
        }
        return;
      }
      // OpenMP's thread count is per thread: the copy, which ATen may split, takes the engine's.
      at::init_num_threads();
      w->error = copyOrError(w->t, w->data, w->len);
    };
    auto complete = [](napi_env env, napi_status, void* p) {
      std::unique_ptr<DownloadWork> w(static_cast<DownloadWork*>(p));
      w->t = Operand();
      napi_value result;
      if (w->error.empty()) {
        napi_get_undefined(env, &result);
        napi_resolve_deferred(env, w->deferred, result);
      } else {
        // An input its op left unmade: the message names that failure, now reported.
        clearQueuedErrorNamedIn(w->error);
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

// free(handle): releases the tensor once the ops queued before have run (the handle is refused
// from now on; a second free does nothing).
static napi_value Free(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    releaseAt(a, 0);
    return undefinedValue(a.env);
  });
}

static napi_value View(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "view", [x = operandAt(a, 0), shape = a.ints(1)] { return x.get().view(shape); });
  });
}
static napi_value Cast(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "cast", [x = operandAt(a, 0), dtype = scalarType(a.i64(1))] { return x.get().to(dtype); });
  });
}
static napi_value Clone(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) { return queueOp(a.env, "clone", [x = operandAt(a, 0)] { return x.get().clone(); }); });
}
// fill(shape, value, dtype)
static napi_value Fill(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    return queueOp(a.env, "fill", [shape = a.ints(0), value = a.num(1), dtype = scalarType(a.i64(2))] { return at::full(shape, value, options(dtype)); });
  });
}
// Waits for the device's queued work (a one-element copy to the host), after the ops queued
// before it; reports a queued op's failure.
static napi_value Sync(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    runNow("sync", [] { at::zeros({1}, options()).to(at::kCPU); });
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
           {{"upload", Upload}, {"dropoutMask", DropoutMask}, {"download", Download}, {"downloadAsync", DownloadAsync}, {"free", Free}, {"view", View}, {"cast", Cast},
            {"clone", Clone}, {"fill", Fill}, {"sync", Sync}});
    registerQueue(env, exports);
    registerOpTiming(env, exports);
    registerSettings(env, exports);
    registerConv(env, exports);
    registerElementwise(env, exports);
    registerReduce(env, exports);
    registerLayout(env, exports);
    registerPool(env, exports);
    registerNorm(env, exports);
    registerAdam(env, exports);
    registerRunningAverages(env, exports);
    registerProfile(env, exports);
  } catch (const std::exception& e) {
    napi_throw_error(env, "DLCV_TORCH", e.what());
  }
  return exports;
}

}  // namespace dlcv_torch

NAPI_MODULE(NODE_GYP_MODULE_NAME, dlcv_torch::Init)
