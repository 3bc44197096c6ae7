// N-API entry points for the engine's settings (device, TF32, determinism, threads), version
// info and the op code tables, with the defaults Init applies before any op runs.
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <cstdlib>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "op_codes.h"
#include "torch_util.h"

namespace dlcv_torch {

// The CUDA hooks and TF32 switches called below have changed names across libtorch versions
// (getNumGPUs beside AcceleratorHooksInterface's deviceCount, the allow_tf32 flags beside the
// matmul precision and the fp32_precision settings). Each is reached through a template that
// tests for the member, so a version without it still compiles and takes the other route.
#define DLCV_HAS_MEMBER(trait, expr) \
  template <typename T, typename = void> \
  struct trait : std::false_type {}; \
  template <typename T> \
  struct trait<T, std::void_t<decltype(expr)>> : std::true_type {};
DLCV_HAS_MEMBER(HasGetNumGPUs, std::declval<const T&>().getNumGPUs())
DLCV_HAS_MEMBER(HasDeviceCount, std::declval<const T&>().deviceCount())
DLCV_HAS_MEMBER(HasVersionCUDART, std::declval<const T&>().versionCUDART())
DLCV_HAS_MEMBER(HasVersionCuDNN, std::declval<const T&>().versionCuDNN())
DLCV_HAS_MEMBER(HasHasCuDNN, std::declval<const T&>().hasCuDNN())
DLCV_HAS_MEMBER(HasAllowTF32CuBLAS, std::declval<T&>().setAllowTF32CuBLAS(true))
DLCV_HAS_MEMBER(HasAllowTF32CuDNN, std::declval<T&>().setAllowTF32CuDNN(true))
DLCV_HAS_MEMBER(HasFillUninitialized, std::declval<T&>().setDeterministicFillUninitializedMemory(true))
#undef DLCV_HAS_MEMBER

// The number of CUDA devices (called when at::hasCUDA(); 1 where this libtorch names no count).
template <typename Hooks>
double gpuCount(const Hooks& h) {
  if constexpr (HasGetNumGPUs<Hooks>::value) return h.getNumGPUs();
  else if constexpr (HasDeviceCount<Hooks>::value) return h.deviceCount();
  else return 1;
}
// CUDA runtime and cuDNN versions as libtorch reports them (0: not reported by this version; for
// cuDNN also 0 where libtorch has none).
template <typename Hooks>
double cudaRuntimeVersion(const Hooks& h) {
  if constexpr (HasVersionCUDART<Hooks>::value) return (double)h.versionCUDART();
  else return 0;
}
template <typename Hooks>
double cudnnVersion(const Hooks& h) {
  if constexpr (HasHasCuDNN<Hooks>::value) {
    if (!h.hasCuDNN()) return 0;
  }
  if constexpr (HasVersionCuDNN<Hooks>::value) return (double)h.versionCuDNN();
  else return 0;
}
// TF32 in cuBLAS matmuls and cuDNN convolutions, on or off (PyTorch's
// torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32); the state read back
// is the matmuls'.
template <typename Context>
void setTf32(Context& ctx, bool on) {
  if constexpr (HasAllowTF32CuBLAS<Context>::value) ctx.setAllowTF32CuBLAS(on);
  else ctx.setFloat32MatmulPrecision(on ? at::Float32MatmulPrecision::HIGH : at::Float32MatmulPrecision::HIGHEST);
  if constexpr (HasAllowTF32CuDNN<Context>::value) ctx.setAllowTF32CuDNN(on);
  else if (on) throw JsError("this libtorch has no setAllowTF32CuDNN: TF32 convolutions cannot be switched on");
}
template <typename Context>
bool tf32(const Context& ctx) {
  if constexpr (HasAllowTF32CuBLAS<Context>::value) return ctx.allowTF32CuBLAS();
  else return ctx.float32MatmulPrecision() != at::Float32MatmulPrecision::HIGHEST;
}

// Reproducible results on CUDA, as on the CPU (PyTorch's torch.backends.cudnn.deterministic and
// torch.use_deterministic_algorithms): cuDNN's deterministic algorithms and no autotuning (it
// picks algorithms by timing them), ATen's deterministic implementation of an op where it has
// one (a warning, not an error, where it has none). Versions that would then also fill every new
// tensor (their fill_uninitialized_memory) are told not to: no op here reads memory it did not
// write. cuBLAS's condition, a fixed workspace, is set by initSettings before CUDA starts. The
// CPU kernels used here give the same bytes either way.
template <typename Context>
void setDeterministic(Context& ctx, bool on) {
  ctx.setDeterministicCuDNN(on);
  ctx.setBenchmarkCuDNN(false);
  ctx.setDeterministicAlgorithms(on, true);
  if constexpr (HasFillUninitialized<Context>::value) ctx.setDeterministicFillUninitializedMemory(false);
}

// setDevice("cpu" | "cuda"): the device of every tensor made from now on.
static napi_value SetDevice(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    char name[16];
    size_t n;
    check(napi_get_value_string_utf8(a.env, a.at(0), name, sizeof name, &n), "device name");
    std::string s(name, n);
    if (s == "cuda" && !at::hasCUDA()) throw JsError("no CUDA device visible to libtorch");
    if (s != "cuda" && s != "cpu") throw JsError("unknown device " + s);
    runNow("setDevice", [cuda = s == "cuda"] { device() = cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU); });
    return undefinedValue(a.env);
  });
}

// setTf32(on): TF32 tensor cores for matmuls and convolutions (setTf32 above).
static napi_value SetTf32(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    runNow("setTf32", [on = a.num(0) != 0] { setTf32(at::globalContext(), on); });
    return undefinedValue(a.env);
  });
}

// setDeterministic(on): reproducible CUDA results, or the fastest algorithms (setDeterministic above).
static napi_value SetDeterministic(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    runNow("setDeterministic", [on = a.num(0) != 0] { setDeterministic(at::globalContext(), on); });
    return undefinedValue(a.env);
  });
}

// setOneDnn(on): ATen's CPU convolutions through oneDNN (mkldnn; the default, PyTorch's
// torch.backends.mkldnn.enabled), or through its own im2col and matrix-multiply kernels. CUDA's
// convolutions (cuDNN) do not depend on it.
static napi_value SetOneDnn(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    runNow("setOneDnn", [on = a.num(0) != 0] { at::globalContext().setUserEnabledMkldnn(on); });
    return undefinedValue(a.env);
  });
}

void setThreads(int n) {
  at::set_num_threads(n);
  // Debian's libtorch multiplies through OpenBLAS, whose own thread pool ignores ATen's count and
  // spins between calls: at DLCV_THREADS=1 a second core stayed busy for a whole run (as much CPU
  // time as the training thread). It gets the same count, where it is the BLAS loaded.
  using SetBlasThreads = void (*)(int);
  static auto openblas = reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas) openblas(n);
}

// The file (links resolved) of the BLAS library whose sgemm_ ATen's CPU matrix products call
// (for Debian's libtorch the system's libblas.so.3: OpenBLAS, or the much slower reference BLAS),
// or "" where none is loaded as a library of its own (a torch wheel links MKL in).
static const std::string& blasLibrary() {
  static const std::string file = [] {
    void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
    Dl_info found;
    if (!sgemm || !dladdr(sgemm, &found) || !found.dli_fname) return std::string();
    // the file itself, not the alternatives' link the loader opened
    char* real = realpath(found.dli_fname, nullptr);
    std::string resolved = real ? real : found.dli_fname;
    free(real);
    return resolved;
  }();
  return file;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    // On the op thread, whose OpenMP team size is its own (the JavaScript thread runs no ATen op
    // while the queue is on).
    runNow("setThreads", [n = (int)a.i64(0)] { setThreads(n); });
    return undefinedValue(a.env);
  });
}

static void setString(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  check(napi_create_string_utf8(env, value.c_str(), value.size(), &v), "create_string");
  check(napi_set_named_property(env, obj, key, v), "set_named_property");
}
static void setNumber(napi_env env, napi_value obj, const char* key, double value) {
  napi_value v;
  check(napi_create_double(env, value, &v), "create_double");
  check(napi_set_named_property(env, obj, key, v), "set_named_property");
}

// { torch, blas, threads, device, gpus, cudaRuntime, cudnn, tf32, deterministic, oneDnn, queue, queueSpin,
// releasesWaiting, handles } (CUDA fields 0 without CUDA), as the op thread sees them; releasesWaiting as
// the call found it (its own task takes them along).
static napi_value Info(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    double threads = 0, gpus = 0, cudaRuntime = 0, cudnn = 0, tf32On = 0, deterministic = 0, oneDnn = 0;
    bool cuda = false;
    double waiting = (double)releasesWaiting();
    runNow("info", [&] {
      threads = at::get_num_threads();
      cuda = device().is_cuda();
      const auto& hooks = at::detail::getCUDAHooks();
      bool hasCuda = at::hasCUDA();
      gpus = hasCuda ? gpuCount(hooks) : 0;
      cudaRuntime = hasCuda ? cudaRuntimeVersion(hooks) : 0;
      cudnn = hasCuda ? cudnnVersion(hooks) : 0;
      const auto& ctx = at::globalContext();
      tf32On = tf32(ctx) ? 1 : 0;
      deterministic = ctx.deterministicCuDNN() && ctx.deterministicAlgorithms() ? 1 : 0;
      oneDnn = ctx.userEnabledMkldnn() ? 1 : 0;
    });
    napi_value obj;
    check(napi_create_object(a.env, &obj), "create_object");
    setString(a.env, obj, "torch", TORCH_VERSION);
    setString(a.env, obj, "blas", blasLibrary());
    setNumber(a.env, obj, "threads", threads);
    setString(a.env, obj, "device", cuda ? "cuda" : "cpu");
    setNumber(a.env, obj, "gpus", gpus);
    setNumber(a.env, obj, "cudaRuntime", cudaRuntime);
    setNumber(a.env, obj, "cudnn", cudnn);
    setNumber(a.env, obj, "tf32", tf32On);
    setNumber(a.env, obj, "deterministic", deterministic);
    setNumber(a.env, obj, "oneDnn", oneDnn);
    setNumber(a.env, obj, "queue", queueOn() ? 1 : 0);
    setNumber(a.env, obj, "queueSpin", (double)queueSpin());
    setNumber(a.env, obj, "releasesWaiting", waiting);
    setNumber(a.env, obj, "handles", (double)liveHandles());
    return obj;
  });
}

// { name: code } for one op family, codes in table order (the native addon's tables).
static napi_value codeTable(napi_env env, std::initializer_list<const char*> names) {
  napi_value obj;
  check(napi_create_object(env, &obj), "create_object");
  int32_t code = 0;
  for (const char* name : names) setNumber(env, obj, name, code++);
  return obj;
}
static napi_value OpCodes(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    napi_value obj;
    check(napi_create_object(a.env, &obj), "create_object");
    check(napi_set_named_property(a.env, obj, "unary", codeTable(a.env, {DLCV_UNARY_OPS(DLCV_OP_NAME)})), "unary");
    check(napi_set_named_property(a.env, obj, "unaryGrad", codeTable(a.env, {DLCV_UNARY_GRAD_OPS(DLCV_OP_NAME)})), "unaryGrad");
    check(napi_set_named_property(a.env, obj, "binary", codeTable(a.env, {DLCV_BINARY_OPS(DLCV_OP_NAME)})), "binary");
    check(napi_set_named_property(a.env, obj, "compare", codeTable(a.env, {DLCV_COMPARE_OPS(DLCV_OP_NAME)})), "compare");
    check(napi_set_named_property(a.env, obj, "reduce", codeTable(a.env, {DLCV_REDUCE_OPS(DLCV_OP_NAME)})), "reduce");
    return obj;
  });
}

void initSettings() {
  // fp32 unless asked (PyTorch allows TF32 in cuDNN convolutions by default).
  setTf32(at::globalContext(), false);
  // Deterministic unless asked otherwise; cuBLAS reads its workspace setting when CUDA starts.
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
  setDeterministic(at::globalContext(), true);
}

void registerSettings(napi_env env, napi_value exports) {
  define(env, exports,
         {{"setDevice", SetDevice}, {"setTf32", SetTf32}, {"setDeterministic", SetDeterministic}, {"setOneDnn", SetOneDnn}, {"setThreads", SetThreads}, {"info", Info}, {"opCodes", OpCodes}});
}

}  // namespace dlcv_torch
