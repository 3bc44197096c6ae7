// The op queue (see torch_util.h) and the handles the ops take and return.
//
// On, one op thread runs the queued work in FIFO order. A call into the addon then costs the
// JavaScript thread only its argument parsing, while ATen's own host work (dispatch, the CUDA
// launches, on the CPU the arithmetic) runs beside the next kernels' JavaScript: a training step
// costs about the larger of the two instead of their sum. An op that fails on the op thread is
// reported by the next call that queues or reads (its message names the failed op), as CUDA
// reports a kernel's fault; later ops that take its missing result fail in turn, their errors
// naming that first failure (Holder::failure). A free rides with the next op queued, which
// releases the tensor before it runs: a tensor lives until the ops queued before its free have
// run, and a free costs no hand-over of its own.
//
// Off (setQueue(0)), each call runs its work itself and throws its own error, as a plain ATen
// call would. The op thread is started when the queue is first switched on. Finding no op, it
// polls for setQueueSpin's time (0 by default, CUDA's default in torch/index.ts), then sleeps
// until a call queues one and wakes it.
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "torch_util.h"

namespace dlcv_torch {

std::string errorLine(const std::exception& e) {
  const auto* c10Error = dynamic_cast<const c10::Error*>(&e);
  std::string m = c10Error ? c10Error->what_without_backtrace() : e.what();
  return m.substr(0, m.find('\n'));
}

bool isEarlierFailure(const std::exception& e) { return dynamic_cast<const EarlierOpFailed*>(&e) || dynamic_cast<const InputNotMade*>(&e); }

namespace {

// An op's error as reported: its name, then the first line of the error's message.
std::string opError(const char* name, const std::exception& e) { return std::string(name) + ": " + errorLine(e); }

// Throws `message` as an earlier op's failure (EarlierOpFailed) or as the call's own (JsError).
[[noreturn]] void throwOpError(const std::string& message, bool earlier) {
  if (earlier) throw EarlierOpFailed(message);
  throw JsError(message);
}

struct Task {
  const char* name;
  std::function<void()> run;
  // false for the queue's own tasks (switching, draining) and the timing functions'
  bool timed = true;
  // Handles freed since the task before it was queued: their tensors are released first.
  std::vector<HolderPtr> releases;
};

class OpQueue {
 public:
  bool on() const { return on_; }

  // Switches the queue on or off, after the ops queued so far have run. OpenMP's team size is per
  // calling thread: the thread that runs the ops from now on takes the engine's count (set by
  // setThreads on whichever thread ran the ops until now).
  void setOn(bool on) {
    drain();
    if (on && !worker_.joinable()) worker_ = std::thread([this] { loop(); });
    on_ = on;
    if (on)
      runAndWait("setQueue", [] { at::init_num_threads(); }, /*timed=*/false);
    else
      at::init_num_threads();
  }

  void push(const char* name, std::function<void()> run, bool timed = true) {
    bool wake;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // A bounded queue: JavaScript may run at most this many ops ahead of the op thread.
      room_.wait(lock, [this] { return tasks_.size() < kCapacity; });
      tasks_.push_back({name, std::move(run), timed, std::move(releases_)});
      releases_.clear();
      pushed_.fetch_add(1, std::memory_order_release);
      wake = sleeping_;
    }
    if (wake) wakeWorker_.notify_one();
  }

  // Releases h's tensor on the op thread, before the next op queued runs (or, once kMaxReleases
  // frees wait, at once in a task of their own).
  void release(HolderPtr h) {
    bool full;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      releases_.push_back(std::move(h));
      full = releases_.size() >= kMaxReleases;
    }
    if (full) push("free", [] {});
  }
  size_t releasesWaiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return releases_.size();
  }

  // How long the op thread, finding no op, polls for the next before it sleeps (microseconds).
  // A sleeping op thread costs each call that queues an op a wake-up (a system call) and the op
  // a wake-up's delay; polling costs a core while it lasts.
  static constexpr int64_t kMaxSpinUs = 10000;
  void setSpin(int64_t us) { spinUs_.store(us, std::memory_order_relaxed); }
  int64_t spin() const { return spinUs_.load(std::memory_order_relaxed); }

  // Runs f on the op thread after every queued op, and waits for it; f's error is thrown here
  // (as EarlierOpFailed when an earlier op's failure caused it).
  void runAndWait(const char* name, const std::function<void()>& f, bool timed = true) {
    struct Outcome {
      std::string error;  // "" when f returned
      bool earlier = false;
    };
    // The promise belongs to the task, so that it outlives its set_value (which may still be
    // running when this thread, woken, returns).
    auto done = std::make_shared<std::promise<Outcome>>();
    std::future<Outcome> result = done->get_future();
    push(
        name,
        [&f, done] {
          try {
            f();
            done->set_value({});
          } catch (const std::exception& e) {
            done->set_value({errorLine(e), isEarlierFailure(e)});
          }
        },
        timed);
    Outcome outcome = result.get();
    if (!outcome.error.empty()) throwOpError(std::string(name) + ": " + outcome.error, outcome.earlier);
  }

  void drain() {
    if (worker_.joinable()) runAndWait("drain", [] {}, /*timed=*/false);
  }

  // The first error of a queued op since the last call that reported one, cleared; "" if none.
  std::string takeError() {
    if (!failed_.load(std::memory_order_acquire)) return "";
    std::lock_guard<std::mutex> lock(errorMutex_);
    failed_.store(false, std::memory_order_relaxed);
    return std::move(error_);
  }
  // Clears that error when `message`, an error being reported, already names it (a read whose
  // input its op left unmade), so that an unrelated call does not report it again.
  void clearErrorNamedIn(const std::string& message) {
    if (!failed_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(errorMutex_);
    if (!failed_.load(std::memory_order_relaxed) || message.find(error_) == std::string::npos) return;
    failed_.store(false, std::memory_order_relaxed);
    error_.clear();
  }

  // Stops the op thread after its current op, dropping the ops still queued: at the
  // environment's teardown or the process's exit, when nothing can read their results.
  void stop() {
    if (!worker_.joinable()) return;
    std::deque<Task> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      dropped.swap(tasks_);
    }
    wakeWorker_.notify_one();
    room_.notify_all();
    worker_.join();
    on_ = false;
  }

 private:
  static constexpr size_t kCapacity = 4096;
  static constexpr size_t kMaxReleases = 256;

  void loop() {
    // Inference mode for the thread's life: no op here records autograd history, and ATen then
    // skips its autograd and view-tracking dispatch (through the addon, small ops took 7.7-8.0
    // instead of 8.2-8.7 us each on libtorch 1.13's CPU build; the same kernels, the same bytes).
    c10::InferenceMode inference;
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (tasks_.empty() && !stopping_ && spinUs_.load(std::memory_order_relaxed) > 0) {
          uint64_t seen = pushed_.load(std::memory_order_relaxed);
          lock.unlock();
          pollFor(seen);
          lock.lock();
        }
        while (tasks_.empty() && !stopping_) {
          sleeping_ = true;
          wakeWorker_.wait(lock);
          sleeping_ = false;
        }
        if (stopping_) return;
        bool wasFull = tasks_.size() == kCapacity;
        task = std::move(tasks_.front());
        tasks_.pop_front();
        if (wasFull) room_.notify_one();
      }
      for (const HolderPtr& h : task.releases) h->release();
      task.releases.clear();
      try {
        if (task.timed)
          runTimed(task.name, task.run);
        else
          task.run();
      } catch (const std::exception& e) {
        record(opError(task.name, e));
      } catch (...) {
        record(std::string(task.name) + ": unknown error");
      }
    }
  }

  // Polls, for up to the spin time, until an op is pushed after the count `seen` (a stop waits
  // for the poll's end: at most kMaxSpinUs).
  void pollFor(uint64_t seen) {
    int64_t us = spinUs_.load(std::memory_order_relaxed);
    auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    while (pushed_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < end) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#else
      std::this_thread::yield();
#endif
    }
  }

  void record(std::string message) {
    std::lock_guard<std::mutex> lock(errorMutex_);
    if (failed_.load(std::memory_order_relaxed)) return;  // the first one is reported
    error_ = std::move(message);
    failed_.store(true, std::memory_order_release);
  }

  bool on_ = false;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wakeWorker_, room_;
  std::deque<Task> tasks_;
  // Freed handles waiting for the next task (under mutex_).
  std::vector<HolderPtr> releases_;
  bool sleeping_ = false, stopping_ = false;
  // Ops pushed so far (the op thread polls it without the lock), and the poll time.
  std::atomic<uint64_t> pushed_{0};
  std::atomic<int64_t> spinUs_{0};
  std::mutex errorMutex_;
  std::atomic<bool> failed_{false};
  std::string error_;
};

OpQueue& queue() {
  // Never destroyed: the environment's cleanup hook stops the thread before the process exits.
  static OpQueue* q = new OpQueue();
  return *q;
}

// An op that failed on the op thread, reported by the next call that queues or reads.
void throwQueuedError() {
  std::string error = queue().takeError();
  if (!error.empty()) throw EarlierOpFailed("an earlier op failed on the op thread: " + error);
}

// Runs `run` on the op thread, or now when the queue is off (its error then thrown at once,
// prefixed with `name` as the op thread's are); timed as an op unless `timed` is false.
void submit(const char* name, std::function<void()> run, bool timed = true) {
  throwQueuedError();
  if (!queue().on()) {
    try {
      c10::InferenceMode inference;  // as on the op thread
      if (timed)
        runTimed(name, run);
      else
        run();
    } catch (const std::exception& e) {
      throwOpError(opError(name, e), isEarlierFailure(e));
    }
    return;
  }
  queue().push(name, std::move(run), timed);
}

// What an op's outputs keep of its failure: its input's cause when it failed for want of that
// input, else its own name and error.
std::shared_ptr<const std::string> failureOf(const char* name, const std::exception& e) {
  const auto* notMade = dynamic_cast<const InputNotMade*>(&e);
  if (notMade && notMade->cause) return notMade->cause;
  return std::make_shared<const std::string>(opError(name, e));
}

// Drops the result handles of a call that throws: nothing will take them.
void dropHandles(napi_env env, const std::vector<napi_value>& handles) {
  for (napi_value h : handles) takeHandle(env, h, "its result");
}

}  // namespace

napi_value queueOp(napi_env env, const char* name, std::function<at::Tensor()> op) {
  auto out = std::make_shared<Holder>();
  napi_value handle = handleOf(env, out);
  try {
    submit(name, [name, out, op = std::move(op)] {
      try {
        out->t = op().contiguous();
      } catch (const std::exception& e) {
        out->failure = failureOf(name, e);
        throw;
      }
    });
  } catch (...) {
    dropHandles(env, {handle});
    throw;
  }
  return handle;
}

napi_value queueOps(napi_env env, const char* name, size_t count, std::function<std::vector<at::Tensor>()> op) {
  std::vector<HolderPtr> outs(count);
  std::vector<napi_value> handles(count);
  napi_value arr;
  check(napi_create_array_with_length(env, count, &arr), "create_array");
  for (size_t i = 0; i < count; ++i) {
    outs[i] = std::make_shared<Holder>();
    handles[i] = handleOf(env, outs[i]);
    check(napi_set_element(env, arr, (uint32_t)i, handles[i]), "set_element");
  }
  try {
    submit(name, [name, outs, op = std::move(op)] {
      try {
        std::vector<at::Tensor> ts = op();
        if (ts.size() != outs.size()) throw JsError("made " + std::to_string(ts.size()) + " tensors, not " + std::to_string(outs.size()));
        for (size_t i = 0; i < ts.size(); ++i) outs[i]->t = ts[i].contiguous();
      } catch (const std::exception& e) {
        auto failure = failureOf(name, e);
        for (const HolderPtr& out : outs) out->failure = failure;
        throw;
      }
    });
  } catch (...) {
    dropHandles(env, handles);
    throw;
  }
  return arr;
}

napi_value queueInPlace(napi_env env, const char* name, std::function<void()> op) {
  submit(name, std::move(op));
  return undefinedValue(env);
}

void runNow(const char* name, const std::function<void()>& f, bool timed) {
  if (!queue().on()) {
    submit(name, f, timed);
    return;
  }
  throwQueuedError();
  try {
    queue().runAndWait(name, f, timed);
  } catch (const std::exception& e) {
    queue().clearErrorNamedIn(e.what());
    throw;
  }
  // An op queued before this one that failed meanwhile is reported now, not at some later call.
  throwQueuedError();
}

void clearQueuedErrorNamedIn(const std::string& message) { queue().clearErrorNamedIn(message); }

void releaseAt(const Args& a, size_t i) {
  HolderPtr h = takeHandle(a.env, a.at(i), "argument " + std::to_string(i));
  if (!h) return;  // freed before
  if (!queue().on()) {
    h->release();
    return;
  }
  queue().release(std::move(h));
}

// setQueue(on): the op queue on (1) or off (0), after the ops queued so far have run.
static napi_value SetQueue(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    throwQueuedError();
    queue().setOn(a.num(0) != 0);
    return undefinedValue(a.env);
  });
}

bool queueOn() { return queue().on(); }
int64_t queueSpin() { return queue().spin(); }
int64_t releasesWaiting() { return static_cast<int64_t>(queue().releasesWaiting()); }

// setQueueSpin(us): how long the op thread polls for the next op before it sleeps (0: it sleeps
// at once, the default).
static napi_value SetQueueSpin(napi_env env, napi_callback_info info) {
  return guarded(env, info, [](const Args& a) {
    double us = a.num(0);
    if (!(us >= 0 && us <= OpQueue::kMaxSpinUs) || us != std::floor(us))
      throw JsError("setQueueSpin: microseconds must be a whole number from 0 to " + std::to_string(OpQueue::kMaxSpinUs));
    queue().setSpin(static_cast<int64_t>(us));
    return undefinedValue(a.env);
  });
}

void registerQueue(napi_env env, napi_value exports) {
  define(env, exports, {{"setQueue", SetQueue}, {"setQueueSpin", SetQueueSpin}});
  // The op thread must not run while libtorch's statics are destroyed: stopped at the teardown
  // of the environment that loaded the addon first (the one the engine runs in; the queue is
  // one per process), or at exit (process.exit() skips the teardown); registered after
  // libtorch's statics, the exit handler runs before their destructors.
  static bool registered = false;
  if (registered) return;
  registered = true;
  check(napi_add_env_cleanup_hook(env, [](void*) { queue().stop(); }, nullptr), "add_env_cleanup_hook");
  std::atexit([] { queue().stop(); });
}

}  // namespace dlcv_torch
