// Tensor handles: a JavaScript number naming a slot of one table and the slot's generation. A
// free moves the slot's generation on, so that the freed handle is refused (and freeing it again
// does nothing) even once the slot holds another tensor. A number costs the calling thread no
// allocation and the garbage collector no finalizer (an external with one took 0.5 instead of
// 0.06 us to make and drop, on this project's 2-core CPU); as tfjs-node's tensor ids, a handle
// lives until it is freed (the backend frees each with its tensor's data).
// An op takes its inputs as Operands, whose tensors it reads when it runs.
#include <mutex>

#include "torch_util.h"

namespace dlcv_torch {

namespace {

// A handle is generation * kSlots + slot, generations from 1 (so no handle is 0, or falsy) to
// kMaxGeneration: within the 2^53 that a double holds exactly.
constexpr int64_t kSlotBits = 24;
constexpr int64_t kSlots = int64_t{1} << kSlotBits;
constexpr int64_t kMaxGeneration = int64_t{1} << 29;

enum class HandleState { live, freed, invalid };

class HandleTable {
 public:
  double add(HolderPtr h) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() >= static_cast<size_t>(kSlots)) throw JsError("more than 2^24 tensor handles alive");
      i = slots_.size();
      slots_.emplace_back();
    }
    slots_[i].h = std::move(h);
    ++live_;
    return static_cast<double>(slots_[i].generation * kSlots + static_cast<int64_t>(i));
  }

  // The holder of handle `id` (live), or why there is none.
  HolderPtr find(double id, HandleState& state) {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot* s = slotOf(id, state);
    return s ? s->h : nullptr;
  }

  // Removes handle `id` and returns its holder (live), or why there is none. Its slot is used
  // again under the next generation (after the last generation, never).
  HolderPtr take(double id, HandleState& state) {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot* s = slotOf(id, state);
    if (!s) return nullptr;
    HolderPtr h = std::move(s->h);
    s->h = nullptr;
    --live_;
    if (++s->generation < kMaxGeneration) free_.push_back(static_cast<size_t>(s - slots_.data()));
    return h;
  }

  size_t live() {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_;
  }

 private:
  struct Slot {
    HolderPtr h;
    int64_t generation = 1;
  };

  Slot* slotOf(double id, HandleState& state) {
    state = HandleState::invalid;
    auto v = static_cast<int64_t>(id);
    if (static_cast<double>(v) != id || v < kSlots) return nullptr;
    int64_t slot = v & (kSlots - 1), generation = v >> kSlotBits;
    if (slot >= static_cast<int64_t>(slots_.size())) return nullptr;
    Slot& s = slots_[static_cast<size_t>(slot)];
    if (generation == s.generation && s.h) {
      state = HandleState::live;
      return &s;
    }
    if (generation < s.generation) state = HandleState::freed;
    return nullptr;
  }

  std::mutex mutex_;
  std::vector<Slot> slots_;
  std::vector<size_t> free_;
  size_t live_ = 0;
};

HandleTable& table() {
  // Never destroyed: tensors still alive at the process's exit are left to it.
  static auto* t = new HandleTable();
  return *t;
}

double handleNumber(napi_env env, napi_value v, const std::string& what) {
  napi_valuetype type;
  check(napi_typeof(env, v, &type), "typeof");
  if (type != napi_number) throw JsError(what + " is not a tensor handle");
  double id;
  check(napi_get_value_double(env, v, &id), "get_value_double");
  return id;
}

}  // namespace

napi_value handleOf(napi_env env, HolderPtr h) {
  napi_value v;
  check(napi_create_double(env, table().add(std::move(h)), &v), "create_double");
  return v;
}

HolderPtr holderOf(napi_env env, napi_value v, const std::string& what) {
  HandleState state;
  HolderPtr h = table().find(handleNumber(env, v, what), state);
  if (state == HandleState::freed) throw JsError(what + " was freed");
  if (state == HandleState::invalid) throw JsError(what + " is not a tensor handle");
  return h;
}

HolderPtr takeHandle(napi_env env, napi_value v, const std::string& what) {
  HandleState state;
  HolderPtr h = table().take(handleNumber(env, v, what), state);
  if (state == HandleState::invalid) throw JsError(what + " is not a tensor handle");
  return h;
}

int64_t liveHandles() { return static_cast<int64_t>(table().live()); }

// --- operands: the handles an op takes, whose tensors it reads when it runs -----------------

const at::Tensor& Operand::get() const {
  static const at::Tensor absent;
  if (!h_) return absent;
  if (!h_->t.defined()) throw InputNotMade(h_->failure);
  return h_->t;
}

const at::Tensor& Operand::changedInPlace() const {
  const at::Tensor& t = get();
  if (h_) h_->convWeight.reset();
  return t;
}

Operand operandAt(const Args& a, size_t i, bool optional) {
  if (optional && a.isNull(i)) return Operand();
  return Operand(holderOf(a.env, a.at(i), "argument " + std::to_string(i)));
}

std::vector<Operand> operandsAt(const Args& a, size_t i) {
  uint32_t n;
  check(napi_get_array_length(a.env, a.at(i), &n), "array_length");
  std::vector<Operand> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; ++k) {
    napi_value e;
    check(napi_get_element(a.env, a.at(i), k, &e), "get_element");
    out.emplace_back(holderOf(a.env, e, "element " + std::to_string(k)));
  }
  return out;
}

std::vector<at::Tensor> tensorsOf(const std::vector<Operand>& operands) {
  std::vector<at::Tensor> out;
  out.reserve(operands.size());
  for (const auto& o : operands) out.push_back(o.get());
  return out;
}

}  // namespace dlcv_torch
